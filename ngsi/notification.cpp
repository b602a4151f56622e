#include "ngsi/notification.hpp"

#include <string>

#include "ngsi/text.hpp"

namespace kafnus::ngsi {
namespace {

constexpr const char* kExpected = "expected an Orion notification {\"subscriptionId\": …, \"data\": [entity, …]}";

// "found members 'a', 'b', 'c' and 2 more": what the object had instead.
std::string found_members(const json_tree& t, std::uint32_t obj) {
  const json_node& o = t.at(obj);
  if (o.count == 0) return "found an empty object";
  std::string s = "found members ";
  std::uint32_t shown = 0;
  for (std::uint32_t c = json_tree::first_child(obj); c < o.next && shown < 3; c = t.at(c).next, ++shown) {
    if (shown > 0) s += ", ";
    s += quoted(t.at(c).key, 32);
  }
  if (o.count > shown) s += " and " + std::to_string(o.count - shown) + " more";
  return s;
}

// `what` names the object in messages: a literal, not a std::string made
// (and, past 15 characters, allocated) for every notification.
result<notification> data_of(const json_tree& t, std::uint32_t obj, const char* what) {
  const std::uint32_t d = t.member(obj, "data");
  if (d == json_tree::npos) {
    return make_error(std::string(what) + " has no \"data\" array of entities (" + found_members(t, obj) + "); " +
                      kExpected);
  }
  if (t.at(d).type != json_type::array) {
    return make_error(std::string(what) + "'s \"data\" is " + describe(t.at(d).type) +
                      ", expected an array of entities");
  }
  return notification{&t, d};
}

}  // namespace

result<notification> read_notification(std::string_view payload, const limits& lim) {
  if (payload.size() > lim.max_message_bytes) {
    return make_error("the payload is " + std::to_string(payload.size()) +
                      " bytes, more than limits.max_message_bytes (" + std::to_string(lim.max_message_bytes) + ")");
  }
  auto parsed = parse_json_object(payload, lim.max_nesting_depth);
  if (!parsed) return make_error("the payload " + parsed.err().message + "; " + kExpected);
  const json_tree& outer = *parsed.value();
  const std::uint32_t root = outer.root();
  if (outer.member(root, "data") != json_tree::npos) return data_of(outer, root, "the notification");

  const std::uint32_t p = outer.member(root, "payload");
  if (p == json_tree::npos) return data_of(outer, root, "the payload");
  const json_node& inner_node = outer.at(p);
  if (inner_node.type == json_type::object) return data_of(outer, p, "the legacy envelope's \"payload\"");
  if (inner_node.type != json_type::string) {
    return make_error("the legacy envelope's \"payload\" is " + std::string(describe(inner_node.type)) +
                      ", expected the notification as a JSON string");
  }
  // Kafka Connect's JsonConverter with a string schema: the notification is
  // a JSON text inside a JSON string. Parsing it replaces the outer tree.
  auto inner = parse_json_object(inner_node.text, lim.max_nesting_depth);
  if (!inner) {
    return make_error("the legacy envelope's \"payload\" string " + inner.err().message + "; " + kExpected);
  }
  return data_of(*inner.value(), inner.value()->root(), "the legacy envelope's \"payload\"");
}

}  // namespace kafnus::ngsi
