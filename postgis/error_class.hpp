#pragma once
// The retry policy's first question: what kind of failure is this?

#include <exception>
#include <string>
#include <string_view>

namespace kafnus::postgis {

enum class failure_kind {
  transient,  // the database is unavailable or asked us to retry (connection
              // lost, shutdown, serialization failure, deadlock, too many
              // connections, out of resources, timeout): retry the whole
              // transaction with backoff, for as long as it lasts
  statement,  // every row of the statement fails the same way (missing table
              // or column, type mismatch, no matching unique constraint,
              // permission): no point splitting, all of them go to the error log
  row,        // some row's data is bad (constraint, out of range, invalid
              // value, PostGIS rejects a geometry): split until it is isolated
};

// From a SQLSTATE (five characters; empty for "connection lost").
failure_kind classify_sqlstate(std::string_view sqlstate);

// From an exception thrown by libpqxx (broken_connection and in_doubt_error
// are transient; sql_error is classified by its SQLSTATE; anything else is
// treated as transient so nothing is ever dropped on an unknown failure).
failure_kind classify(const std::exception& e);

// The SQLSTATE of a libpqxx exception, or "".
std::string sqlstate_of(const std::exception& e);

// PostgreSQL's primary message of an exception, without libpqxx's trailing
// query text or newline: what goes in the error log's `error` column.
std::string error_message(const std::exception& e);

}  // namespace kafnus::postgis
