#pragma once
// The table-name rule: which schema.table an entity's row goes to.

#include <string>
#include <string_view>

#include "ngsi/datamodel.hpp"
#include "ngsi/flow.hpp"
#include "ngsi/headers.hpp"
#include "ngsi/result.hpp"

namespace kafnus::ngsi {

struct table_ref {
  std::string schema;  // unquoted; only [a-z0-9_]
  std::string table;   // unquoted; only [a-z0-9_]
  friend bool operator==(const table_ref& a, const table_ref& b) { return a.schema == b.schema && a.table == b.table; }
  friend bool operator!=(const table_ref& a, const table_ref& b) { return !(a == b); }
  friend bool operator<(const table_ref& a, const table_ref& b) {
    return a.schema != b.schema ? a.schema < b.schema : a.table < b.table;
  }
};

// s(): lower-case, strip one leading and one trailing '/', map every byte
// outside [a-z0-9_] to '_' (a multi-byte UTF-8 character becomes one '_' per byte).
std::string sanitize(std::string_view text);

// The datamodel of a record: the fiware-datamodel header when present, else
// the service's configured default, else the rules' fallback. An unknown
// header value is an error naming it and the allowed values.
result<datamodel> choose_datamodel(const fiware_context& ctx, const datamodel_rules& rules);

// The target table of an entity of `entity_type` in flow `f`:
//   by_entity_type_database:              s(service).s(servicepath)_s(type)  (root servicepath: _s(type))
//   by_entity_type_database_schema:       s(servicepath).s(servicepath)_s(type)
//   by_fixed_entity_type_database_schema: s(servicepath).s(type)
// then the flow suffix. The schema datamodels need a servicepath other than
// "/": without one it is an error naming fiware-servicepath. Names longer than
// PostgreSQL's 63 bytes are an error too (PostgreSQL would silently truncate).
result<table_ref> table_for(datamodel dm, const fiware_context& ctx, std::string_view entity_type, flow f);

// <s(service)>.<s(service)>_error_log
table_ref error_log_table(std::string_view service);

}  // namespace kafnus::ngsi
