#pragma once
// One transaction of the writer: the new positions of the consumed
// partitions (compare-and-set), the rows (COPY into staging tables, then one
// statement per planned group), and the error-log entries — committed
// together or not at all.
//
// Failures:
//  - transient (connection lost, shutdown, serialization, …): the exception
//    escapes; nothing was committed; the caller retries the same request.
//  - data errors: the first attempt runs without savepoints; when a
//    statement fails, it is rolled back and re-run with every group in a
//    savepoint, splitting a failing group in halves until the bad rows are
//    isolated. Those rows go to the error log with PostgreSQL's message and
//    a statement to re-run; every other row is written.

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <pqxx/connection>

#include "ngsi/row.hpp"
#include "postgis/error_log.hpp"
#include "postgis/offsets_store.hpp"
#include "postgis/table_schema.hpp"
#include "postgis/write_plan.hpp"

namespace kafnus::postgis {

struct write_request {
  std::vector<position_update> sources;  // one per consumed range; rows and errors are tagged with its index
  std::vector<tagged_row> rows;          // in offset order
  std::vector<std::pair<error_log_entry, std::size_t>> errors;  // from the processors, tagged with a source
};

struct flow_service {
  ngsi::flow flow;
  std::string service;
  friend bool operator<(const flow_service& a, const flow_service& b) {
    return a.flow != b.flow ? a.flow < b.flow : a.service < b.service;
  }
};

struct write_result {
  std::vector<position_outcome> sources;       // per request source
  std::map<flow_service, std::int64_t> written;  // rows applied (folded ones included)
  std::map<flow_service, std::int64_t> failed;   // rows sent to the error log
  std::size_t error_log_rows = 0;               // all error-log rows (failed rows + processor errors)
  std::size_t error_log_fallback = 0;           // of which went to <kafnus schema>.error_log
  std::array<std::size_t, 3> dropped_attributes{};  // per ngsi::flow
  std::size_t added_columns = 0;
  int attempts = 0;        // transactions started (1 when nothing failed)
  bool isolated = false;   // bad rows had to be isolated with savepoints
};

class batch_writer {
 public:
  batch_writer(pqxx::connection& conn, std::string kafnus_schema, std::string group, unknown_column_policy policy,
               table_schema_cache& schemas);

  // Throws on a transient failure (see above); returns otherwise.
  write_result write(const write_request& request);

 private:
  struct attempt_state;
  write_result attempt(const write_request& request, bool isolate);

  pqxx::connection& conn_;
  std::string kafnus_schema_;
  std::string group_;
  unknown_column_policy policy_;
  table_schema_cache& schemas_;
  std::set<std::string> stages_;  // staging tables created on this connection
  error_log_writer error_log_;
};

}  // namespace kafnus::postgis
