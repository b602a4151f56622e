#include "ngsi/attribute_value.hpp"

#include "ngsi/geometry.hpp"
#include "ngsi/text.hpp"
#include "ngsi/timestamp.hpp"

namespace kafnus::ngsi {
namespace {

// The value as JSON text: what a json column receives.
std::string as_json(const json_value& v) {
  switch (v.kind) {
    case json_value::shape::null: return "null";
    case json_value::shape::boolean: return v.flag ? "true" : "false";
    case json_value::shape::string: return v.raw;
    default: return v.text;
  }
}

result<value> timestamp_of(std::string_view what, const json_value& v) {
  if (v.kind != json_value::shape::string) {
    return make_error(std::string(what) + " must be an ISO-8601 date string");
  }
  if (auto us = parse_timestamp(v.text)) return value::timestamp(*us);
  return make_error(std::string(what) + " is not a valid ISO-8601 date: \"" + excerpt(v.text, 80) + "\"");
}

}  // namespace

result<value> type_attribute(std::string_view lower_name, std::string_view ngsi_type, const json_value& v) {
  const std::string type = ascii_lower(ngsi_type);
  if (v.kind == json_value::shape::null) return value::null();
  if (lower_name == "timeinstant") return timestamp_of("TimeInstant", v);
  if (type.rfind("geo:", 0) == 0) {
    auto g = geometry_from_ngsi(std::string_view(type).substr(4), as_json(v));
    if (!g) return make_error("attribute '" + excerpt(lower_name, 80) + "' (" + excerpt(ngsi_type, 40) + "): " + g.err().message);
    if (!g.value()) return value::null();
    return value::geometry(std::move(*g.value()));
  }
  if (type == "json" || type == "jsonb" || type == "structuredvalue") return value::json(as_json(v));
  if (type == "datetime" || type == "iso8601") {
    return timestamp_of("attribute '" + excerpt(lower_name, 80) + "' (" + std::string(ngsi_type) + ")", v);
  }
  switch (v.kind) {
    case json_value::shape::boolean: return value::boolean(v.flag);
    case json_value::shape::number: return value::number(v.text);
    case json_value::shape::string: return value::text_value(v.text);
    default: return value::json(v.text);
  }
}

}  // namespace kafnus::ngsi
