#include "postgis/table_schema.hpp"

#include <atomic>

#include <pqxx/result>

#include "postgis/sql.hpp"
#include "text/ascii.hpp"

namespace kafnus::postgis {
namespace {

relation_kind kind_of(const std::string& relkind) {
  if (relkind == "p") return relation_kind::partitioned_table;
  if (relkind == "v") return relation_kind::view;
  if (relkind == "f") return relation_kind::foreign_table;
  return relation_kind::table;
}

}  // namespace

bool is_text_type(const std::string& type) {
  return type == "text" || text::starts_with(type, "character varying") || text::starts_with(type, "character(") ||
         type == "character";
}

const column_info* table_schema::find(std::string_view name) const {
  for (const auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::map<ngsi::table_ref, table_schema> fetch_table_schemas(pqxx::transaction_base& tx,
                                                            const std::vector<ngsi::table_ref>& tables) {
  std::map<ngsi::table_ref, table_schema> out;
  constexpr std::size_t kChunk = 1000;
  for (std::size_t from = 0; from < tables.size(); from += kChunk) {
    const std::size_t to = std::min(tables.size(), from + kChunk);
    std::string wanted;
    for (std::size_t i = from; i < to; ++i) {
      out[tables[i]];  // exists = false unless the catalog says otherwise
      wanted += (i > from ? ", (" : "(") + std::to_string(i) + ", " + quote_literal(tables[i].schema) + ", " +
                quote_literal(tables[i].table) + ")";
    }
    // Ordinary, partitioned and foreign tables and views all accept INSERT.
    const auto r =
        tx.exec("WITH wanted (i, nspname, relname) AS (VALUES " + wanted +
                ") SELECT w.i, c.relkind::text, a.attname, format_type(a.atttypid, a.atttypmod), t.typname "
                "FROM wanted w "
                "JOIN pg_catalog.pg_namespace n ON n.nspname = w.nspname "
                "JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = w.relname "
                "AND c.relkind IN ('r', 'p', 'v', 'f') "
                "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
                "LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid "
                "ORDER BY w.i, a.attnum");
    for (const auto& row : r) {
      auto& s = out[tables.at(row[0].as<std::size_t>())];
      s.exists = true;
      s.kind = kind_of(row[1].as<std::string>());
      if (row[2].is_null()) continue;
      column_info c;
      c.name = row[2].as<std::string>();
      c.type = row[3].as<std::string>();
      const auto typname = row[4].as<std::string>();
      c.is_json = typname == "json" || typname == "jsonb";
      s.columns.push_back(std::move(c));
    }
  }
  return out;
}

table_schema fetch_table_schema(pqxx::transaction_base& tx, const ngsi::table_ref& table) {
  return std::move(fetch_table_schemas(tx, {table}).at(table));
}

bool table_schema_cache::expired(const entry& e, clock::time_point now) const {
  return now - e.loaded > (e.schema->exists ? ttl_ : missing_ttl_);
}

std::shared_ptr<const table_schema> table_schema_cache::lookup(const ngsi::table_ref& table, clock::time_point now) {
  auto* e = entries_.find(table);
  if (e == nullptr || expired(*e, now)) return nullptr;
  return e->schema;
}

std::shared_ptr<const table_schema> table_schema_cache::store(const ngsi::table_ref& table, table_schema schema,
                                                              clock::time_point now) {
  // Entries nobody asks for again would otherwise stay until pushed out by
  // the capacity: sweep the expired ones once per time to live.
  if (now - last_sweep_ > ttl_) {
    entries_.erase_if([&](const ngsi::table_ref&, const entry& e) { return expired(e, now); });
    last_sweep_ = now;
  }
  static std::atomic<std::uint64_t> next_id{1};
  schema.id = next_id.fetch_add(1, std::memory_order_relaxed);
  auto shared = std::make_shared<const table_schema>(std::move(schema));
  entries_.put(table, entry{shared, now});
  return shared;
}

}  // namespace kafnus::postgis
