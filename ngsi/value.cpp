#include "ngsi/value.hpp"

#include "ngsi/timestamp.hpp"

namespace kafnus::ngsi {

const char* to_string(value_kind k) noexcept {
  switch (k) {
    case value_kind::null: return "null";
    case value_kind::boolean: return "boolean";
    case value_kind::number: return "number";
    case value_kind::text: return "text";
    case value_kind::json: return "json";
    case value_kind::timestamp: return "timestamp";
    case value_kind::geometry: return "geometry";
  }
  return "null";
}

value value::timestamp(std::int64_t micros_since_epoch) {
  return {value_kind::timestamp, format_utc(micros_since_epoch), micros_since_epoch};
}

}  // namespace kafnus::ngsi
