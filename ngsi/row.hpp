#pragma once
// One row for one entity of one notification, in the table of its flow.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ngsi/flow.hpp"
#include "ngsi/table_name.hpp"
#include "ngsi/value.hpp"

namespace kafnus::ngsi {

enum class operation : unsigned char {
  insert,  // historic: plain INSERT; a duplicate key is a data error
  upsert,  // lastdata: ON CONFLICT (entityid) with the freshness rule;
           // mutable: ON CONFLICT (entityid, timeinstant), last write wins
  remove,  // lastdata entityDelete: DELETE ... WHERE entityid = ...
};

struct column {
  std::string name;  // lower-cased attribute name, or a base column
  value val;
};

struct row {
  flow f = flow::historic;
  operation op = operation::insert;
  table_ref table;
  std::string service;    // lower-cased fiware-service: routes this row's error-log entry
  std::string entity_id;  // entity id as sent
  // Columns in this order: entityid, entitytype, fiwareservicepath, recvtime,
  // then one per attribute in notification order (timeinstant among them when
  // present). A remove row carries entityid only.
  std::vector<column> columns;
  // The TimeInstant as an instant, when the entity had a non-null one.
  std::optional<std::int64_t> timeinstant_us;

  // The column named `name`, or nullptr.
  const column* find(const std::string& name) const;
  // Approximate memory size, for batching limits.
  std::size_t byte_size() const;
};

// Names of the base columns Kafnus fills itself.
inline constexpr const char* kEntityId = "entityid";
inline constexpr const char* kEntityType = "entitytype";
inline constexpr const char* kServicePath = "fiwareservicepath";
inline constexpr const char* kRecvTime = "recvtime";
inline constexpr const char* kTimeInstant = "timeinstant";

}  // namespace kafnus::ngsi
