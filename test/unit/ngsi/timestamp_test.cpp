// ISO-8601 parsing (every shape Orion accepts) and timestamptz formatting.

#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ngsi/timestamp.hpp"
#include "ngsi/value.hpp"

namespace kafnus::ngsi {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kSecond = 1'000'000;
// 2025-06-26T11:00:00Z
constexpr std::int64_t k11 = 1750935600 * kSecond;

std::int64_t parse_ok(const std::string& s) {
  auto r = parse_iso8601(s);
  EXPECT_TRUE(r) << s << ": " << (r ? "" : r.err().message);
  return r ? r.value() : 0;
}

std::string parse_error(const std::string& s) {
  auto r = parse_iso8601(s);
  EXPECT_FALSE(r) << s << " parsed as " << (r ? format_utc(r.value()) : "");
  return r ? std::string() : r.err().message;
}

TEST(Timestamp, OrionRenderingWithMillisAndZ) { EXPECT_EQ(parse_ok("2025-06-26T11:00:00.000Z"), k11); }

TEST(Timestamp, EveryZoneShapeGivesTheSameInstant) {
  for (const char* s : {"2025-06-26T11:00:00Z", "2025-06-26T11:00:00", "2025-06-26T13:00:00+02",
                        "2025-06-26T13:00:00+0200", "2025-06-26T13:00:00+02:00", "2025-06-26T05:30:00-05:30",
                        "2025-06-26T05:30:00-0530", "2025-06-26T11:00:00+00:00", "2025-06-26T11:00:00-00",
                        "2025-06-26T11:00:00z", "2025-06-26 11:00:00", "2025-06-26t11:00:00Z"}) {
    EXPECT_EQ(parse_ok(s), k11) << s;
  }
}

TEST(Timestamp, OrionExampleWithHourOffset) {
  // Orion re-renders 2025-05-15T12:00:04+02 as 2025-05-15T10:00:04.000Z.
  EXPECT_EQ(parse_ok("2025-05-15T12:00:04+02"), parse_ok("2025-05-15T10:00:04.000Z"));
}

TEST(Timestamp, DateOnlyIsMidnightUtc) { EXPECT_EQ(parse_ok("2025-06-26"), k11 - std::int64_t{11} * 3600 * kSecond); }

TEST(Timestamp, HourOnlyAndMinutesOnly) {
  EXPECT_EQ(parse_ok("2025-06-26T11"), k11);
  EXPECT_EQ(parse_ok("2025-06-26T11Z"), k11);
  EXPECT_EQ(parse_ok("2025-06-26T13+02"), k11);
  EXPECT_EQ(parse_ok("2025-06-26T11:00"), k11);
  EXPECT_EQ(parse_ok("2025-06-26T11:30+00:30"), k11);
}

TEST(Timestamp, FractionsOfAnyLengthKeepMicrosecondsAndTruncateTheRest) {
  EXPECT_EQ(parse_ok("2025-06-26T11:00:00.5Z"), k11 + 500000);
  EXPECT_EQ(parse_ok("2025-06-26T11:00:00.123Z"), k11 + 123000);
  EXPECT_EQ(parse_ok("2025-06-26T11:00:00.123456Z"), k11 + 123456);
  EXPECT_EQ(parse_ok("2025-06-26T11:00:00.1234569999Z"), k11 + 123456);
  EXPECT_EQ(parse_ok("2025-06-26T11:00:00.000001"), k11 + 1);
  EXPECT_EQ(parse_ok("2025-06-26T11:00:00,25Z"), k11 + 250000);
  EXPECT_EQ(parse_ok("2025-06-26T11:00:00." + std::string(100, '9') + "Z"), k11 + 999999);
}

TEST(Timestamp, LeapYears) {
  EXPECT_EQ(format_utc(parse_ok("2024-02-29T12:00:00Z")), "2024-02-29 12:00:00.000000+00");
  EXPECT_EQ(format_utc(parse_ok("2000-02-29")), "2000-02-29 00:00:00.000000+00");  // divisible by 400
  EXPECT_THAT(parse_error("2023-02-29"), HasSubstr("day 29 does not exist in 2023-02"));
  EXPECT_THAT(parse_error("1900-02-29"), HasSubstr("does not exist"));  // divisible by 100 only
  EXPECT_THAT(parse_error("2024-02-30"), HasSubstr("it has 29 days"));
}

TEST(Timestamp, InvalidCalendarDates) {
  EXPECT_THAT(parse_error("2025-02-30"), HasSubstr("day 30 does not exist in 2025-02"));
  EXPECT_THAT(parse_error("2025-04-31"), HasSubstr("day 31"));
  EXPECT_THAT(parse_error("2025-13-01"), HasSubstr("month 13"));
  EXPECT_THAT(parse_error("2025-00-10"), HasSubstr("month 00"));
  EXPECT_THAT(parse_error("2025-01-00"), HasSubstr("day 00"));
  EXPECT_THAT(parse_error("0000-01-01"), HasSubstr("year 0000"));
}

TEST(Timestamp, InvalidTimes) {
  EXPECT_THAT(parse_error("2025-06-26T24:00:00Z"), HasSubstr("hour 24"));
  EXPECT_THAT(parse_error("2025-06-26T11:60:00Z"), HasSubstr("minute 60"));
  EXPECT_THAT(parse_error("2025-06-26T11:00:60Z"), HasSubstr("second 60"));
  EXPECT_THAT(parse_error("2025-06-26T11:00:00+24:00"), HasSubstr("offset"));
  EXPECT_THAT(parse_error("2025-06-26T11:00:00+02:60"), HasSubstr("offset"));
}

TEST(Timestamp, MalformedShapes) {
  for (const char* s : {"",
                        "2025",
                        "2025-6-26",
                        "25-06-26",
                        "2025/06/26",
                        "2025-06-26T",
                        "2025-06-26T1",
                        "2025-06-26T11:",
                        "2025-06-26T11:0",
                        "2025-06-26T11:00:",
                        "2025-06-26T11:00:00.",
                        "2025-06-26T11:00:00.Z",
                        "2025-06-26T11:00:00+2",
                        "2025-06-26T11:00:00+020",
                        "2025-06-26T11:00:00+02:0",
                        "2025-06-26T11:00:00ZZ",
                        "2025-06-26T11:00:00 Z",
                        " 2025-06-26",
                        "2025-06-26 ",
                        "2025-06-26X11",
                        "now",
                        "null",
                        "2025-06-26T11:00:00.5+",
                        "2025-06-26T11:00.5"}) {
    EXPECT_FALSE(parse_iso8601(s)) << s;
  }
}

TEST(Timestamp, ErrorsSayWhatIsWrongWithoutQuotingInput) {
  EXPECT_THAT(parse_error("garbage"), HasSubstr("YYYY-MM-DD"));
  EXPECT_THAT(parse_error("2025-06-26T11:00:00 trailing"), HasSubstr("unexpected text"));
}

TEST(Timestamp, RangeIsYearsOneToNineThousandNineHundredNinetyNineInUtc) {
  EXPECT_EQ(format_utc(parse_ok("0001-01-01T00:00:00Z")), "0001-01-01 00:00:00.000000+00");
  EXPECT_EQ(format_utc(parse_ok("9999-12-31T23:59:59.999999Z")), "9999-12-31 23:59:59.999999+00");
  EXPECT_THAT(parse_error("0001-01-01T00:00:00+01:00"), HasSubstr("outside years 0001..9999"));
  EXPECT_THAT(parse_error("9999-12-31T23:00:00-01:00"), HasSubstr("outside years"));
}

TEST(Timestamp, BeforeTheEpoch) {
  EXPECT_EQ(parse_ok("1969-12-31T23:59:59.5Z"), -500000);
  EXPECT_EQ(format_utc(-500000), "1969-12-31 23:59:59.500000+00");
  EXPECT_EQ(format_utc(-1), "1969-12-31 23:59:59.999999+00");
}

TEST(Timestamp, FormatIsPostgresTimestamptzInput) {
  EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00.000000+00");
  EXPECT_EQ(format_utc(k11 + 123456), "2025-06-26 11:00:00.123456+00");
  EXPECT_EQ(format_utc(parse_ok("2025-12-31T23:59:59.999Z")), "2025-12-31 23:59:59.999000+00");
  std::string after = "at ";
  append_utc(after, 0);
  EXPECT_EQ(after, "at 1970-01-01 00:00:00.000000+00");
}

TEST(Timestamp, FormatCoversEveryInt64) {
  EXPECT_EQ(format_utc(INT64_MAX), "294247-01-10 04:00:54.775807+00");
  const auto min = format_utc(INT64_MIN);
  EXPECT_THAT(min, HasSubstr(" BC"));
  EXPECT_THAT(format_utc(parse_ok("0001-01-01") - 1), "0001-12-31 23:59:59.999999+00 BC");
}

TEST(Timestamp, RoundTripsThroughFormat) {
  for (const char* s : {"2025-06-26T11:00:00.000Z", "1999-12-31T23:59:59.999999Z", "2024-02-29T00:00:00Z",
                        "1970-01-01T00:00:00Z", "2038-01-19T03:14:08Z"}) {
    const auto micros = parse_ok(s);
    std::string iso = format_utc(micros);
    iso[10] = 'T';
    iso.replace(iso.size() - 3, 3, "Z");
    EXPECT_EQ(parse_ok(iso), micros) << s;
  }
}

TEST(Timestamp, ValueCarriesTextAndInstant) {
  const auto v = value::timestamp(k11);
  EXPECT_EQ(v.kind, value_kind::timestamp);
  EXPECT_EQ(v.text, "2025-06-26 11:00:00.000000+00");
  EXPECT_EQ(v.micros, k11);
}

// read_instant reads Orion's form from its digits and everything else
// through parse_iso8601: the two must agree on the instant, the text and
// the error, for that form in every year, month and day and for the forms
// around it (another zone, a comma, seven digits of fraction, a
// lower-case 'z', a day the month lacks, a leap second, …).
TEST(Timestamp, ReadInstantIsParseThenFormat) {
  const auto same = [](const std::string& s) {
    std::string text = "kept:";
    const auto got = read_instant(s, text);
    const auto want = parse_iso8601(s);
    ASSERT_EQ(static_cast<bool>(got), static_cast<bool>(want)) << s;
    if (!want) {
      EXPECT_EQ(got.err().message, want.err().message) << s;
      EXPECT_EQ(text, "kept:") << s;
      return;
    }
    EXPECT_EQ(got.value(), want.value()) << s;
    EXPECT_EQ(text, "kept:" + format_utc(want.value())) << s;
  };
  std::mt19937_64 rng(11);
  const auto digits = [&rng](int n) {
    std::string d;
    for (int k = 0; k < n; ++k) d += static_cast<char>('0' + rng() % 10);
    return d;
  };
  const auto two = [](unsigned v) { return std::string(1, static_cast<char>('0' + v / 10)) + char('0' + v % 10); };
  for (int i = 0; i < 20000; ++i) {
    const unsigned year = 1 + static_cast<unsigned>(rng() % 9999);
    char y[5];
    std::snprintf(y, sizeof y, "%04u", year);
    // Day 1 to 31 in every month: the days a month lacks are errors.
    const std::string date = std::string(y) + "-" + two(1 + rng() % 12) + "-" + two(1 + rng() % 31);
    const std::string time = two(rng() % 24) + ":" + two(rng() % 60) + ":" + two(rng() % 60);
    const std::string fraction = i % 8 == 0 ? "" : "." + digits(1 + static_cast<int>(rng() % 6));
    same(date + "T" + time + fraction + "Z");
  }
  for (const char* s : {"2025-06-26T11:00:00.000Z",    "2025-06-26T11:00:00Z",
                        "2025-06-26T11:00:00.123456Z", "2025-06-26T11:00:00.1234567Z",
                        "2025-06-26T11:00:00.Z",       "2025-06-26T11:00:00,5Z",
                        "2025-06-26T11:00:00.5z",      "2025-06-26t11:00:00.5Z",
                        "2025-06-26 11:00:00.5Z",      "2025-06-26T11:00:00.000+02:00",
                        "2025-06-26T11:00:00.000",     "2025-06-26",
                        "2024-02-29T00:00:00Z",        "2023-02-29T00:00:00Z",
                        "2025-04-31T00:00:00Z",        "2025-13-01T00:00:00Z",
                        "2025-00-10T00:00:00Z",        "2025-06-00T00:00:00Z",
                        "0000-01-01T00:00:00Z",        "0001-01-01T00:00:00.000000Z",
                        "9999-12-31T23:59:59.999999Z", "2025-06-26T24:00:00Z",
                        "2025-06-26T23:60:00Z",        "2025-06-26T23:59:60Z",
                        "2025-06-26T1a:00:00Z",        "2025-06-26T11:00:00.0a0Z",
                        "2025-06-26X11:00:00Z",        "2025/06/26T11:00:00Z",
                        "+025-06-26T11:00:00Z",        "2025-06-26T11:00:00.000ZZ",
                        "2025-06-26T11:00:00.000 Z",   ""}) {
    same(s);
  }
}

}  // namespace
}  // namespace kafnus::ngsi
