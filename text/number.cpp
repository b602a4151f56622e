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
  int count = 0;  // digits read, stopping one past the most the fast path takes
  const auto read_digits = [&] {
    const char* const from = p;
    for (; p != end && *p >= '0' && *p <= '9' && count <= kMaxDigits; ++p, ++count) {
      digits = digits * 10 + static_cast<std::uint64_t>(*p - '0');
    }
    return static_cast<int>(p - from);
  };
  const int whole = read_digits();
  int fraction = 0;
  bool bare_point = false;  // "1.": from_chars' to judge
  if (whole > 0 && p != end && *p == '.') {
    ++p;
    fraction = read_digits();
    bare_point = fraction == 0;
  }
  if (p == end && whole > 0 && count <= kMaxDigits && !bare_point) {
    const double v = static_cast<double>(digits) / kPowersOfTen[fraction];
    out = negative ? -v : v;
    return true;
  }
  const auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && ptr == end;
}

}  // namespace kafnus::text
