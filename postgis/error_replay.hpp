#pragma once
// The error log from the operator's side: what is in it (`kafnus errors
// list`), and running its statements again once the cause is fixed
// (`kafnus errors replay`).
//
// Replay takes the rows present when it starts, oldest first, each in its
// own transaction:
//   BEGIN
//   SELECT query FROM <log> WHERE ctid = … FOR UPDATE SKIP LOCKED  (gone or taken by another replay: skipped)
//   the statement's shape is checked (replay_statement.hpp)          (refused: the row is left as it is)
//   SAVEPOINT; <the statement>
//     succeeded: DELETE FROM <log> WHERE ctid = …; COMMIT             (replayed)
//     failed:    ROLLBACK TO SAVEPOINT; UPDATE <log> SET error = <the new error>; COMMIT  (failed)
// so a row's statement and the deletion of its row commit together: a
// replay killed at any moment leaves every row either written and gone from
// the log, or not written and still in it, and two replays at once never run
// one row twice. A failed row keeps its query and its original timestamp
// (when the data first failed); its error becomes the latest cause.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqxx/connection>

#include "ngsi/table_name.hpp"

namespace kafnus::postgis {

// A failure of the command as a whole (the database, an error-log table, a
// privilege), not of one row: the message names the problem and the fix.
class errors_failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct error_log_source {
  ngsi::table_ref table;
  bool fallback = false;  // <offsets schema>.error_log: each row names its service
  bool readable = true;   // the role has USAGE on its schema and SELECT on it
};

// "schema.table", quoted only when a name needs it.
std::string display_name(const ngsi::table_ref& t);

// The error logs in the database: every <s>.<s>_error_log table (the naming
// rule of ngsi::error_log_table, with the columns Kafnus creates) and the
// fallback <offsets schema>.error_log when it exists.
std::vector<error_log_source> find_error_logs(pqxx::connection_base& conn, const std::string& offsets_schema);

struct error_group {
  std::string service;  // the error log's schema, or the fallback row's service
  std::string target;   // display_name of the table the query writes, or "(no query)", "(not a statement)",
                        // "(unrecognised)"
  std::string error;    // primary_error of the rows' error
  std::string log;      // display_name of the error-log table
  std::int64_t rows = 0;
  std::int64_t oldest_us = 0;  // the rows' "timestamp", microseconds since the epoch
  std::int64_t newest_us = 0;
};

struct list_request {
  std::string offsets_schema;
  std::optional<std::string> service;  // as in fiware-service; nullopt: every service
  std::optional<std::int64_t> since_us;
};

struct error_listing {
  std::vector<error_group> groups;
  std::vector<std::string> warnings;  // error logs left out: the role may not read them
};

// Rows counted by (service, target table, primary error), ordered by
// service, table and error. Throws errors_failure when `service` has no
// error log the role can read.
error_listing list_errors(pqxx::connection_base& conn, const list_request& req);

enum class row_result { replayed, would_replay, failed, refused, skipped };

struct row_outcome {
  row_result result = row_result::skipped;
  std::string log;  // display_name of the error-log table
  std::string ctid;
  std::int64_t timestamp_us = 0;
  std::string target;  // display_name of the statement's table, when it names one
  std::string reason;  // failed: primary_error of the new error; refused: the reason; skipped: why
  std::string detail;  // failed: the whole new error; refused: where the statement stops being Kafnus's
};

struct replay_request {
  std::string service;  // as in fiware-service
  std::string offsets_schema;
  std::vector<std::string> more_schemas;  // schemas a statement may write besides the service's
  std::optional<std::int64_t> since_us;
  std::optional<std::size_t> limit;                // at most this many rows, oldest first
  bool dry_run = false;                            // check the shapes, run nothing, change nothing
  std::function<bool()> stop_requested;            // checked between rows
  std::function<void(const row_outcome&)> on_row;  // after each row
};

struct replay_report {
  std::vector<std::string> logs;      // the error-log tables read
  std::vector<std::string> warnings;  // error logs left out: the role may not read them
  std::size_t rows = 0;               // rows taken into account (present at the start, after --since and --limit)
  std::size_t replayed = 0;
  std::size_t would_replay = 0;  // --dry-run
  std::size_t failed = 0;
  std::size_t refused = 0;
  std::size_t skipped = 0;  // gone, or taken by another replay, since the start
  std::map<std::string, std::size_t> failed_by_error;
  std::map<std::string, std::size_t> refused_by_reason;
  bool interrupted = false;  // stop_requested said so: the rows not reached are untouched
};

// Replays the error-log rows of `req.service` (its own table and its rows in
// the fallback). Throws errors_failure when there is no error log for the
// service, or when the database fails the command itself (connection lost,
// no privilege on the error log); the rows done by then stay done.
replay_report replay_errors(pqxx::connection_base& conn, const replay_request& req);

}  // namespace kafnus::postgis
