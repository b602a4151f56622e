#pragma once
// Datamodels decide the schema and table of an entity's rows.

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace kafnus::ngsi {

enum class datamodel : unsigned char {
  by_entity_type_database,               // dm-by-entity-type-database
  by_entity_type_database_schema,        // dm-by-entity-type-database-schema
  by_fixed_entity_type_database_schema,  // dm-by-fixed-entity-type-database-schema
};

std::string_view to_string(datamodel dm) noexcept;
std::optional<datamodel> parse_datamodel(std::string_view name) noexcept;  // exact names above

// Which datamodel applies when the record carries no fiware-datamodel header.
struct datamodel_rules {
  datamodel fallback = datamodel::by_entity_type_database;
  std::map<std::string, datamodel> per_service;  // keyed by lower-cased service
};

}  // namespace kafnus::ngsi
