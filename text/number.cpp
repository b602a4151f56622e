#include "text/number.hpp"

#include <charconv>
#include <cstdint>
#include <system_error>

namespace kafnus::text {
namespace {

// The powers of ten a plain decimal of at most 15 digits divides by; each
// is exact as a double.
constexpr double kPowersOfTen[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
constexpr int kMaxDigits = 15;  // 10^15 < 2^53: the digits are an exact double

}  // namespace

bool read_double(std::string_view s, double& out) noexcept {
  const char* p = s.data();
  const char* const end = p + s.size();
  const bool negative = p != end && *p == '-';
  if (negative) ++p;
  std::uint64_t digits = 0;
  int count = 0;
  int fraction = 0;
  const char* const first = p;
  for (; p != end && *p >= '0' && *p <= '9' && count <= kMaxDigits; ++p, ++count) {
    digits = digits * 10 + static_cast<std::uint64_t>(*p - '0');
  }
  if (p != first && p != end && *p == '.') {
    const char* const point = p++;
    for (; p != end && *p >= '0' && *p <= '9' && count <= kMaxDigits; ++p, ++count) {
      digits = digits * 10 + static_cast<std::uint64_t>(*p - '0');
    }
    fraction = static_cast<int>(p - point - 1);
  }
  if (p == end && p != first && count <= kMaxDigits && (fraction > 0 || s.back() != '.')) {
    const double v = static_cast<double>(digits) / kPowersOfTen[fraction];
    out = negative ? -v : v;
    return true;
  }
  const auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && ptr == end;
}

}  // namespace kafnus::text
