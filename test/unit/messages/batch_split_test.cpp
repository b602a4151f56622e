// Issue 17.2: a batch too large for one transaction is split at a record
// boundary into two batches that together are exactly the original: rows,
// errors, credits, and a position chain (the first part ends where the
// second expects), so a partition's positions still commit in order.

#include <gtest/gtest.h>

#include "messages/batch_split.hpp"

using namespace kafnus;

namespace {

// Records at offsets 100..104 with 2, 0, 1, 3, 1 rows and an error on 101.
msg::row_batch five_records() {
  msg::row_batch b;
  b.source.topic = "t";
  b.source.partition = 3;
  b.source.epoch = 7;
  b.source.expected_position = 100;
  b.source.next_position = 105;
  b.source.messages = 5;
  b.source.bytes = 50;
  const int rows_per_record[] = {2, 0, 1, 3, 1};
  for (int r = 0; r < 5; ++r) {
    for (int i = 0; i < rows_per_record[r]; ++i) {
      ngsi::row row;
      row.columns.add(ngsi::kEntityId, ngsi::value_kind::text, "R" + std::to_string(r) + "_" + std::to_string(i));
      b.rows.push_back(row);
    }
    if (r == 1) b.errors.push_back(msg::flow_error{ngsi::flow::historic, ngsi::error_entry{"s", 0, "bad", "q"}});
    b.records.push_back(msg::record_mark{100 + r + 1, b.rows.size(), b.errors.size(), 10 * (r + 1)});
  }
  for (const auto& row : b.rows) b.bytes += static_cast<std::int64_t>(row.byte_size());
  return b;
}

}  // namespace

TEST(BatchSplit, RowEndsCountRowsAndErrors) {
  EXPECT_EQ(record_row_ends(five_records()), (std::vector<std::int64_t>{2, 3, 4, 7, 8}));
}

TEST(BatchSplit, TwoPartsMakeTheWholeAndChainTheirPositions) {
  const auto whole = five_records();
  auto [first, second] = split_batch(five_records(), 3);
  EXPECT_EQ(first.source.expected_position, 100);
  EXPECT_EQ(first.source.next_position, 103);
  EXPECT_EQ(second.source.expected_position, 103);
  EXPECT_EQ(second.source.next_position, 105);
  EXPECT_EQ(first.source.epoch, 7u);
  EXPECT_EQ(second.source.epoch, 7u);
  EXPECT_EQ(first.source.messages + second.source.messages, 5);
  EXPECT_EQ(first.source.messages, 3);
  EXPECT_EQ(first.source.bytes, 30);
  EXPECT_EQ(second.source.bytes, 20);
  ASSERT_EQ(first.rows.size(), 3u);
  ASSERT_EQ(second.rows.size(), 4u);
  EXPECT_EQ(first.rows.back().entity_id(), "R2_0");
  EXPECT_EQ(second.rows.front().entity_id(), "R3_0");
  EXPECT_EQ(first.errors.size(), 1u);
  EXPECT_TRUE(second.errors.empty());
  EXPECT_EQ(first.bytes + second.bytes, whole.bytes);
  // The second part can be split again.
  ASSERT_EQ(second.records.size(), 2u);
  EXPECT_EQ(record_row_ends(second), (std::vector<std::int64_t>{3, 4}));
  auto [a, b] = split_batch(std::move(second), 1);
  EXPECT_EQ(a.source.next_position, 104);
  EXPECT_EQ(b.source.expected_position, 104);
  EXPECT_EQ(b.rows.size(), 1u);
  EXPECT_EQ(b.source.bytes, 10);
}

TEST(BatchSplit, OnlyAtARecordBoundary) {
  EXPECT_THROW(split_batch(five_records(), 0), std::invalid_argument);
  EXPECT_THROW(split_batch(five_records(), 5), std::invalid_argument);
}
