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

struct row_batch {
  ngsi::flow flow = ngsi::flow::historic;
  source_range source;
  caf::actor ack_to;  // the consumer that fetched the records
  std::vector<ngsi::row> rows;
  std::vector<error_entry> errors;
  std::int64_t bytes = 0;        // approximate size of rows, for the writer's batching limit
};

}  // namespace kafnus::msg
