#pragma once
// What Kafnus knows of a target table: whether it exists, what kind of
// relation it is, and its columns. Read from the catalog and cached; a
// cached entry expires, and is dropped as soon as a statement on the table
// fails in a way that suggests the table changed (ALTER TABLE, DROP, CREATE
// by an operator). Table names come from message content (entity types), so
// the cache is bounded in size as well as in age.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/transaction_base>

#include "ngsi/table_name.hpp"
#include "postgis/bounded_lru.hpp"

namespace kafnus::postgis {

struct column_info {
  std::string name;
  std::string type;      // format_type(): "double precision", "geometry(Point,4326)", "jsonb", …
  bool is_json = false;  // json or jsonb
};

// Whether a format_type() names a character type (text, varchar, char).
bool is_text_type(const std::string& type);

// The kinds of relation Kafnus writes into (pg_class.relkind r, p, v, f).
enum class relation_kind { table, partitioned_table, view, foreign_table };

struct table_schema {
  bool exists = false;
  relation_kind kind = relation_kind::table;
  std::vector<column_info> columns;
  // Unique to one reading of the catalog, given by table_schema_cache::store
  // (0: a schema built elsewhere): what planning derived from a schema is
  // reused while the schema it came from is the current one.
  std::uint64_t id = 0;

  const column_info* find(std::string_view name) const;
  bool has(std::string_view name) const { return find(name) != nullptr; }
  // Whether COPY can go straight into the relation: tables only (PostgreSQL
  // refuses COPY into a view; a view or foreign table is written with
  // INSERT … SELECT from a staging table).
  bool accepts_copy() const { return kind == relation_kind::table || kind == relation_kind::partitioned_table; }
};

// Reads the schemas of tables (exists = false for each that is missing), in
// one round trip per thousand tables.
std::map<ngsi::table_ref, table_schema> fetch_table_schemas(pqxx::transaction_base& tx,
                                                            const std::vector<ngsi::table_ref>& tables);

// Reads the schema of one table.
table_schema fetch_table_schema(pqxx::transaction_base& tx, const ngsi::table_ref& table);

class table_schema_cache {
 public:
  using clock = std::chrono::steady_clock;
  static constexpr std::size_t kDefaultCapacity = 4096;

  explicit table_schema_cache(std::chrono::milliseconds ttl = std::chrono::seconds(30),
                              std::chrono::milliseconds missing_ttl = std::chrono::seconds(2),
                              std::size_t capacity = kDefaultCapacity)
      : ttl_(ttl), missing_ttl_(missing_ttl), entries_(capacity) {}

  // The cached schema when still fresh, else null. Shared: it stays valid
  // for its holder when the cache lets it go.
  std::shared_ptr<const table_schema> lookup(const ngsi::table_ref& table, clock::time_point now = clock::now());
  // Stores a schema; beyond the capacity the least recently used entry goes,
  // and entries older than their time to live are swept out now and then.
  std::shared_ptr<const table_schema> store(const ngsi::table_ref& table, table_schema schema,
                                            clock::time_point now = clock::now());
  void invalidate(const ngsi::table_ref& table) { entries_.erase(table); }
  void clear() { entries_.clear(); }
  std::size_t size() const { return entries_.size(); }

 private:
  struct entry {
    std::shared_ptr<const table_schema> schema;
    clock::time_point loaded;
  };
  bool expired(const entry& e, clock::time_point now) const;

  std::chrono::milliseconds ttl_;
  std::chrono::milliseconds missing_ttl_;
  bounded_lru<ngsi::table_ref, entry> entries_;
  clock::time_point last_sweep_{};
};

}  // namespace kafnus::postgis
