#include "ngsi/value_typing.hpp"

#include <string>

#include "ngsi/geometry.hpp"
#include "ngsi/row.hpp"
#include "ngsi/text.hpp"
#include "ngsi/timestamp.hpp"

namespace kafnus::ngsi {
namespace {

bool is_json_type(std::string_view t) noexcept {
  return iequals(t, "json") || iequals(t, "jsonb") || iequals(t, "StructuredValue");
}

bool is_datetime_type(std::string_view t) noexcept { return iequals(t, "DateTime") || iequals(t, "ISO8601"); }

result<value> instant(std::string_view text, const char* note) {
  auto micros = parse_iso8601(text);
  if (!micros) {
    return make_error(quoted(text, kValueExcerpt) + " is not an ISO-8601 date-time" + note + ": " +
                      micros.err().message);
  }
  return value::timestamp(micros.value());
}

}  // namespace

result<value> type_value(std::string_view column, std::string_view ngsi_type, const json_tree& tree, std::uint32_t node,
                         const limits& lim) {
  if (node == json_tree::npos) return value::null();
  const json_node& n = tree.at(node);
  const std::size_t size = n.end - n.begin;
  if (size > lim.max_value_bytes) {
    return make_error("the value is " + std::to_string(size) + " bytes, more than limits.max_value_bytes (" +
                      std::to_string(lim.max_value_bytes) + ")");
  }
  if (n.has_nul) {
    return make_error("the value holds a NUL character (\\u0000), which PostgreSQL text and jsonb cannot store");
  }
  // Today's stack keys rows by TimeInstant whatever type Orion declared for
  // it, so it is a timestamp here too, and a wrong one is an error now
  // rather than a row that sorts wrongly later.
  if (column == kTimeInstant) {
    if (n.type == json_type::null) return value::null();
    if (n.type != json_type::string) {
      return make_error(std::string("the value is ") + describe(n.type) +
                        "; TimeInstant must be an ISO-8601 date-time string");
    }
    return instant(n.text, " (TimeInstant is always a timestamp)");
  }
  if (n.type == json_type::null) return value::null();
  if (is_geo_type(ngsi_type)) return geometry_value(ngsi_type, tree, node);
  if (is_json_type(ngsi_type)) return value::json(tree.compact(node));
  switch (n.type) {
    case json_type::object:
    case json_type::array: return value::json(tree.compact(node));
    case json_type::boolean: return value::boolean(n.boolean);
    case json_type::number: return value::number(std::string(n.text));
    case json_type::string:
      if (is_datetime_type(ngsi_type)) return instant(n.text, "");
      return value::text_value(std::string(n.text));
    case json_type::null: break;
  }
  return value::null();
}

}  // namespace kafnus::ngsi
