#pragma once
// flow processor -> writer: the rows and error-log entries of one raw_batch.
// Rows are ngsi::row, a plain std-only struct (ngsi/row.hpp).

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor.hpp>

#include "messages/source_range.hpp"
#include "ngsi/row.hpp"

namespace kafnus::msg {

// A failure that becomes a row of <service>.<service>_error_log.
struct error_entry {
  std::string service;      // lower-cased fiware-service
  std::int64_t timestamp_us = 0;
  std::string error;        // what went wrong, PostgreSQL's message for database errors
  std::string query;        // a statement an operator can re-run once the cause is fixed
};

// Where one record's rows and errors end in its batch: the writer splits a
// batch too large for one transaction at such a boundary (a record's rows
// share one position, so a record is never split).
struct record_mark {
  std::int64_t next_position = 0;  // the record's offset + 1
  std::size_t rows_end = 0;        // rows of this and earlier records
  std::size_t errors_end = 0;      // errors of this and earlier records
  std::int64_t value_bytes_end = 0;  // Kafka value bytes of this and earlier records (credits)
};

struct row_batch {
  ngsi::flow flow = ngsi::flow::historic;
  source_range source;
  caf::actor ack_to;  // the consumer that fetched the records
  std::vector<ngsi::row> rows;
  std::vector<error_entry> errors;
  std::int64_t bytes = 0;        // approximate size of rows, for the writer's batching limit
  std::vector<record_mark> records;  // one per record, in offset order (empty: the batch cannot be split)
};

}  // namespace kafnus::msg
