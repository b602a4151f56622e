#pragma once
// COPY in PostgreSQL's binary format, for the groups that go straight into
// their table (historic) and for staging tables (lastdata, mutable): each
// value is sent the way the target column's type receives it (an int64 of
// microseconds for a timestamp, the eight bytes of a double, base-10,000
// digits for a numeric, the EWKB bytes of a geometry, the JSON text after a
// version byte for jsonb), so PostgreSQL runs no text input function and
// no COPY unescaping. A column of a type without a binary writer here (a
// domain, an array, …), or a value that could not be written exactly as
// PostgreSQL would read its text (a number beyond the range of its column's
// type), sends the COPY as text instead, where PostgreSQL judges it as
// before.

#include <optional>
#include <string>
#include <vector>

#include <pqxx/transaction_base>

#include "postgis/connection.hpp"
#include "postgis/write_plan.hpp"

namespace kafnus::postgis {

// How a group column's values are written.
enum class binary_format : unsigned char {
  bytes,      // the text as it is (a geometry's EWKB as hex): text, varchar and char columns (any kind), json
  boolean,    // one byte
  float8,     // double precision
  float4,     // real
  int8,       // bigint
  int4,       // integer
  int2,       // smallint
  numeric,    // numeric (with or without precision and scale)
  timestamp,  // timestamp with or without time zone: microseconds since 2000-01-01 (UTC)
  jsonb,      // version 1, then the JSON text
  ewkb,       // geometry: its EWKB bytes
};

// The formats of a direct group's columns, or nothing when a column's type
// has no binary writer here.
std::optional<std::vector<binary_format>> binary_formats(const statement_group& g);

// COPY data in the binary format, a row at a time: the header first, the
// trailer at finish(). `rows`: about how many will come, to make room for
// them once the first is written.
class binary_rows {
 public:
  explicit binary_rows(std::size_t rows);
  // A row of a group going straight into its table: `formats` from
  // binary_formats(g). False when a value cannot be written exactly (the
  // data is then unusable: the COPY goes as text).
  bool add(const statement_group& g, const planned_row& r, const std::vector<binary_format>& formats);
  // A row of a group into its staging table (statements.hpp: stage_ddl): its
  // _seq and its staged values, `stage_formats` from binary_stage_formats.
  bool add_staged(const statement_group& g, const planned_row& r, int seq,
                  const std::vector<binary_format>& stage_formats);
  std::string finish() &&;

 private:
  char* room(std::size_t bytes);
  // A row's field count, written in room for its values; then the row
  // counts once its values are written (end_row(null): one could not be).
  char* begin_row(const statement_group& g, const planned_row& r, std::size_t fields);
  bool end_row(const char* p);

  std::string data_;  // data_[0, used_) is written; the rest is room
  std::size_t used_ = 0;
  std::size_t rows_ = 0;
  std::size_t expected_rows_;
};

// The whole COPY data of a direct group's rows, or nothing when a value
// cannot be written exactly.
std::optional<std::string> binary_copy_data(const statement_group& g, const std::vector<binary_format>& formats);

// The formats of a staging table's columns (every kind has a writer).
std::vector<binary_format> binary_stage_formats(const std::vector<ngsi::value_kind>& kinds);

// Runs COPY `table` (`columns`) FROM STDIN (FORMAT binary) with `data` on the
// session's connection, inside `tx`. Throws as libpqxx would: pqxx::sql_error
// with the SQLSTATE of what PostgreSQL refused, pqxx::broken_connection when
// the connection is lost.
void copy_binary(pqxx::transaction_base& tx, session& s, const std::string& table,
                 const std::vector<std::string>& columns, const std::string& data);

}  // namespace kafnus::postgis
