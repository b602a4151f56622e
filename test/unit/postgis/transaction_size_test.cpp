// Issue 17.2: what one transaction takes. A retry keeps to max_rows /
// max_bytes; a statement timeout on the same transaction twice halves it;
// the size grows back when the table allows; an unknown failure repeated
// switches the transaction to isolation.

#include <gtest/gtest.h>

#include "postgis/retry_backstop.hpp"
#include "postgis/transaction_size.hpp"

using namespace kafnus::postgis;

TEST(TransactionCut, TakesTheLeadingBatchesWithinTheLimits) {
  const std::vector<batch_extent> pending{{400, 1000}, {400, 1000}, {400, 1000}, {10, 10}};
  auto c = choose_cut(pending, 1000, 1 << 20);
  EXPECT_EQ(c.whole, 2u);  // a third would make 1,200 rows; the small fourth waits its turn (order)
  c = choose_cut(pending, 1000, 1500);
  EXPECT_EQ(c.whole, 1u);  // bytes
  c = choose_cut(pending, 5000, 1 << 20);
  EXPECT_EQ(c.whole, 4u);
  EXPECT_EQ(choose_cut({}, 10, 10).whole, 0u);
}

TEST(TransactionCut, AFirstBatchLargerThanTheLimitsIsSplit) {
  auto c = choose_cut({{14884, 1000}, {10, 10}}, 5000, 1 << 20);
  EXPECT_EQ(c.whole, 0u);
  EXPECT_EQ(c.split_rows, 5000);
  c = choose_cut({{1000, 4000}}, 5000, 1000);  // bytes: a quarter of it
  EXPECT_EQ(c.whole, 0u);
  EXPECT_EQ(c.split_rows, 250);
}

TEST(TransactionCut, SplitsAtARecordBoundary) {
  // Records ending at rows 3, 5, 5 (a record without rows), 9, 12.
  const std::vector<std::int64_t> ends{3, 5, 5, 9, 12};
  EXPECT_EQ(split_point(ends, 5), 3u);
  EXPECT_EQ(split_point(ends, 8), 3u);
  EXPECT_EQ(split_point(ends, 9), 4u);
  EXPECT_EQ(split_point(ends, 1), 1u);     // a record is never split: at least one
  EXPECT_EQ(split_point(ends, 100), 5u);   // everything fits: no split
  EXPECT_EQ(split_point({7000}, 10), 1u);  // one record: cannot split
}

TEST(TransactionSize, ATimeoutTwiceOnTheSameTransactionHalvesIt) {
  transaction_size size(1000, 60000);
  EXPECT_EQ(size.rows(), 1000);
  EXPECT_FALSE(size.on_statement_timeout(1000));
  EXPECT_EQ(size.rows(), 1000);
  EXPECT_TRUE(size.on_statement_timeout(1000));
  EXPECT_EQ(size.rows(), 500);
  EXPECT_FALSE(size.on_statement_timeout(500));  // counting starts over for the smaller one
  EXPECT_TRUE(size.on_statement_timeout(500));
  EXPECT_EQ(size.rows(), 250);
  // Never below one row.
  transaction_size tiny(1, 1000);
  tiny.on_statement_timeout(1);
  tiny.on_statement_timeout(1);
  EXPECT_EQ(tiny.rows(), 1);
}

TEST(TransactionSize, ACommitInBetweenMeansTheTimeoutsWereNotOfTheSameTransaction) {
  transaction_size size(1000, 60000);
  EXPECT_FALSE(size.on_statement_timeout(1000));
  size.on_commit(1000, 59.0);
  EXPECT_FALSE(size.on_statement_timeout(1000));
  EXPECT_EQ(size.rows(), 1000);
}

TEST(TransactionSize, GrowsBackWhenTheTableAllows) {
  transaction_size size(1000, 4000);  // 4 s timeout
  size.on_statement_timeout(1000);
  size.on_statement_timeout(1000);
  size.on_statement_timeout(500);
  size.on_statement_timeout(500);
  ASSERT_EQ(size.rows(), 250);
  size.on_commit(250, 1.5);  // 6 ms a row: 500 rows would take 3 s, more than half the timeout
  EXPECT_EQ(size.rows(), 250);
  size.on_commit(250, 0.2);  // 0.8 ms a row: 500 rows in 0.4 s
  EXPECT_EQ(size.rows(), 500);
  size.on_commit(500, 0.4);
  EXPECT_EQ(size.rows(), 1000);
  size.on_commit(1000, 0.1);
  EXPECT_EQ(size.rows(), 1000);  // never beyond max_rows
}

TEST(RetryBackstop, OnlyRepeatedNonTransientFailuresSwitchToIsolation) {
  retry_backstop b;
  for (int i = 0; i < 10; ++i) b.on_failure(true);  // a database away for long: retried as a whole forever
  EXPECT_FALSE(b.isolate());
  b.on_failure(false);
  b.on_failure(false);
  EXPECT_FALSE(b.isolate());
  b.on_failure(true);
  b.on_failure(false);
  EXPECT_TRUE(b.isolate());
  b.reset();
  EXPECT_FALSE(b.isolate());
}
