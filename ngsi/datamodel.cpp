#include "ngsi/datamodel.hpp"

namespace kafnus::ngsi {

std::string_view to_string(datamodel dm) noexcept {
  switch (dm) {
    case datamodel::by_entity_type_database: return "dm-by-entity-type-database";
    case datamodel::by_entity_type_database_schema: return "dm-by-entity-type-database-schema";
    case datamodel::by_fixed_entity_type_database_schema: return "dm-by-fixed-entity-type-database-schema";
  }
  return "dm-by-entity-type-database";
}

std::optional<datamodel> parse_datamodel(std::string_view name) noexcept {
  for (datamodel dm : {datamodel::by_entity_type_database, datamodel::by_entity_type_database_schema,
                       datamodel::by_fixed_entity_type_database_schema}) {
    if (to_string(dm) == name) return dm;
  }
  return std::nullopt;
}

}  // namespace kafnus::ngsi
