#include "postgis/table_schema.hpp"

#include <pqxx/result>

namespace kafnus::postgis {

const column_info* table_schema::find(const std::string& name) const {
  for (const auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

table_schema fetch_table_schema(pqxx::transaction_base& tx, const ngsi::table_ref& table) {
  // Ordinary, partitioned and foreign tables and views all accept INSERT.
  auto r = tx.exec_params(
      "SELECT a.attname, format_type(a.atttypid, a.atttypmod), t.typname "
      "FROM pg_catalog.pg_class c "
      "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
      "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
      "LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
      "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'f') "
      "ORDER BY a.attnum",
      table.schema, table.table);
  table_schema s;
  s.exists = !r.empty();
  for (const auto& row : r) {
    if (row[0].is_null()) continue;
    column_info c;
    c.name = row[0].as<std::string>();
    c.type = row[1].as<std::string>();
    const auto typname = row[2].as<std::string>();
    c.is_json = typname == "json" || typname == "jsonb";
    c.is_geometry = typname == "geometry";
    s.columns.push_back(std::move(c));
  }
  return s;
}

const table_schema* table_schema_cache::lookup(const ngsi::table_ref& table, clock::time_point now) const {
  auto it = entries_.find(table);
  if (it == entries_.end()) return nullptr;
  auto age = now - it->second.loaded;
  if (age > (it->second.schema.exists ? ttl_ : missing_ttl_)) return nullptr;
  return &it->second.schema;
}

const table_schema& table_schema_cache::store(const ngsi::table_ref& table, table_schema schema,
                                              clock::time_point now) {
  auto& e = entries_[table];
  e.schema = std::move(schema);
  e.loaded = now;
  return e.schema;
}

}  // namespace kafnus::postgis
