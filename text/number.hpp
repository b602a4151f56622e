#pragma once
// Decimal text to double, exactly as std::from_chars reads it.

#include <string_view>

namespace kafnus::text {

// Reads all of `s` (an optional '-', digits, an optional fraction and
// exponent: std::from_chars' general format) into `out`; false when `s`
// is not one such number, or holds anything else. The result is the
// correctly rounded double, as std::from_chars gives: a plain decimal of at
// most 15 digits (a coordinate, a reading) is read without it, as its
// integer digits divided by a power of ten, both exact doubles, in one
// correctly rounded division (Clinger's fast path); anything else goes to
// std::from_chars.
bool read_double(std::string_view s, double& out) noexcept;

}  // namespace kafnus::text
