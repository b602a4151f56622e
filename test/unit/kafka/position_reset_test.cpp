// What happens to a position outside its partition's range.

#include <gtest/gtest.h>

#include "kafka/position_reset.hpp"

using kafnus::config::out_of_range;
using kafnus::config::parse_enum;
using kafnus::kafka::decide_position_reset;

TEST(PositionReset, BeyondTheEndOfARecreatedTopicReadsItFromItsStart) {
  auto r = decide_position_reset(20, 0, 10, out_of_range::earliest);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->beyond_end);
  EXPECT_EQ(r->target, 0);
  EXPECT_EQ(r->lost, 0);
  EXPECT_FALSE(r->in_range);
}

TEST(PositionReset, BelowTheOldestRecordSaysHowManyWereLost) {
  auto r = decide_position_reset(100, 250, 400, out_of_range::earliest);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->beyond_end);
  EXPECT_EQ(r->target, 250);
  EXPECT_EQ(r->lost, 150);
}

TEST(PositionReset, LatestSkipsToTheEndAndCountsWhatItSkipped) {
  auto r = decide_position_reset(100, 250, 400, out_of_range::latest);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->target, 400);
  EXPECT_EQ(r->lost, 150);
  EXPECT_EQ(r->skipped, 150);
}

TEST(PositionReset, FailLeavesTheDecisionToAnOperator) {
  EXPECT_FALSE(decide_position_reset(20, 0, 10, out_of_range::fail));
}

TEST(PositionReset, APositionInsideTheRangeIsFetchedAgain) {
  for (auto p : {out_of_range::earliest, out_of_range::latest, out_of_range::fail}) {
    auto r = decide_position_reset(5, 0, 10, p);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->in_range);
    EXPECT_EQ(r->target, 5);
  }
  auto at_end = decide_position_reset(10, 0, 10, out_of_range::fail);
  ASSERT_TRUE(at_end) << "the end itself is a valid position (the next record)";
  EXPECT_TRUE(at_end->in_range);
}

TEST(PositionReset, PolicyNames) {
  EXPECT_EQ(parse_enum<out_of_range>("earliest"), out_of_range::earliest);
  EXPECT_EQ(parse_enum<out_of_range>("latest"), out_of_range::latest);
  EXPECT_EQ(parse_enum<out_of_range>("fail"), out_of_range::fail);
  EXPECT_FALSE(parse_enum<out_of_range>("Earliest"));
}
