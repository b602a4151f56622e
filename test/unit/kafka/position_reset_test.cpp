// What happens to a position outside its partition's range.

#include <gtest/gtest.h>

#include "kafka/position_reset.hpp"

using kafnus::kafka::decide_position_reset;
using kafnus::kafka::out_of_range_policy;
using kafnus::kafka::parse_out_of_range_policy;

TEST(PositionReset, BeyondTheEndOfARecreatedTopicReadsItFromItsStart) {
  auto r = decide_position_reset(20, 0, 10, out_of_range_policy::earliest);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->beyond_end);
  EXPECT_EQ(r->target, 0);
  EXPECT_EQ(r->lost, 0);
  EXPECT_FALSE(r->in_range);
}

TEST(PositionReset, BelowTheOldestRecordSaysHowManyWereLost) {
  auto r = decide_position_reset(100, 250, 400, out_of_range_policy::earliest);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->beyond_end);
  EXPECT_EQ(r->target, 250);
  EXPECT_EQ(r->lost, 150);
}

TEST(PositionReset, LatestSkipsToTheEndAndCountsWhatItSkipped) {
  auto r = decide_position_reset(100, 250, 400, out_of_range_policy::latest);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->target, 400);
  EXPECT_EQ(r->lost, 150);
  EXPECT_EQ(r->skipped, 150);
}

TEST(PositionReset, FailLeavesTheDecisionToAnOperator) {
  EXPECT_FALSE(decide_position_reset(20, 0, 10, out_of_range_policy::fail));
}

TEST(PositionReset, APositionInsideTheRangeIsFetchedAgain) {
  for (auto p : {out_of_range_policy::earliest, out_of_range_policy::latest, out_of_range_policy::fail}) {
    auto r = decide_position_reset(5, 0, 10, p);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->in_range);
    EXPECT_EQ(r->target, 5);
  }
  auto at_end = decide_position_reset(10, 0, 10, out_of_range_policy::fail);
  ASSERT_TRUE(at_end) << "the end itself is a valid position (the next record)";
  EXPECT_TRUE(at_end->in_range);
}

TEST(PositionReset, PolicyNames) {
  EXPECT_EQ(parse_out_of_range_policy("earliest"), out_of_range_policy::earliest);
  EXPECT_EQ(parse_out_of_range_policy("latest"), out_of_range_policy::latest);
  EXPECT_EQ(parse_out_of_range_policy("fail"), out_of_range_policy::fail);
  EXPECT_FALSE(parse_out_of_range_policy("Earliest"));
}
