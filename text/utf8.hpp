#pragma once
// UTF-8, the one validator: what PostgreSQL's text, the Prometheus exposition
// format and JSON accept (no overlong forms, no UTF-16 surrogates, nothing
// past U+10FFFF).

#include <cstddef>
#include <string>
#include <string_view>

namespace kafnus::text {

// The length of the well-formed UTF-8 sequence `s` starts with, or 0.
std::size_t utf8_sequence_length(std::string_view s) noexcept;
bool is_valid_utf8(std::string_view s) noexcept;

// Writes code point `cp` (at most U+10FFFF) as UTF-8 at `out`: 1 to 4 bytes,
// their number returned.
std::size_t encode_utf8(char32_t cp, char* out) noexcept;

// `s` with every byte that is not part of a well-formed sequence replaced by
// U+FFFD.
std::string to_valid_utf8(std::string_view s);

// The longest prefix of `s` of at most `max_bytes` that does not cut a
// multi-byte sequence in two.
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes) noexcept;

inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace kafnus::text
