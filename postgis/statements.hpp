#pragma once
// The SQL text of the writer's statements, built from a planned group.

#include <string>
#include <vector>

#include "ngsi/row.hpp"
#include "postgis/write_plan.hpp"

namespace kafnus::postgis {

// CREATE TEMP TABLE IF NOT EXISTS <stage> (_seq integer, c0 <kind>, …) ON COMMIT DELETE ROWS
std::string stage_ddl(const std::vector<ngsi::value_kind>& kinds);

// Column list of the staging table's COPY: _seq, c0, c1, …
std::vector<std::string> stage_copy_columns(const std::vector<ngsi::value_kind>& kinds);

// Appends one COPY text line (with trailing newline) for a planned row.
void append_stage_line(std::string& out, const statement_group& g, const planned_row& r, int seq);

// The same rows as a statement, for a few rows, sent with the transaction's
// other statements instead of a COPY of their own (two round trips saved):
// INSERT INTO pg_temp.<stage> (_seq, c0, …) VALUES — then
// append_stage_values for each row, separated by ", ". Each value is a
// literal of unknown type, so PostgreSQL reads it with the column type's
// input function, as COPY does.
std::string stage_insert_head(const std::vector<ngsi::value_kind>& kinds);
void append_stage_values(std::string& out, const statement_group& g, const planned_row& r, int seq);

// The statement writing the group's staged rows whose _seq is in [$1, $2):
// INSERT … SELECT (historic), INSERT … SELECT … ON CONFLICT … DO UPDATE
// (lastdata with the freshness rule, mutable), or DELETE … WHERE entityid IN
// (SELECT …) (lastdata deletes).
std::string group_statement(const statement_group& g);
// The same statement for the _seq range [begin, end) written out, to run
// without preparing it.
std::string group_statement(const statement_group& g, int begin, int end);

// Whether a historic group can be COPied straight into its table: every
// value's text input gives exactly what INSERT … SELECT from the staging
// table would store (same type conversion, same errors), e.g. text into
// text, numbers into float columns, integer literals into integer columns,
// JSON into json/jsonb/text, timestamps into timestamp columns, geometry.
bool direct_copy_allowed(const statement_group& g);

// Whether a few rows of an upsert group (lastdata, mutable) can go straight
// into its table as INSERT … VALUES … ON CONFLICT, one row at a time or in
// one statement (the planner folds a group to one row per key), instead of
// through a staging table: the same condition on its values as
// direct_copy_allowed. A transaction that touches no staging table also
// spares PostgreSQL emptying them all at its commit (ON COMMIT DELETE ROWS).
bool direct_upsert_allowed(const statement_group& g);

// Column list of a direct COPY into the group's table (quoted names).
std::vector<std::string> direct_copy_columns(const statement_group& g);

// Appends one COPY text line (with trailing newline) for a direct COPY:
// every group column, NULL ones as \N.
void append_direct_line(std::string& out, const statement_group& g, const planned_row& r);

// The group's rows as one INSERT … VALUES of literals into its table, what
// the direct COPY stores (each literal read by the column type's input
// function), for groups of a few rows; an upsert group's with its ON
// CONFLICT clause, as its staged statement has it.
std::string direct_insert_statement(const statement_group& g);

// The same for one row, with parameters: INSERT INTO t (c1, …, cn) VALUES
// ($1, …, $n), prepared without declared types (PostgreSQL gives each
// parameter its column's type), and the EXECUTE of it named `name` for row
// `r` (each value a literal of unknown type, read by the parameter type's
// input function: what the literal INSERT and the COPY store), appended to
// `out` (the statements sent together, without a string of its own).
std::string direct_insert_template(const statement_group& g);
void append_direct_execute(std::string& out, const std::string& name, const statement_group& g, const planned_row& r);

// A statement an operator can run to write one row by hand, with literal
// values: what the error log's `query` column holds. `columns` restricts it
// to those column indexes of the row (the ones the writer would send); empty
// means all of them.
std::string render_statement(const ngsi::row& r, const std::vector<std::uint16_t>& columns = {});

}  // namespace kafnus::postgis
