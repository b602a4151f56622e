#pragma once
// A failure that becomes a row of <service>.<service>_error_log: made by the
// processors (a record or entity that cannot become rows) and by the writer
// (a row PostgreSQL rejects), carried in row batches, written by the error
// log. One type from end to end.

#include <cstdint>
#include <string>

namespace kafnus::ngsi {

struct error_entry {
  std::string service;  // lower-cased fiware-service
  std::int64_t timestamp_us = 0;
  std::string error;  // what went wrong, PostgreSQL's message for database errors
  std::string query;  // a statement an operator can re-run once the cause is fixed
};

}  // namespace kafnus::ngsi
