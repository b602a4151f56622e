#pragma once
// Splitting a row_batch in two at a record boundary, for a transaction
// that must take less than the whole batch (postgis/transaction_size.hpp).
// Each part is a batch of its own: its source range moves the stored
// position from the expected one to its end (the first part ends where the
// second expects), and carries its share of the credits, so its ack returns
// exactly those to the consumer.

#include <cstddef>
#include <utility>

#include "messages/row_batch.hpp"

namespace kafnus {

// The cumulative rows + errors at the end of each record (for split_point).
std::vector<std::int64_t> record_row_ends(const msg::row_batch& b);

// Splits `b` after its first `records` records (0 < records < b.records.size()).
std::pair<msg::row_batch, msg::row_batch> split_batch(msg::row_batch&& b, std::size_t records);

}  // namespace kafnus
