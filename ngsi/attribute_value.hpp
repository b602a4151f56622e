#pragma once
// The typing rule: an NGSI attribute (its lower-cased name, its NGSI type,
// its JSON value) -> a typed value the writer can send without guessing.
//   null                                   -> null (any type)
//   name timeinstant                       -> timestamp, whatever its NGSI type
//   geo:*                                  -> geometry (ngsi/geometry.hpp)
//   json, jsonb, StructuredValue           -> json (the value's JSON text)
//   DateTime, ISO8601                      -> timestamp (UTC)
//   true / false                           -> boolean
//   number                                 -> number, every digit kept
//   string                                 -> text
//   object / array                         -> json

#include <string>
#include <string_view>

#include "ngsi/result.hpp"
#include "ngsi/value.hpp"

namespace kafnus::ngsi {

// An attribute's value as read from the notification, before typing.
struct json_value {
  enum class shape : unsigned char { null, boolean, number, string, object, array } kind = shape::null;
  bool flag = false;
  std::string text;  // string: decoded; number: its token; object/array: compact JSON
  std::string raw;   // string: the JSON string literal as sent (quotes and escapes)
};

result<value> type_attribute(std::string_view lower_name, std::string_view ngsi_type, const json_value& v);

}  // namespace kafnus::ngsi
