#pragma once
// The enumerations of the configuration, loaded as typed values: the names an
// operator writes are declared here once, next to the values they become, and
// the schema takes its allowed values from the same table.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kafnus::config {

// kafka.auto_offset_reset: where a partition never consumed starts.
enum class offset_reset { earliest, latest };

// kafka.position_out_of_range: where a partition whose stored position lies
// outside its records resumes (or fail: stop the daemon).
enum class out_of_range { earliest, latest, fail };

// datamodel.default and datamodel.services: how an entity's table is named.
enum class datamodel { by_entity_type_database, by_entity_type_database_schema, by_fixed_entity_type_database_schema };

// writer.unknown_columns: what happens to an attribute without a column.
enum class unknown_columns { error, drop, add };

template <class E>
struct enum_names;

template <>
struct enum_names<offset_reset> {
  static constexpr std::array<std::pair<offset_reset, std::string_view>, 2> items{
      {{offset_reset::earliest, "earliest"}, {offset_reset::latest, "latest"}}};
};

template <>
struct enum_names<out_of_range> {
  static constexpr std::array<std::pair<out_of_range, std::string_view>, 3> items{
      {{out_of_range::earliest, "earliest"}, {out_of_range::latest, "latest"}, {out_of_range::fail, "fail"}}};
};

template <>
struct enum_names<datamodel> {
  static constexpr std::array<std::pair<datamodel, std::string_view>, 3> items{
      {{datamodel::by_entity_type_database, "dm-by-entity-type-database"},
       {datamodel::by_entity_type_database_schema, "dm-by-entity-type-database-schema"},
       {datamodel::by_fixed_entity_type_database_schema, "dm-by-fixed-entity-type-database-schema"}}};
};

template <>
struct enum_names<unknown_columns> {
  static constexpr std::array<std::pair<unknown_columns, std::string_view>, 3> items{
      {{unknown_columns::error, "error"}, {unknown_columns::drop, "drop"}, {unknown_columns::add, "add"}}};
};

// The name an operator writes for a value.
template <class E>
constexpr std::string_view name_of(E value) {
  for (const auto& [v, name] : enum_names<E>::items) {
    if (v == value) return name;
  }
  return {};
}

// The value of a name, or nullopt.
template <class E>
constexpr std::optional<E> parse_enum(std::string_view name) {
  for (const auto& [v, n] : enum_names<E>::items) {
    if (n == name) return v;
  }
  return std::nullopt;
}

// Every name, in declaration order.
template <class E>
std::vector<std::string> names_of() {
  std::vector<std::string> out;
  for (const auto& [v, name] : enum_names<E>::items) out.emplace_back(name);
  return out;
}

}  // namespace kafnus::config
