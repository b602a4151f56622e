#pragma once
// How much of the pending work one transaction takes (pure).
//
// A transaction takes the leading pending batches (arrival order, so a
// partition's batches commit in offset order) up to batching.max_rows /
// max_bytes — a retry too: batches that arrive while a transaction is
// retried wait for their own. A batch larger than that alone is split at a
// record boundary.
//
// A statement timeout (57014) on the same transaction twice halves it, so a
// table slower than its rows' share of postgres.statement_timeout_ms still
// makes progress, at whatever rate it allows; the size grows back (doubling)
// after transactions that took well under the timeout.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kafnus::postgis {

struct batch_extent {
  std::int64_t rows = 0;  // rows and error-log entries
  std::int64_t bytes = 0;
};

struct transaction_cut {
  std::size_t whole = 0;        // leading batches taken whole (0: the first alone is too large)
  std::int64_t split_rows = 0;  // when whole == 0: take at most this many rows of the first batch
};

// The leading batches within `max_rows` and `max_bytes`: at least one whole
// batch, unless the first alone exceeds a limit (then `split_rows` of it).
transaction_cut choose_cut(const std::vector<batch_extent>& pending, std::int64_t max_rows, std::int64_t max_bytes);

// Where to split a batch whose records end at cumulative row counts
// `rows_end` (non-decreasing) to take at most `max_rows` rows: the number of
// records of the first part, at least 1 (a record is never split: its rows
// share one position). Returns rows_end.size() when no split is possible.
std::size_t split_point(const std::vector<std::int64_t>& rows_end, std::int64_t max_rows);

class transaction_size {
 public:
  // `statement_timeout_ms` 0: no statement timeout.
  transaction_size(std::int64_t max_rows, std::int64_t statement_timeout_ms)
      : max_rows_(max_rows < 1 ? 1 : max_rows), rows_(max_rows_), timeout_ms_(statement_timeout_ms) {}

  // Rows a transaction may take now (at most batching.max_rows).
  std::int64_t rows() const { return rows_; }

  // The current transaction of `rows_in_transaction` rows was cancelled by
  // the statement timeout. True when it must shrink now (the second time):
  // rows() is then half of it.
  bool on_statement_timeout(std::int64_t rows_in_transaction);

  // The current transaction committed.
  void on_commit(std::int64_t rows_in_transaction, double seconds);

 private:
  std::int64_t max_rows_;
  std::int64_t rows_;
  std::int64_t timeout_ms_;
  int timeouts_ = 0;  // of the current transaction
};

}  // namespace kafnus::postgis
