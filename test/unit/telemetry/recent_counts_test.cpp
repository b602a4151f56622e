// Error-log rows of the last hour per service, in one-minute buckets.

#include <gtest/gtest.h>

#include "telemetry/recent_counts.hpp"

using kafnus::recent_counts;
using namespace std::chrono_literals;

namespace {
const recent_counts::clock::time_point t0{std::chrono::hours(490000)};  // a whole hour
}

TEST(RecentCounts, SumsEachKeyOverTheLastHour) {
  recent_counts c;
  c.add("a", 2, t0);
  c.add("a", 3, t0 + 30s);
  c.add("b", 1, t0 + 10min);
  const auto h = c.last_hour(t0 + 20min);
  EXPECT_EQ(h.at("a"), 5);
  EXPECT_EQ(h.at("b"), 1);
}

TEST(RecentCounts, ForgetsWhatIsOlderThanAnHour) {
  recent_counts c;
  c.add("a", 2, t0);
  c.add("a", 4, t0 + 50min);
  EXPECT_EQ(c.last_hour(t0 + 59min).at("a"), 6);
  EXPECT_EQ(c.last_hour(t0 + 60min).at("a"), 4) << "the first minute left the window";
  EXPECT_TRUE(c.last_hour(t0 + 111min).empty());
  c.add("a", 1, t0 + 120min);  // the same bucket as minute 0, reused
  EXPECT_EQ(c.last_hour(t0 + 120min).at("a"), 1);
}

TEST(RecentCounts, KeysBeyondTheLimitShareOther) {
  recent_counts c(2);
  c.add("a", 1, t0);
  c.add("b", 1, t0);
  c.add("c", 1, t0);
  c.add("d", 2, t0);
  const auto h = c.last_hour(t0);
  EXPECT_EQ(h.size(), 3u);
  EXPECT_EQ(h.at("_other"), 3);
}
