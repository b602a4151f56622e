#pragma once
// COPY in PostgreSQL's binary format, for the groups that go straight into
// their table (historic): each value is sent the way the target column's
// type receives it (an int64 of microseconds for a timestamp, the eight
// bytes of a double, the EWKB bytes of a geometry, the JSON text after a
// version byte for jsonb), so PostgreSQL runs no text input function and no
// COPY escaping on either side. A column of a type without a binary writer
// here (numeric, a domain, an array, …), or a value that could not be
// written exactly as PostgreSQL would read its text (a number beyond the
// range of its column's type), sends the group as COPY text instead, where
// PostgreSQL judges it as before.

#include <optional>
#include <string>
#include <vector>

#include <pqxx/transaction_base>

#include "postgis/connection.hpp"
#include "postgis/write_plan.hpp"

namespace kafnus::postgis {

// How a group column's values are written.
enum class binary_format : unsigned char {
  bytes,      // the text as it is: text, varchar and char columns (any kind), json
  boolean,    // one byte
  float8,     // double precision
  float4,     // real
  int8,       // bigint
  int4,       // integer
  int2,       // smallint
  timestamp,  // timestamp with or without time zone: microseconds since 2000-01-01 (UTC)
  jsonb,      // version 1, then the JSON text
  ewkb,       // geometry: the EWKB bytes of the hex text
};

// The formats of a direct group's columns, or nothing when a column's type
// has no binary writer here.
std::optional<std::vector<binary_format>> binary_formats(const statement_group& g);

// The whole COPY data of the group's rows (header, rows, trailer), or nothing
// when a value cannot be written exactly (then the group goes as COPY text).
std::optional<std::string> binary_copy_data(const statement_group& g, const std::vector<binary_format>& formats);

// Runs COPY `table` (`columns`) FROM STDIN (FORMAT binary) with `data` on the
// session's connection, inside `tx`. Throws as libpqxx would: pqxx::sql_error
// with the SQLSTATE of what PostgreSQL refused, pqxx::broken_connection when
// the connection is lost.
void copy_binary(pqxx::transaction_base& tx, session& s, const std::string& table,
                 const std::vector<std::string>& columns, const std::string& data);

}  // namespace kafnus::postgis
