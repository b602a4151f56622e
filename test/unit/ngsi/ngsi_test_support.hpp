#pragma once
// Builders of Orion-shaped notifications and a one-call transform for the
// ngsi/ unit tests.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "ngsi/row.hpp"
#include "ngsi/transform.hpp"
#include "text/json.hpp"

namespace kafnus::ngsi::testing {

// 2025-06-26T11:00:00Z: the recvtime of every row in these tests.
inline constexpr std::int64_t kNow = 1750935600000000;

// A JSON string literal of `s`.
inline std::string json_string(const std::string& s) { return text::json_quote(s); }

// "name": {"type": type, "value": <value_json>, "metadata": {}}, as Orion
// notifies a normalized attribute.
inline std::string attr(const std::string& name, const std::string& type, const std::string& value_json) {
  return json_string(name) + ":{\"type\":" + json_string(type) + ",\"value\":" + value_json + ",\"metadata\":{}}";
}

inline std::string time_instant(const std::string& iso = "2025-06-26T11:00:00.000Z") {
  return attr("TimeInstant", "DateTime", json_string(iso));
}

inline std::string entity(const std::string& id, const std::string& type, const std::vector<std::string>& attrs) {
  std::string s = "{\"id\":" + json_string(id) + ",\"type\":" + json_string(type);
  for (const auto& a : attrs) s += "," + a;
  return s + "}";
}

inline std::string notification(const std::vector<std::string>& entities) {
  std::string s = "{\"subscriptionId\":\"5f0a1b2c3d4e5f6a7b8c9d0e\",\"data\":[";
  for (std::size_t i = 0; i < entities.size(); ++i) s += (i ? "," : "") + entities[i];
  return s + "]}";
}

inline header_list orion_headers(const std::string& service = "test", const std::string& path = "/simple") {
  return {{"Fiware-Service", service}, {"Fiware-ServicePath", path}};
}

inline transform_options options_for(flow f) {
  transform_options o;
  o.f = f;
  return o;
}

inline transform_output run(const std::string& payload, const transform_options& o = {},
                            const header_list& headers = orion_headers()) {
  transform_output out;
  transform(payload, headers, o, kNow, out);
  return out;
}

inline transform_output run(const std::string& payload, flow f, const header_list& headers = orion_headers()) {
  return run(payload, options_for(f), headers);
}

// One attribute (not TimeInstant) of one entity that has a TimeInstant, through
// the historic flow: its typed value, or the entity's error.
struct typed {
  bool ok = false;
  value val;
  std::string error;
};

inline typed type_one(const std::string& type, const std::string& value_json, const std::string& name = "attr",
                      const transform_options& o = {}) {
  const auto out = run(notification({entity("E1", "Thing", {time_instant(), attr(name, type, value_json)})}), o);
  typed t;
  if (out.rows.size() == 1 && out.errors.empty()) {
    t.ok = true;
    for (const auto& c : out.rows[0].columns) {
      if (c.name != kEntityId && c.name != kEntityType && c.name != kServicePath && c.name != kRecvTime &&
          c.name != kTimeInstant) {
        t.val = c.val.to_value();
      }
    }
  } else if (!out.errors.empty()) {
    t.error = out.errors[0].message;
  }
  return t;
}

}  // namespace kafnus::ngsi::testing
