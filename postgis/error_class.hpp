#pragma once
// The retry policy's first question: what kind of failure is this?
//
// Only failures known to pass are retried as a whole transaction; every
// other database error is a data problem of the rows that caused it (they go
// to the error log, the rest is written). A failure that says nothing about
// itself (no SQLSTATE, not a lost connection) is retried as a whole a few
// times and then treated as a data problem too (the writer's backstop), so no
// unforeseen error can stall every flow.

#include <exception>
#include <string>
#include <string_view>

namespace kafnus::postgis {

enum class failure_kind {
  transient,  // the database is unavailable or asked us to retry (connection
              // lost, shutdown, serialization failure, deadlock, too many
              // connections, out of resources, lock or statement timeout):
              // retry the whole transaction with backoff, for as long as it lasts
  unknown,    // no SQLSTATE and the connection is fine (a client-side
              // failure): retried as a whole, then isolated like a row error
  statement,  // every row of the statement fails the same way (missing table
              // or column, type mismatch, no matching unique constraint,
              // permission, too many columns): no point splitting, all of
              // them go to the error log
  row,        // some row's data is bad (constraint, out of range, invalid
              // value, PostGIS rejects a geometry): split until it is isolated
};

// From a SQLSTATE (five characters). An empty or malformed code says
// nothing: unknown.
failure_kind classify_sqlstate(std::string_view sqlstate);

// From an exception thrown by libpqxx: broken_connection and in_doubt_error
// are transient; a database error by its SQLSTATE (sqlstate_of); anything
// else is unknown.
failure_kind classify(const std::exception& e);

// "transient", "unknown", "statement", "row".
const char* to_string(failure_kind kind);

// The SQLSTATE of a libpqxx exception, or "". libpqxx 6.4 drops the code of
// some errors it maps to a class of its own (insufficient_privilege,
// serialization_failure, deadlock_detected, too_many_connections, …: their
// sqlstate() is empty), so it is read, in this order, from sqlstate(), from
// libpq's message when the connection reports errors verbosely
// ("ERROR:  42501: permission denied …", see postgis::connect), and from the
// exception's class, which libpqxx throws for one SQLSTATE only.
std::string sqlstate_of(const std::exception& e);

// PostgreSQL's primary message of an exception, without libpqxx's trailing
// query text or newline, the verbose SQLSTATE prefix or the LOCATION line:
// what goes in the error log's `error` column.
std::string error_message(const std::exception& e);

}  // namespace kafnus::postgis
