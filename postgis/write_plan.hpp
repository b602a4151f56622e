#pragma once
// Planning a transaction (pure): which statements write a batch of rows, in
// which order, so that the result is exactly that of applying the rows one
// by one in offset order — but with one COPY and one INSERT … SELECT per
// table and row shape instead of one statement per row.
//
// Rows go into groups of the same table, operation and shape (the ordered
// column names and value kinds). Groups are collected in segments: within a
// segment a key (entityid for lastdata, entityid+timeinstant for mutable and
// historic) appears in one group only, so the order of groups inside a
// segment does not matter, and rows of one key in one group are folded the
// way the database would fold them (lastdata: the newest TimeInstant wins,
// ties to the later row; mutable: the later row wins). A key that comes back
// with another shape starts a new segment, so offset order is kept across
// shapes.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/enums.hpp"
#include "ngsi/row.hpp"
#include "postgis/table_schema.hpp"

namespace kafnus::postgis {

// writer.unknown_columns: error (the row goes to the error log), drop (the
// attribute is dropped and counted), add (the column is added).
using unknown_column_policy = config::unknown_columns;

// Whether a column's values, written straight into their table (COPY, or
// an INSERT of their text), store what the staged path's assignment from
// the staging table would: always, only when every value is an integer
// literal (a number into an integer column), or never. The planner works
// it out once per shape (direct_read_of); `unknown` in a group built
// otherwise, which is then worked out at every use.
enum class direct_read : std::uint8_t { unknown, same, integer_literals, differs };

struct group_column {
  std::string name;
  ngsi::value_kind kind;        // null: every row of the group has NULL here
  int stage_index = -1;         // column of the staging table (c<N>), -1 for null; its kind is
                                // `kind`, but text for a number into a text column (stored as written)
  bool target_exists = false;   // false: no such column (unknown-column policy "error": the database reports it)
  bool target_is_json = false;  // json/jsonb column: text and scalars are converted to JSON
  std::string target_type;      // format_type() of the column, when it exists
  direct_read direct = direct_read::unknown;
};

// An immutable vector shared by copies: what a row shape plans (a group's
// columns, a row's value index) is worked out once and then shared by every
// group and row of that shape, transaction after transaction, instead of
// copied (at a few rows per group, copying the group's columns was most of
// the planning). Reads like a const std::vector.
template <typename T>
class shared_vector {
 public:
  shared_vector() = default;
  explicit shared_vector(std::vector<T> v) : v_(std::make_shared<const std::vector<T>>(std::move(v))) {}
  const std::vector<T>& get() const { return v_ ? *v_ : empty_; }
  operator const std::vector<T>&() const { return get(); }  // NOLINT(google-explicit-constructor): reads as the vector
  std::size_t size() const { return get().size(); }
  bool empty() const { return get().empty(); }
  const T& operator[](std::size_t i) const { return get()[i]; }
  const T& at(std::size_t i) const { return get().at(i); }
  typename std::vector<T>::const_iterator begin() const { return get().begin(); }
  typename std::vector<T>::const_iterator end() const { return get().end(); }

