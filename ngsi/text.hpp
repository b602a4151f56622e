#pragma once
// Byte-string helpers shared by ngsi/: ASCII case folding, and the excerpts
// through which error messages quote input.

#include <cstddef>
#include <string>
#include <string_view>

namespace kafnus::ngsi {

// Case folding is ASCII only, on purpose: header names, NGSI type names and
// PostgreSQL's own folding of unquoted identifiers are all ASCII, and a
// byte-wise rule never changes the length of a name.
constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
std::string to_lower_ascii(std::string_view s);
bool iequals(std::string_view a, std::string_view b) noexcept;
bool istarts_with(std::string_view s, std::string_view prefix) noexcept;

// The length of the well-formed UTF-8 sequence `s` starts with, or 0.
std::size_t utf8_sequence_length(std::string_view s) noexcept;
bool is_valid_utf8(std::string_view s) noexcept;

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
