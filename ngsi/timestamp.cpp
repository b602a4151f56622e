#include "ngsi/timestamp.hpp"

#include <array>
#include <cstring>
#include <string_view>

namespace kafnus::ngsi {
namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
constexpr std::int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil: exact for every year, no tables, no time zone database).
constexpr std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil {
  std::int64_t year;
  unsigned month;
  unsigned day;
};

constexpr civil civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2 ? 1 : 0), m, d};
}

constexpr bool is_leap(std::int64_t y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

constexpr unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  constexpr std::array<unsigned, 12> kDays{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// The instants ISO-8601's four-digit years can express (and PostgreSQL
// prints without an era suffix).
constexpr std::int64_t kMinMicros = days_from_civil(1, 1, 1) * kMicrosPerDay;
constexpr std::int64_t kMaxMicros = days_from_civil(10000, 1, 1) * kMicrosPerDay - 1;

class cursor {
 public:
  explicit cursor(std::string_view s) : s_(s) {}
  bool done() const noexcept { return i_ == s_.size(); }
  char peek() const noexcept { return done() ? '\0' : s_[i_]; }
  bool at_digit() const noexcept { return peek() >= '0' && peek() <= '9'; }
  void advance() noexcept { ++i_; }
  bool eat(char c) noexcept {
    if (done() || s_[i_] != c) return false;
    ++i_;
    return true;
  }
  // Exactly n ASCII digits.
  bool digits(int n, int& out) noexcept {
    int v = 0;
    for (int k = 0; k < n; ++k) {
      if (!at_digit()) return false;
      v = v * 10 + (s_[i_] - '0');
      ++i_;
    }
    out = v;
    return true;
  }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

std::string two_digits(int v) { return (v < 10 ? "0" : "") + std::to_string(v); }

// v (>= 0) as decimal digits at p, at least `width` of them (zeros in
// front); the end of what was written. Written from the last digit back,
// into place: a year's four, a fraction's six, and a digit more for each
// power of ten v reaches beyond them.
char* put_digits(char* p, std::int64_t v, int width) noexcept {
  std::int64_t bound = 1;
  for (int i = 0; i < width; ++i) bound *= 10;
  int n = width;
  for (std::int64_t rest = v / bound; rest > 0; rest /= 10) ++n;
  for (int k = n - 1; k >= 0; --k) {
    p[k] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  return p + n;
}

// 0 <= v < 100 as two digits at p.
char* put2(char* p, std::int64_t v) noexcept {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
  return p + 2;
}

}  // namespace

result<std::int64_t> parse_iso8601(std::string_view text) {
  cursor c(text);
  int year = 0, month = 0, day = 0;
  if (!c.digits(4, year) || !c.eat('-') || !c.digits(2, month) || !c.eat('-') || !c.digits(2, day)) {
    return make_error("expected a date YYYY-MM-DD at the start");
  }
  if (year < 1) return make_error("year 0000 does not exist (years start at 0001)");
  if (month < 1 || month > 12) return make_error("month " + two_digits(month) + " is out of range 01..12");
  const unsigned dim = days_in_month(year, static_cast<unsigned>(month));
  if (day < 1 || static_cast<unsigned>(day) > dim) {
    return make_error("day " + two_digits(day) + " does not exist in " + std::to_string(year) + "-" +
                      two_digits(month) + " (it has " + std::to_string(dim) + " days)");
  }
  int hour = 0, minute = 0, second = 0;
  std::int64_t fraction_us = 0;
  int offset_minutes = 0;
  if (!c.done()) {
    if (!c.eat('T') && !c.eat('t') && !c.eat(' ')) {
      return make_error("expected 'T' or a space between the date and the time");
    }
    if (!c.digits(2, hour)) return make_error("expected the hour (HH) after the date");
    if (c.eat(':')) {
      if (!c.digits(2, minute)) return make_error("expected the minutes (MM) after 'HH:'");
      if (c.eat(':')) {
        if (!c.digits(2, second)) return make_error("expected the seconds (SS) after 'HH:MM:'");
        if (c.eat('.') || c.eat(',')) {
          if (!c.at_digit()) return make_error("expected digits after the decimal separator of the seconds");
          std::int64_t scale = 100000;
          while (c.at_digit()) {
            // Digits beyond microseconds are truncated: PostgreSQL keeps six.
            fraction_us += (c.peek() - '0') * scale;
            scale /= 10;
            c.advance();
          }
        }
      }
    }
    if (hour > 23) return make_error("hour " + two_digits(hour) + " is out of range 00..23");
    if (minute > 59) return make_error("minute " + two_digits(minute) + " is out of range 00..59");
    if (second > 59) return make_error("second " + two_digits(second) + " is out of range 00..59");
    if (c.eat('Z') || c.eat('z')) {
      // UTC, like no zone at all.
    } else if (c.peek() == '+' || c.peek() == '-') {
      const int sign = c.peek() == '-' ? -1 : 1;
      c.advance();
      int oh = 0, om = 0;
      if (!c.digits(2, oh)) return make_error("expected the offset hours (±HH) of the time zone");
      if (c.eat(':')) {
        if (!c.digits(2, om)) return make_error("expected the offset minutes after '±HH:'");
      } else if (c.at_digit() && !c.digits(2, om)) {
        return make_error("expected four digits in a ±HHMM offset");
      }
      if (oh > 23 || om > 59) return make_error("the time zone offset is out of range (at most ±23:59)");
      offset_minutes = sign * (oh * 60 + om);
    }
    if (!c.done()) return make_error("unexpected text after the time; expected the end, 'Z' or an offset like +02:00");
  }
  const std::int64_t days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const std::int64_t local_seconds = days * 86400 + std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 + second;
  const std::int64_t utc_micros =
      (local_seconds - static_cast<std::int64_t>(offset_minutes) * 60) * kMicrosPerSecond + fraction_us;
  if (utc_micros < kMinMicros || utc_micros > kMaxMicros) {
    return make_error("the instant falls outside years 0001..9999 once converted to UTC");
  }
  return utc_micros;
}

std::string format_utc(std::int64_t micros) {
  std::string out;
  out.reserve(32);
  append_utc(out, micros);
  return out;
}

void append_utc(std::string& out, std::int64_t micros) {
  // Floor division: an instant before the epoch belongs to the previous day.
  std::int64_t days = micros / kMicrosPerDay;
  std::int64_t rem = micros % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  const civil cd = civil_from_days(days);
  const std::int64_t secs = rem / kMicrosPerSecond;
  const std::int64_t frac = rem % kMicrosPerSecond;
  const bool bc = cd.year <= 0;
  // Written into a buffer and appended once: "YYYY-MM-DD HH:MM:SS.ffffff+00 BC".
  std::array<char, 48> buf;  // NOLINT(cppcoreguidelines-pro-type-member-init): written before it is read
  char* p = put_digits(buf.data(), bc ? 1 - cd.year : cd.year, 4);
  *p++ = '-';
  p = put2(p, cd.month);
  *p++ = '-';
  p = put2(p, cd.day);
  *p++ = ' ';
  p = put2(p, secs / 3600);
  *p++ = ':';
  p = put2(p, secs / 60 % 60);
  *p++ = ':';
  p = put2(p, secs % 60);
  *p++ = '.';
  p = put_digits(p, frac, 6);
  const std::string_view zone = bc ? "+00 BC" : "+00";
  std::memcpy(p, zone.data(), zone.size());
  p += zone.size();
  out.append(buf.data(), static_cast<std::size_t>(p - buf.data()));
}

namespace {

// The value of the two decimal digits at p, or -1 when either is not one.
int two_digit_value(const char* p) noexcept {
  const auto a = static_cast<unsigned>(p[0] - '0');
  const auto b = static_cast<unsigned>(p[1] - '0');
  return a <= 9 && b <= 9 ? static_cast<int>(a * 10 + b) : -1;
}

// The form Orion writes and most devices send, "YYYY-MM-DDTHH:MM:SSZ" with
// 1 to 6 digits of fraction or none, every field in range: its instant,
// and its timestamptz text made from its own digits (no calendar
// arithmetic back from the instant). False for anything else, which the
// general parser reads (and explains when it is wrong).
bool read_plain_utc(std::string_view t, std::int64_t& micros, std::string& out) {
  const std::size_t n = t.size();
  if (n < 20 || n > 27 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' ||
      t[n - 1] != 'Z' || (n > 20 && (n == 21 || t[19] != '.'))) {
    return false;
  }
  const char* p = t.data();
  const int century = two_digit_value(p);
  const int year_in = two_digit_value(p + 2);
  const int month = two_digit_value(p + 5);
  const int day = two_digit_value(p + 8);
  const int hour = two_digit_value(p + 11);
  const int minute = two_digit_value(p + 14);
  const int second = two_digit_value(p + 17);
  if ((century | year_in | month | day | hour | minute | second) < 0) return false;
  const int year = century * 100 + year_in;
  if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59 ||
      static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month))) {
    return false;
  }
  // The fraction, padded to microseconds.
  char fraction[6] = {'0', '0', '0', '0', '0', '0'};
  std::int64_t fraction_us = 0;
  const std::size_t digits = n > 20 ? n - 21 : 0;
  for (std::size_t k = 0; k < 6; ++k) {
    if (k < digits) {
      const auto d = static_cast<unsigned>(p[20 + k] - '0');
      if (d > 9) return false;
      fraction[k] = p[20 + k];
    }
    fraction_us = fraction_us * 10 + (fraction[k] - '0');
  }
  micros = (days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day)) * 86400 +
            std::int64_t{hour} * 3600 + std::int64_t{minute} * 60 + second) *
               kMicrosPerSecond +
           fraction_us;
  // "YYYY-MM-DD HH:MM:SS.ffffff+00", as append_utc writes it.
  char buf[29];
  std::memcpy(buf, p, 19);
  buf[10] = ' ';
  buf[19] = '.';
  std::memcpy(buf + 20, fraction, 6);
  buf[26] = '+';
  buf[27] = '0';
  buf[28] = '0';
  out.append(buf, sizeof buf);
  return true;
}

}  // namespace

result<std::int64_t> read_instant(std::string_view text, std::string& out) {
  std::int64_t micros = 0;
  if (read_plain_utc(text, micros, out)) return micros;
  auto parsed = parse_iso8601(text);
  if (parsed) append_utc(out, parsed.value());
  return parsed;
}

}  // namespace kafnus::ngsi
