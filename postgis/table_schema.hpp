#pragma once
// What Kafnus knows of a target table: whether it exists and its columns.
// Read from the catalog and cached; a cached entry expires, and is dropped
// as soon as a statement on the table fails in a way that suggests the
// table changed (ALTER TABLE, DROP, CREATE by an operator).

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/transaction_base>

#include "ngsi/table_name.hpp"

namespace kafnus::postgis {

struct column_info {
  std::string name;
  std::string type;  // format_type(): "double precision", "geometry(Point,4326)", "jsonb", …
  bool is_json = false;      // json or jsonb
  bool is_geometry = false;  // PostGIS geometry
};

struct table_schema {
  bool exists = false;
  std::vector<column_info> columns;

  const column_info* find(const std::string& name) const;
  bool has(const std::string& name) const { return find(name) != nullptr; }
};

// Reads the schema of one table (exists = false when there is no such table).
table_schema fetch_table_schema(pqxx::transaction_base& tx, const ngsi::table_ref& table);

class table_schema_cache {
 public:
  using clock = std::chrono::steady_clock;

  explicit table_schema_cache(std::chrono::milliseconds ttl = std::chrono::seconds(30),
                              std::chrono::milliseconds missing_ttl = std::chrono::seconds(2))
      : ttl_(ttl), missing_ttl_(missing_ttl) {}

  // The cached schema when still fresh, else nullptr.
  const table_schema* lookup(const ngsi::table_ref& table, clock::time_point now = clock::now()) const;
  const table_schema& store(const ngsi::table_ref& table, table_schema schema, clock::time_point now = clock::now());
  void invalidate(const ngsi::table_ref& table) { entries_.erase(table); }
  void clear() { entries_.clear(); }

 private:
  struct entry {
    table_schema schema;
    clock::time_point loaded;
  };
  std::chrono::milliseconds ttl_;
  std::chrono::milliseconds missing_ttl_;
  std::map<ngsi::table_ref, entry> entries_;
};

}  // namespace kafnus::postgis
