#include "messages/batch_split.hpp"

#include <iterator>
#include <stdexcept>

namespace kafnus {
namespace {

std::int64_t rows_bytes(const std::vector<ngsi::row>& rows) {
  std::int64_t n = 0;
  for (const auto& r : rows) n += static_cast<std::int64_t>(r.byte_size());
  return n;
}

template <class T>
std::vector<T> take_tail(std::vector<T>& v, std::size_t from) {
  std::vector<T> tail(std::make_move_iterator(v.begin() + static_cast<std::ptrdiff_t>(from)),
                      std::make_move_iterator(v.end()));
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(from), v.end());
  return tail;
}

}  // namespace

std::vector<std::int64_t> record_row_ends(const msg::row_batch& b) {
  std::vector<std::int64_t> ends;
  ends.reserve(b.records.size());
  for (const auto& m : b.records) ends.push_back(static_cast<std::int64_t>(m.rows_end + m.errors_end));
  return ends;
}

std::pair<msg::row_batch, msg::row_batch> split_batch(msg::row_batch&& b, std::size_t records) {
  if (records == 0 || records >= b.records.size()) throw std::invalid_argument("split_batch: no such record boundary");
  const msg::record_mark cut = b.records[records - 1];
  msg::row_batch first = std::move(b);
  msg::row_batch second;
  second.source = first.source;

  second.rows = take_tail(first.rows, cut.rows_end);
  second.errors = take_tail(first.errors, cut.errors_end);
  second.records = take_tail(first.records, records);
  for (auto& m : second.records) {
    m.rows_end -= cut.rows_end;
    m.errors_end -= cut.errors_end;
    m.value_bytes_end -= cut.value_bytes_end;
  }

  first.source.next_position = cut.next_position;
  first.source.messages = static_cast<std::int64_t>(records);
  first.source.bytes = cut.value_bytes_end;
  second.source.expected_position = cut.next_position;
  second.source.messages -= first.source.messages;
  second.source.bytes -= first.source.bytes;

  first.bytes = rows_bytes(first.rows);
  second.bytes = rows_bytes(second.rows);
  return {std::move(first), std::move(second)};
}

}  // namespace kafnus
