#pragma once
// The string helpers every folder shares: ASCII case folding, trimming,
// splitting, joining and padding. Case folding is ASCII only, on purpose: header
// names, NGSI type names, configuration names and PostgreSQL's own folding of
// unquoted identifiers are all ASCII, and a byte-wise rule never changes the
// length of a name.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace kafnus::text {

constexpr char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
// The value of a hex digit (either case), or -1.
constexpr int hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
std::string to_lower_ascii(std::string_view s);
// Appends `s` lower-cased to `out` (no string of its own).
void append_lower_ascii(std::string& out, std::string_view s);
// The eight bytes of `word` lower-cased (SWAR): a byte gets 0x20 added
// where it is 'A'..'Z', found by two additions that carry into its top bit.
inline std::uint64_t lower_ascii_word(std::uint64_t word) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  const std::uint64_t low7 = word & (0x7F * kOnes);
  const std::uint64_t above_z = low7 + (0x7F - 'Z') * kOnes;               // top bit: the byte's low 7 bits > 'Z'
  const std::uint64_t from_a = low7 + (0x80 - 'A') * kOnes;                // top bit: >= 'A'
  const std::uint64_t upper = from_a & ~above_z & ~word & (0x80 * kOnes);  // and the byte is ASCII
  return word | upper >> 2;                                                // 0x80 >> 2 == 0x20
}
// Eight bytes at p as one word (any alignment).
inline std::uint64_t load_word(const char* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, 8);
  return word;
}
// The first and the last four of the 4 to 8 bytes at p, as one word (the
// first four in its low half): two overlapping loads, for names too short
// for a whole word.
inline std::uint64_t load_ends4(const char* p, std::size_t n) noexcept {
  std::uint32_t head = 0;
  std::uint32_t tail = 0;
  std::memcpy(&head, p, 4);
  std::memcpy(&tail, p + n - 4, 4);
  return head | static_cast<std::uint64_t>(tail) << 32;
}
// Writes `s` lower-cased at `out` (room for s.size() bytes; `out` may be
// s.data() itself); the end of what it wrote. Through pointers: a store
// through a string's operator[] could change its size as far as the
// compiler knows, which it would then read again every byte. Eight bytes at
// a time, the last eight overlapping the word before (lower-casing a byte
// twice changes nothing), and a name of 4 to 7 bytes as two overlapping
// 4-byte pieces: no loop over the last bytes one by one.
inline char* copy_lower_ascii(std::string_view s, char* out) noexcept {
  const char* const p = s.data();
  const std::size_t n = s.size();
  if (n >= 8) {
    for (std::size_t i = 0; i + 8 < n; i += 8) {
      const std::uint64_t word = lower_ascii_word(load_word(p + i));
      std::memcpy(out + i, &word, 8);
    }
    const std::uint64_t last = lower_ascii_word(load_word(p + n - 8));
    std::memcpy(out + n - 8, &last, 8);
    return out + n;
  }
  if (n >= 4) {
    const std::uint64_t ends = lower_ascii_word(load_ends4(p, n));
    const auto head = static_cast<std::uint32_t>(ends);
    const auto tail = static_cast<std::uint32_t>(ends >> 32);
    std::memcpy(out, &head, 4);
    std::memcpy(out + n - 4, &tail, 4);
    return out + n;
  }
  for (std::size_t i = 0; i < n; ++i) out[i] = ascii_lower(p[i]);
  return out + n;
}
// iequals (below) for two strings of the same length, eight bytes or more:
// a word at a time (header names).
bool iequals_words(std::string_view a, std::string_view b) noexcept;
// Inline: the NGSI code calls it for every attribute, mostly on names of
// another length or short ones.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  if (n >= 8) return iequals_words(a, b);
  if (n >= 4) return lower_ascii_word(load_ends4(a.data(), n)) == lower_ascii_word(load_ends4(b.data(), n));
  for (std::size_t i = 0; i < n; ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}
// Inline too: called with a literal prefix ("geo:") for every attribute.
inline bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}
// Case-sensitive (C++17 has no std::string_view::starts_with).
constexpr bool starts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.substr(0, prefix.size()) == prefix;
}

// `s` without leading and trailing spaces, tabs, carriage returns and newlines.
std::string_view trim(std::string_view s) noexcept;

// The trimmed, non-empty items of `s` between `sep`s ("a, ,b" -> {"a", "b"}).
std::vector<std::string> split(std::string_view s, char sep);

std::string join(const std::vector<std::string>& items, std::string_view sep = ",");

// `s` padded with spaces to `width` bytes, on the right (a left-aligned
// column) or on the left (a right-aligned one); longer text is kept whole.
std::string pad_right(std::string_view s, std::size_t width);
std::string pad_left(std::string_view s, std::size_t width);

}  // namespace kafnus::text
