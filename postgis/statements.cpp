#include "postgis/statements.hpp"

#include "postgis/sql.hpp"

namespace kafnus::postgis {
namespace {

const char* const kTarget = "kafnus_target";

bool is_key(const std::vector<std::string_view>& keys, const std::string& name) {
  for (const auto& k : keys) {
    if (k == name) return true;
  }
  return false;
}

// The expression selecting a group column from the staging table, converted
// the way the target column needs it.
std::string select_expression(const group_column& c) {
  if (c.stage_index < 0) return "NULL";
  std::string col = "c" + std::to_string(c.stage_index);
  if (!c.target_is_json) return col;
  switch (c.kind) {
    case ngsi::value_kind::text: return col + "::jsonb";
    case ngsi::value_kind::boolean:
    case ngsi::value_kind::number:
    case ngsi::value_kind::timestamp: return "to_jsonb(" + col + ")";
    case ngsi::value_kind::geometry: return "ST_AsGeoJSON(" + col + ")::jsonb";
    default: return col;
  }
}

std::string column_list(const statement_group& g) {
  std::string s;
  for (const auto& c : g.columns) {
    if (!s.empty()) s += ", ";
    s += quote_ident(c.name);
  }
  return s;
}

// ON CONFLICT clause of an upsert; `target_prefix` qualifies the stored row.
std::string conflict_clause(ngsi::flow f, const std::vector<std::string>& names, bool freshness,
                            const std::string& target_prefix) {
  const auto keys = ngsi::key_columns(f);
  std::string s = " ON CONFLICT (";
  for (std::size_t i = 0; i < keys.size(); ++i) s += (i ? ", " : "") + quote_ident(std::string(keys[i]));
  s += ")";
  std::string set;
  for (const auto& n : names) {
    if (is_key(keys, n)) continue;
    if (!set.empty()) set += ", ";
    set += quote_ident(n) + " = EXCLUDED." + quote_ident(n);
  }
  if (set.empty()) return s + " DO NOTHING";
  s += " DO UPDATE SET " + set;
  if (freshness) {
    const auto ti = quote_ident(ngsi::kTimeInstant);
    s += " WHERE " + target_prefix + ti + " IS NULL OR EXCLUDED." + ti + " >= " + target_prefix + ti;
  }
  return s;
}

}  // namespace

std::string stage_ddl(const std::vector<ngsi::value_kind>& kinds) {
  std::string s = "CREATE TEMP TABLE IF NOT EXISTS " + stage_name(kinds) + " (_seq integer NOT NULL";
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    s += ", c" + std::to_string(i) + " " + sql_type(kinds[i]);
  }
  return s + ") ON COMMIT DELETE ROWS";
}

std::vector<std::string> stage_copy_columns(const std::vector<ngsi::value_kind>& kinds) {
  std::vector<std::string> cols{"_seq"};
  for (std::size_t i = 0; i < kinds.size(); ++i) cols.push_back("c" + std::to_string(i));
  return cols;
}

namespace {

using append_function = void (*)(std::string&, std::string_view);

// A value's text in its type's input syntax through `append_value` (a
// geometry's EWKB bytes as hex: hex digits need no escaping or quoting).
void append_input(std::string& out, const ngsi::value_view& v, append_function append_value) {
  if (v.kind != ngsi::value_kind::geometry) {
    append_value(out, v.text);
    return;
  }
  thread_local std::string hex;
  hex.clear();
  ngsi::append_hex_upper(hex, v.text);
  append_value(out, hex);
}

// A row's staged values (its non-NULL group columns) after its _seq, each
// after `separator` and through `append_value`.
void append_staged_values(std::string& out, const statement_group& g, const planned_row& r, int seq,
                          std::string_view separator, append_function append_value) {
  out += std::to_string(seq);
  for (std::size_t i = 0; i < g.columns.size(); ++i) {
    if (g.columns[i].stage_index < 0) continue;
    out += separator;
    append_input(out, r.row->columns.value(r.value_index[i]), append_value);
  }
}

}  // namespace

