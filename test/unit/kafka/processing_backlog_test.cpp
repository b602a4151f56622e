// What the processors hold and have not processed: the consumer's rule for
// taking more records from librdkafka.

#include "kafka/processing_backlog.hpp"

#include <gtest/gtest.h>

using kafnus::kafka::processing_backlog;

TEST(ProcessingBacklog, BusyOnlyOnceEveryProcessorHasItsLimitWaiting) {
  processing_backlog b(2, 100);
  EXPECT_FALSE(b.all_busy());
  auto first = b.ticket(0, 150);
  EXPECT_FALSE(b.all_busy()) << "processor 1 has nothing: records are taken for it";
  auto second = b.ticket(1, 99);
  EXPECT_FALSE(b.all_busy()) << "99 < 100";
  auto third = b.ticket(1, 1);
  EXPECT_TRUE(b.all_busy());
  first.reset();
  EXPECT_FALSE(b.all_busy()) << "processor 0 processed its batch";
  EXPECT_EQ(b.waiting(0), 0);
  EXPECT_EQ(b.waiting(1), 100);
}

TEST(ProcessingBacklog, ABatchCountsUntilItsLastCopyIsGone) {
  processing_backlog b(1, 10);
  auto ticket = b.ticket(0, 10);
  auto copy = ticket;  // a CAF message may be copied on its way
  ticket.reset();
  EXPECT_EQ(b.waiting(0), 10);
  EXPECT_TRUE(b.all_busy());
  copy.reset();
  EXPECT_EQ(b.waiting(0), 0) << "released once, not once per copy";
  EXPECT_FALSE(b.all_busy());
}

TEST(ProcessingBacklog, BytesTakenButNotHandedOverCount) {
  processing_backlog b(2, 100);
  auto t = b.ticket(0, 100);
  EXPECT_FALSE(b.all_busy({0, 99}));
  EXPECT_TRUE(b.all_busy({0, 100}));
  EXPECT_FALSE(b.all_busy({-1, 100})) << "taken bytes add to what waits";
}

TEST(ProcessingBacklog, AnEmptyPoolIsNeverBusy) {
  processing_backlog b(0, 0);
  EXPECT_FALSE(b.all_busy());
}

TEST(ProcessingBacklog, AResizedPoolStartsEmptyAndTicketsOfTheOldOneDoNotReachIt) {
  processing_backlog b(1, 10);
  auto old = b.ticket(0, 10);
  b.resize(2);
  EXPECT_EQ(b.size(), 2u);
  EXPECT_EQ(b.waiting(0), 0);
  auto now = b.ticket(0, 5);
  old.reset();  // a batch of the old pool, dropped or processed after the resize
  EXPECT_EQ(b.waiting(0), 5);
}

// The consumer transforms a poll's few records itself only where the
// partition's processor is idle: a batch of empty records (0 bytes) waits
// too, or the consumer's rows could overtake it.
TEST(ProcessingBacklog, AProcessorIsIdleOnlyOnceEveryBatchHandedToItIsGoneEvenAnEmptyOne) {
  processing_backlog b(2, 100);
  EXPECT_TRUE(b.idle(0));
  auto empty = b.ticket(0, 0);
  EXPECT_FALSE(b.idle(0)) << "a batch of empty records is still waiting";
  EXPECT_TRUE(b.idle(1)) << "the other processor has nothing";
  auto some = b.ticket(0, 40);
  empty.reset();
  EXPECT_FALSE(b.idle(0));
  some.reset();
  EXPECT_TRUE(b.idle(0));
}
