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

result<value_view> instant(std::string_view text, const char* note, std::string& scratch) {
  scratch.clear();
  auto micros = read_instant(text, scratch);
  if (!micros) {
    return make_error(quoted(text, kValueExcerpt) + " is not an ISO-8601 date-time" + note + ": " +
                      micros.err().message);
  }
  return value_view(value_kind::timestamp, scratch, micros.value());
}

// A value whose text the typing made (a geometry's bytes, compact JSON),
// held by `scratch`.
value_view held(value_kind kind, std::string text, std::string& scratch) {
  scratch = std::move(text);
  return value_view(kind, scratch, 0);
}

}  // namespace

result<value_view> type_value(std::string_view column, std::string_view ngsi_type, const json_tree& tree,
                              std::uint32_t node, const limits& lim, std::string& scratch) {
  if (node == json_tree::npos) return value_view();
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
    if (n.type == json_type::null) return value_view();
    if (n.type != json_type::string) {
      return make_error(std::string("the value is ") + describe(n.type) +
                        "; TimeInstant must be an ISO-8601 date-time string");
    }
    return instant(n.text, " (TimeInstant is always a timestamp)", scratch);
  }
  if (n.type == json_type::null) return value_view();
  if (is_geo_type(ngsi_type)) {
    auto kind = write_geometry(ngsi_type, tree, node, scratch);
    if (!kind) return kind.err();
    // A geometry, or null (a Feature without one).
    return kind.value() == value_kind::geometry ? value_view(value_kind::geometry, scratch, 0) : value_view();
  }
  if (is_json_type(ngsi_type)) return held(value_kind::json, tree.compact(node), scratch);
  switch (n.type) {
    case json_type::object:
    case json_type::array: return held(value_kind::json, tree.compact(node), scratch);
    case json_type::boolean: return value_view(value_kind::boolean, n.boolean ? "true" : "false", 0);
    case json_type::number: return value_view(value_kind::number, n.text, 0);
    case json_type::string:
      if (is_datetime_type(ngsi_type)) return instant(n.text, "", scratch);
      return value_view(value_kind::text, n.text, 0);
    case json_type::null: break;
  }
  return value_view();
}

}  // namespace kafnus::ngsi
