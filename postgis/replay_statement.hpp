#pragma once
// Which error-log statements `kafnus errors replay` may run: only the ones
// Kafnus itself writes (render_statement), never arbitrary SQL from a table
// that anyone with INSERT on it could fill.
//
// A statement is accepted when it parses as
//   INSERT INTO "<schema>"."<table>" [AS kafnus_target] ("<col>", …)
//   VALUES (<literal>, …) [ON CONFLICT …]
// with literals of exactly the forms postgis::literal() writes — NULL, true,
// false, a JSON number, '<text>', '<json>'::json, '<instant>'::timestamptz,
// '<hex EWKB>'::geometry — AND render_statement of the row it describes
// gives back the very same text, byte for byte (so the ON CONFLICT clause,
// the alias, the spacing and every quote are Kafnus's own). The target must
// be in an allowed schema and must not be one of Kafnus's own tables.
//
// Lastdata deletes (DELETE FROM … WHERE "entityid" = …) are a Kafnus shape
// too, but they are refused: a delete has no freshness guard, so replaying
// it later would delete an entity created again since.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ngsi/flow.hpp"
#include "ngsi/table_name.hpp"

namespace kafnus::postgis {

// Where a replayed statement may write.
struct replay_scope {
  std::string schema;                     // the service's schema (error_log_table(service).schema)
  std::vector<std::string> more_schemas;  // named by the operator (--schema), for the servicepath datamodels
  std::string offsets_schema;             // Kafnus's own: its offsets and fallback error log are never targets
  ngsi::table_ref error_log;              // the error log being replayed is never a target either
};

struct replay_shape {
  bool accepted = false;
  // When refused: why, the same text for every row refused for that cause
  // (for counting), and the particulars of this row (where it stopped parsing,
  // which schema).
  std::string reason;
  std::string detail;
  // The target when the statement names one (accepted, or refused for its
  // target or for being a delete), and the flow an accepted one writes.
  std::optional<ngsi::table_ref> table;
  ngsi::flow f = ngsi::flow::historic;
};

// The verdict on an error-log `query` (nullopt: SQL NULL).
replay_shape check_replay_statement(const std::optional<std::string>& query, const replay_scope& scope);

// The table an error-log query names in its head (INSERT INTO "s"."t" or
// DELETE FROM "s"."t"), whatever follows; nullopt when it names none. For
// listing, not for deciding what runs.
std::optional<ngsi::table_ref> statement_target(std::string_view query);

// The first line of an error-log `error`, without the DETAIL and HINT that
// postgis::error_message appends (" - DETAIL: …"): the cause, shared by every
// row with that cause. `kafnus errors list` groups by the same rule in SQL
// (primary_error_sql).
std::string primary_error(std::string_view error);

// primary_error as a SQL expression over the column `column`.
std::string primary_error_sql(const std::string& column);

}  // namespace kafnus::postgis
