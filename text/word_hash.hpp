#pragma once
// A fast non-cryptographic hash of several fields, eight bytes per step, for
// in-process lookups (row shapes and layouts): FNV-1a's byte-by-byte
// multiply chain over every column name was a seventh of the writer's CPU in
// a lastdata catch-up. Not for anything an attacker's collisions could hurt
// beyond a slower lookup: every user compares the keys it finds.

#include <cstdint>
#include <cstring>
#include <string_view>

namespace kafnus::text {

struct word_hash {
  std::uint64_t h = 0x9E3779B97F4A7C15ULL;
  void mix(std::uint64_t v) noexcept {
    h = (h ^ v) * 0xFF51AFD7ED558CCDULL;
    h ^= h >> 29;
  }
  void add_byte(unsigned char b) noexcept { mix(0x100U | b); }
  // One field of several: its length goes with its last word.
  void add(std::string_view s) noexcept {
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, s.data() + i, 8);
      mix(w);
    }
    const std::uint64_t tail = i < s.size() ? load_tail(s.data() + i, s.size() - i) : 0;
    mix(tail ^ (static_cast<std::uint64_t>(s.size()) << 56));
  }

  // The `r` (1 to 7) bytes at `p` as the low bytes of a word, the rest 0:
  // what a memcpy into a zeroed word gives on a little-endian machine,
  // without a call for a length only known at run time (two overlapping
  // 4-byte loads, or three single bytes).
  static std::uint64_t load_tail(const char* p, std::size_t r) noexcept {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (r >= 4) {
      std::uint32_t lo = 0;
      std::uint32_t hi = 0;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, p + r - 4, 4);
      return lo | (static_cast<std::uint64_t>(hi) << (8 * (r - 4)));
    }
    const auto byte = [p](std::size_t k) { return static_cast<std::uint64_t>(static_cast<unsigned char>(p[k])); };
    return byte(0) | byte(r / 2) << (8 * (r / 2)) | byte(r - 1) << (8 * (r - 1));
#else
    std::uint64_t w = 0;
    std::memcpy(&w, p, r);
    return w;
#endif
  }
};

}  // namespace kafnus::text