 private:
  static inline const std::vector<T> empty_{};
  std::shared_ptr<const std::vector<T>> v_;
};

struct planned_row {
  const ngsi::row* row = nullptr;
  std::size_t tag = 0;                       // caller's tag (the source the row came from)
  shared_vector<std::uint16_t> value_index;  // for each group column, index into row->columns
};

struct statement_group {
  ngsi::table_ref table;
  ngsi::flow flow = ngsi::flow::historic;
  ngsi::operation op = ngsi::operation::insert;
  shared_vector<group_column> columns;
  shared_vector<ngsi::value_kind> stage_kinds;  // kinds of the staging columns, in order
  std::vector<planned_row> rows;                // in offset order (after folding)
  std::size_t folded = 0;                       // rows superseded by a later row of the same key
  std::vector<const ngsi::row*> folded_rows;    // those rows (each counts as written, for its own service)
  bool copy_into_target = true;                 // the target accepts COPY (a table, not a view)
  // What its prepared one-row INSERT is known by (insert_statement_key),
  // made once per shape; null in a group built otherwise.
  std::shared_ptr<const std::string> insert_key;
};

// How a group column's values read when written straight into its table
// (see direct_read; never `unknown`).
direct_read direct_read_of(const group_column& c);

// What a group's prepared one-row INSERT is known by: its table, operation,
// flow, and each column's name and type (NUL-separated). A column whose
// type changes makes another statement (PostgreSQL fixes a prepared
// statement's parameter types when it is prepared).
std::string insert_statement_key(const statement_group& g);

struct rejected_row {
  const ngsi::row* row = nullptr;
  std::size_t tag = 0;
  std::string error;
};

struct write_plan {
  std::vector<statement_group> groups;              // execute in this order
  std::vector<rejected_row> rejected;               // cannot be written at all (table missing)
  std::array<std::size_t, 3> dropped_attributes{};  // per ngsi::flow: unknown-column policy "drop"
};

struct tagged_row {
  const ngsi::row* row;
  std::size_t tag;
};

// What planning works out for one row shape (table, operation, flow, and
// the (name, kind) columns in their order) against its table's schema: the
// columns written, sorted by name, and the columns of their group.
struct shape_info {
  // The shape itself, to tell apart shapes whose hashes collide.
  ngsi::table_ref table;
  ngsi::operation op = ngsi::operation::insert;
  ngsi::flow f = ngsi::flow::historic;
  std::vector<std::pair<std::string, ngsi::value_kind>> columns;
  unknown_column_policy policy = unknown_column_policy::error;
  std::uint64_t schema_id = 0;  // table_schema::id planned against

  shared_vector<std::uint16_t> idx;  // the row columns written, sorted by name
  std::size_t dropped = 0;           // attributes the "drop" policy drops from each row
  std::string sig;                   // the signature of their group (column order aside)
  statement_group group;             // that group, without rows

  bool same_shape(const ngsi::row& r, unknown_column_policy p) const;
};

// Shapes planned in earlier transactions. Rows of one kind of notification
// share a shape, transaction after transaction; at a few rows per table
// (low rates) working each one out again was a fifth of the writer's CPU.
// An entry serves while its table's schema is the one it was planned
// against (table_schema::id, renewed whenever the schema is read again);
// a schema with no id is never cached. Beyond `capacity` shapes the cache
// starts over.
class shape_cache {
 public:
  static constexpr std::size_t kDefaultCapacity = 1024;
  explicit shape_cache(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  // What was planned for row `r`'s shape (`hash`: its shape hash) against
  // `schema` (which has an id): the entry, or planned now and kept,
  // replacing the entry planned against an older schema of the table.
  std::shared_ptr<const shape_info> get(std::uint64_t hash, const ngsi::row& r, const table_schema& schema,
                                        unknown_column_policy policy);
  std::size_t size() const { return by_hash_.size(); }

 private:
  std::size_t capacity_;
  std::unordered_multimap<std::uint64_t, std::shared_ptr<const shape_info>> by_hash_;
};

// `schema_of` must know every table the rows name. With a cache, shapes
// planned before against the same schemas are taken from it, and new ones
// go into it.
write_plan build_plan(const std::vector<tagged_row>& rows,
                      const std::function<const table_schema&(const ngsi::table_ref&)>& schema_of,
                      unknown_column_policy policy, shape_cache* cache = nullptr);

// A column the "add" policy must create before planning.
struct column_addition {
  ngsi::table_ref table;
  std::string column;
  std::string type;  // SQL type derived from the value kind
};

std::vector<column_addition> missing_columns(
    const std::vector<tagged_row>& rows, const std::function<const table_schema&(const ngsi::table_ref&)>& schema_of);

// SQL type a new column gets for a value kind (policy "add").
const char* column_type_for(ngsi::value_kind kind);

// Name of the temporary staging table for a list of kinds.
std::string stage_name(const std::vector<ngsi::value_kind>& kinds);

}  // namespace kafnus::postgis
