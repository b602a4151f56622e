#pragma once
// processor -> writer: the rows and error-log entries of one raw_batch (of
// every flow its topic feeds), with the source range whose position they move. Rows are ngsi::row and entries
// ngsi::error_entry, plain std-only structs. consumer -> writer: those of a
// poll's few records (polled_rows).

#include <cstdint>
#include <string>
#include <vector>

#include "messages/source_range.hpp"
#include "ngsi/error_entry.hpp"
#include "ngsi/flow.hpp"
#include "ngsi/row.hpp"

namespace kafnus::msg {

// Where one record's rows and errors end in its batch: the writer splits a
// batch too large for one transaction at such a boundary (a record's rows
// share one position, so a record is never split).
struct record_mark {
  std::int64_t next_position = 0;    // the record's offset + 1
  std::size_t rows_end = 0;          // rows of this and earlier records
  std::size_t errors_end = 0;        // errors of this and earlier records
  std::int64_t value_bytes_end = 0;  // Kafka value bytes of this and earlier records (credits)
};

// An error-log entry and the flow it failed in (a record of a topic that
// feeds several flows may fail in one and become rows in the others).
struct flow_error {
  ngsi::flow flow = ngsi::flow::historic;
  ngsi::error_entry entry;
};

struct row_batch {
  source_range source;
  std::vector<ngsi::row> rows;  // each row names its flow
  std::vector<flow_error> errors;
  std::int64_t bytes = 0;            // approximate size of rows, for the writer's batching limit
  std::vector<record_mark> records;  // one per record, in offset order (empty: the batch cannot be split)
};

// consumer -> writer: the rows the consumer made itself from one poll at a
// low rate, a batch per partition, in one message so that the writer takes
// them in one go. `paced`: the consumer polls no sooner than
// batching.min_interval_ms after handing rows over, so it spaces the
// transactions itself: the writer starts one with them at once (after the
// commit it is waiting for, if any). Otherwise the writer spaces them as it
// does a processor's batches.
struct polled_rows {
  std::vector<row_batch> batches;
  bool paced = false;
};

}  // namespace kafnus::msg
