#include "postgis/transaction_size.hpp"

#include <algorithm>

namespace kafnus::postgis {

transaction_cut choose_cut(const std::vector<batch_extent>& pending, std::int64_t max_rows, std::int64_t max_bytes) {
  transaction_cut cut;
  if (pending.empty()) return cut;
  const auto& first = pending.front();
  if (first.rows > max_rows || first.bytes > max_bytes) {
    std::int64_t rows = std::min(first.rows, max_rows);
    if (first.bytes > max_bytes && first.bytes > 0) {
      // Bytes are spread over the rows about evenly.
      rows = std::min(rows, static_cast<std::int64_t>(static_cast<double>(first.rows) * static_cast<double>(max_bytes) /
                                                      static_cast<double>(first.bytes)));
    }
    cut.split_rows = std::max<std::int64_t>(rows, 1);
    return cut;
  }
  std::int64_t rows = 0, bytes = 0;
  for (const auto& b : pending) {
    if (cut.whole > 0 && (rows + b.rows > max_rows || bytes + b.bytes > max_bytes)) break;
    rows += b.rows;
    bytes += b.bytes;
    ++cut.whole;
  }
  return cut;
}

std::size_t split_point(const std::vector<std::int64_t>& rows_end, std::int64_t max_rows) {
  if (rows_end.size() < 2) return rows_end.size();
  // The records whose rows all fit, at least one.
  const auto fits = std::upper_bound(rows_end.begin(), rows_end.end(), max_rows);
  const auto k = std::max<std::size_t>(1, static_cast<std::size_t>(fits - rows_end.begin()));
  return k;  // == size(): everything fits, nothing to split
}

bool transaction_size::on_statement_timeout(std::int64_t rows_in_transaction) {
  if (++timeouts_ < 2) return false;
  timeouts_ = 0;
  rows_ = std::max<std::int64_t>(1, rows_in_transaction / 2);
  return true;
}

void transaction_size::on_commit(std::int64_t rows_in_transaction, double seconds) {
  timeouts_ = 0;
  if (rows_ >= max_rows_ || rows_in_transaction <= 0) return;
  // Grow back when twice this size would still take under half the timeout
  // at the rate just seen.
  const double per_row = seconds / static_cast<double>(rows_in_transaction);
  if (timeout_ms_ == 0 || per_row * static_cast<double>(2 * rows_) * 1000.0 < static_cast<double>(timeout_ms_) / 2) {
    rows_ = std::min(max_rows_, 2 * rows_);
  }
}

}  // namespace kafnus::postgis
