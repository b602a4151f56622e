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
    std::uint64_t tail = 0;
    if (i < s.size()) std::memcpy(&tail, s.data() + i, s.size() - i);  // (an empty view's data may be null)
    mix(tail ^ (static_cast<std::uint64_t>(s.size()) << 56));
  }
};

}  // namespace kafnus::text