void append_stage_line(std::string& out, const statement_group& g, const planned_row& r, int seq) {
  append_staged_values(out, g, r, seq, "\t", append_copy_escaped);
  out += '\n';
}

std::string stage_insert_head(const std::vector<ngsi::value_kind>& kinds) {
  std::string s = "INSERT INTO pg_temp." + stage_name(kinds) + " (";
  const auto columns = stage_copy_columns(kinds);
  for (std::size_t i = 0; i < columns.size(); ++i) s += (i ? ", " : "") + columns[i];
  return s + ") VALUES ";
}

void append_stage_values(std::string& out, const statement_group& g, const planned_row& r, int seq) {
  out += '(';
  append_staged_values(out, g, r, seq, ", ", append_literal);
  out += ')';
}

namespace {

bool is_integer_literal(std::string_view s) {
  std::size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
  if (i == s.size()) return false;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

// Whether every value of the group, read by its column type's input
// function, gives what the staged path's assignment from the staging table
// would store (same conversion, same errors).
bool read_as_staged(const statement_group& g) {
  for (std::size_t i = 0; i < g.columns.size(); ++i) {
    const auto& c = g.columns[i];
    switch (c.direct != direct_read::unknown ? c.direct : direct_read_of(c)) {
      case direct_read::same: continue;
      case direct_read::integer_literals:
        for (const auto& r : g.rows) {
          if (!is_integer_literal(r.row->columns.value(r.value_index[i]).text)) return false;
        }
        continue;
      case direct_read::unknown:
      case direct_read::differs: return false;
    }
  }
  return true;
}

}  // namespace

bool direct_copy_allowed(const statement_group& g) {
  return g.op == ngsi::operation::insert && g.copy_into_target && read_as_staged(g);
}

bool direct_upsert_allowed(const statement_group& g) {
  return g.op == ngsi::operation::upsert && g.copy_into_target && read_as_staged(g);
}

namespace {

// " AS kafnus_target" for an upsert (its conflict clause names the stored
// row by it), nothing for an insert.
std::string target_alias(const statement_group& g) {
  return g.op == ngsi::operation::upsert ? " AS " + std::string(kTarget) : std::string();
}

// The ON CONFLICT clause of an upsert group (with the freshness rule when
// its flow checks it and the group writes a TimeInstant), nothing for an insert.
std::string upsert_clause(const statement_group& g) {
  if (g.op != ngsi::operation::upsert) return {};
  bool freshness = false;
  if (ngsi::checks_freshness(g.flow)) {
    for (const auto& c : g.columns) {
      if (c.name == ngsi::kTimeInstant && c.kind == ngsi::value_kind::timestamp && c.target_exists) freshness = true;
    }
  }
  std::vector<std::string> names;
  names.reserve(g.columns.size());
  for (const auto& c : g.columns) names.emplace_back(c.name);
  return conflict_clause(g.flow, names, freshness, std::string(kTarget) + ".");
}

}  // namespace

std::vector<std::string> direct_copy_columns(const statement_group& g) {
  std::vector<std::string> cols;
  for (const auto& c : g.columns) cols.push_back(quote_ident(c.name));
  return cols;
}

namespace {

// Every group column of a row: `separator` between values, `null` for a
// NULL one, the others' text through `append_value`.
void append_row_values(std::string& out, const statement_group& g, const planned_row& r, std::string_view separator,
                       std::string_view null, append_function append_value) {
  for (std::size_t i = 0; i < g.columns.size(); ++i) {
    if (i) out += separator;
    const auto v = r.row->columns.value(r.value_index[i]);
    if (v.kind == ngsi::value_kind::null) {
      out += null;
    } else {
      append_input(out, v, append_value);
    }
  }
}

}  // namespace

void append_direct_line(std::string& out, const statement_group& g, const planned_row& r) {
  append_row_values(out, g, r, "\t", "\\N", append_copy_escaped);
  out += '\n';
}

std::string direct_insert_statement(const statement_group& g) {
  std::string s = "INSERT INTO " + qualified(g.table) + target_alias(g) + " (" + column_list(g) + ") VALUES ";
  for (std::size_t n = 0; n < g.rows.size(); ++n) {
    s += n ? ", (" : "(";
    append_row_values(s, g, g.rows[n], ", ", "NULL", append_literal);
    s += ')';
  }
  return s + upsert_clause(g);
}

std::string direct_insert_template(const statement_group& g) {
  std::string s = "INSERT INTO " + qualified(g.table) + target_alias(g) + " (" + column_list(g) + ") VALUES (";
  for (std::size_t i = 1; i <= g.columns.size(); ++i) {
    if (i > 1) s += ", ";
    s += '$';
    s += std::to_string(i);
  }
  s += ')';
  return s + upsert_clause(g);
}

void append_direct_execute(std::string& out, const std::string& name, const statement_group& g, const planned_row& r) {
  out += "EXECUTE ";
  out += name;
  out += '(';
  append_row_values(out, g, r, ", ", "NULL", append_literal);
  out += ')';
}

namespace {

// The staged rows of [begin, end). A staging table is emptied at every
// commit and its rows are appended in _seq order, so its scan meets them in
// that order: LIMIT (the range's size, never less than the rows in it, as
// _seq is unique in a transaction) ends the scan at the group's last row
// instead of reading the rows of every later group sharing the table (a
// quarter of PostgreSQL's time in a mutable catch-up with 24 tables).
std::string group_statement(const statement_group& g, std::string_view begin, std::string_view end,
                            std::string_view count) {
  const std::string stage = "pg_temp." + stage_name(g.stage_kinds);
  const std::string range = " WHERE _seq >= " + std::string(begin) + " AND _seq < " + std::string(end);
  if (g.op == ngsi::operation::remove) {
    // A remove group has the entityid column only.
    return "DELETE FROM " + qualified(g.table) + " WHERE " + quote_ident(ngsi::kEntityId) + " IN (SELECT c0 FROM " +
           stage + range + ")";
  }
  std::string select;
  for (const auto& c : g.columns) {
    if (!select.empty()) select += ", ";
    select += select_expression(c);
  }
  return "INSERT INTO " + qualified(g.table) + target_alias(g) + " (" + column_list(g) + ") SELECT " + select +
         " FROM " + stage + range + " LIMIT " + std::string(count) + upsert_clause(g);
}

}  // namespace

std::string group_statement(const statement_group& g) { return group_statement(g, "$1", "$2", "($2 - $1)"); }

std::string group_statement(const statement_group& g, int begin, int end) {
  return group_statement(g, std::to_string(begin), std::to_string(end), std::to_string(end - begin));
}

std::string render_statement(const ngsi::row& r, const std::vector<std::uint16_t>& columns) {
  std::vector<std::uint16_t> idx = columns;
  if (idx.empty()) {
    for (std::size_t i = 0; i < r.columns.size(); ++i) idx.push_back(static_cast<std::uint16_t>(i));
  }
  if (r.op == ngsi::operation::remove) {
    const auto id = r.find(ngsi::kEntityId);
    return "DELETE FROM " + qualified(r.table()) + " WHERE " + quote_ident(ngsi::kEntityId) + " = " +
           (id ? literal(id->val) : std::string("NULL"));
  }
  std::string cols, vals;
  std::vector<std::string> names;
  bool has_time = false;
  for (auto i : idx) {
    const auto& c = r.columns[i];
    if (!cols.empty()) {
      cols += ", ";
      vals += ", ";
    }
    cols += quote_ident(c.name);
    vals += literal(c.val);
    names.emplace_back(c.name);
    if (c.name == ngsi::kTimeInstant && c.val.kind == ngsi::value_kind::timestamp) has_time = true;
  }
  std::string s = "INSERT INTO " + qualified(r.table());
  if (r.op == ngsi::operation::upsert) s += " AS " + std::string(kTarget);
  s += " (" + cols + ") VALUES (" + vals + ")";
  if (r.op == ngsi::operation::upsert) {
    s += conflict_clause(r.f, names, ngsi::checks_freshness(r.f) && has_time, std::string(kTarget) + ".");
  }
  return s;
}

}  // namespace kafnus::postgis
