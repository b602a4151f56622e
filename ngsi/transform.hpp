#pragma once
// The functional core: one Kafka record -> rows for its flow, plus an error
// for every part that cannot become a row. Pure: no I/O, no clock (the caller
// passes `now`), never throws on any input.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ngsi/datamodel.hpp"
#include "ngsi/flow.hpp"
#include "ngsi/headers.hpp"
#include "ngsi/name_mappings.hpp"
#include "ngsi/row.hpp"

namespace kafnus::ngsi {

struct limits {
  std::size_t max_message_bytes = 16u << 20;
  std::size_t max_value_bytes = 4u << 20;  // one attribute value (text, JSON text, geometry source)
  int max_nesting_depth = 64;
  int max_attributes = 1595;  // PostgreSQL's 1,600 columns less the 4 base columns and the staging _seq
};

struct transform_options {
  flow f = flow::historic;
  datamodel_rules datamodels;
  limits lim;
  // Cygnus name mappings, applied before anything is named after the
  // service, servicepath, entity or attributes; null when none are
  // configured (then they cost nothing).
  std::shared_ptr<const name_mappings> mappings;
};

// What could not become a row. `service` routes the error-log entry (the
// service after name mappings, so errors sit beside the rows); when the
// entity could still be named and typed, `candidate` holds the row it would
// have been, so the error log can show a statement to re-run.
struct transform_error {
  std::string service;
  std::string message;
  std::optional<row> candidate;
};

struct transform_output {
  std::vector<row> rows;
  std::vector<transform_error> errors;
  std::size_t entities = 0;  // entities seen (good or bad)
};

// Appends the rows and errors of one record to `out`.
//   payload: the Kafka value bytes (Orion notification, or the legacy
//            {"schema":…,"payload":"<notification as a string>"} envelope)
//   now_us:  recvtime of every row, microseconds since the epoch (UTC)
void transform(std::string_view payload, const header_list& headers, const transform_options& options,
               std::int64_t now_us, transform_output& out);

// One record for several flows (a topic that feeds several): read once, then
// the rows and errors of each flow appended in the order of `flows`, each
// with its own options (which may differ only in their flow `f`: the
// record is named, mapped and parsed with the first's). `after_flow(i)` is
// called once each flow's rows and errors are in `out`, so the caller can
// tell them apart. The same rows and errors as one transform() per flow.
void transform_flows(std::string_view payload, const header_list& headers,
                     const std::vector<const transform_options*>& flows, std::int64_t now_us, transform_output& out,
                     const std::function<void(std::size_t)>& after_flow);

}  // namespace kafnus::ngsi
