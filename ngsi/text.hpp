#pragma once
// Small text helpers of the NGSI core.

#include <string>
#include <string_view>

namespace kafnus::ngsi {

// ASCII lower-case; other bytes (UTF-8 sequences) are kept as they are.
std::string ascii_lower(std::string_view s);

// Whitespace (space, tab, CR, LF) trimmed from both ends.
std::string_view trim(std::string_view s);

// `s` cut to about `max` bytes on a UTF-8 boundary, with "…" when cut: for
// quoting input in error messages without echoing megabytes of it.
std::string excerpt(std::string_view s, std::size_t max = 200);

// Whether `s` is well-formed UTF-8 (no overlong forms, no surrogates).
bool valid_utf8(std::string_view s);

}  // namespace kafnus::ngsi
