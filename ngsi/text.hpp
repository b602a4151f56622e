#pragma once
// How ngsi/'s error messages quote input (excerpts), and the shared string
// helpers of text/ under the names ngsi/ uses.

#include <cstddef>
#include <string>
#include <string_view>

#include "text/ascii.hpp"
#include "text/utf8.hpp"

namespace kafnus::ngsi {

using text::ascii_lower;
using text::iequals;
using text::is_valid_utf8;
using text::istarts_with;
using text::to_lower_ascii;
using text::utf8_sequence_length;

// How much of a name (entity id, type, attribute) or of a value an error
// message may quote. A message quotes at most a few of them, which keeps it
// within ~200 bytes of input however large the input is.
inline constexpr std::size_t kNameExcerpt = 48;
inline constexpr std::size_t kValueExcerpt = 64;

// `s` in single quotes, cut to `max_bytes` on a UTF-8 boundary with "…"
// appended when cut; control characters and bytes that are not UTF-8 are
// written as \n, \t, \xNN, so a message stays on one line and is valid UTF-8.
std::string quoted(std::string_view s, std::size_t max_bytes = kNameExcerpt);

}  // namespace kafnus::ngsi
