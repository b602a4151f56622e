#pragma once
// One entity of a notification -> its row in its flow's table, or the error
// that keeps it from being one (with the row it would have been when the
// entity could be named, typed and routed, so the error log can show it).

#include <cstddef>
#include <cstdint>

#include "ngsi/datamodel.hpp"
#include "ngsi/headers.hpp"
#include "ngsi/json_tree.hpp"
#include "ngsi/name_mappings.hpp"
#include "ngsi/transform.hpp"

namespace kafnus::ngsi {

// What every entity of one record shares.
struct record_context {
  const fiware_context& ctx;
  datamodel dm;
  const transform_options& options;
  std::int64_t now_us;
  const service_rule* mapping = nullptr;  // the name-mapping rule of the record's service, if any
};

// Appends the row of entity node `entity` (the `index`-th of "data") to
// out.rows, or its error to out.errors. The flow rules:
//   historic   insert; needs a non-null TimeInstant (the key is entityid, timeinstant)
//   mutable    upsert; needs a non-null TimeInstant (same key)
//   lastdata   upsert, TimeInstant optional; alterationType entityDelete
//              (any case) gives a remove row holding only entityid
void entity_to_row(const json_tree& tree, std::uint32_t entity, std::size_t index, const record_context& rc,
                   transform_output& out);

}  // namespace kafnus::ngsi
