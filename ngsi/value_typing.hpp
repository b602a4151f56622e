#pragma once
// The typing rule: an attribute's JSON value and NGSI type -> the typed value
// the writer sends, first rule that applies:
//   column timeinstant              -> timestamp whatever the NGSI type (null stays null)
//   JSON null                       -> null, any NGSI type
//   geo:* (any case)                -> geometry (ngsi/geometry.hpp)
//   json, jsonb, StructuredValue    -> json: the value's compact JSON text
//   object or array                 -> json
//   true / false                    -> boolean
//   number                          -> number, its JSON literal (every digit kept)
//   string, DateTime or ISO8601     -> timestamp (ngsi/timestamp.hpp)
//   string                          -> text
// NGSI type names compare case-insensitively.

#include <cstdint>
#include <string>
#include <string_view>

#include "ngsi/json_tree.hpp"
#include "ngsi/result.hpp"
#include "ngsi/transform.hpp"
#include "ngsi/value.hpp"

namespace kafnus::ngsi {

// `column` is the lower-cased attribute name, `node` the attribute's "value"
// (json_tree::npos when it has none: null). Values larger than
// lim.max_value_bytes, and strings holding U+0000 (which PostgreSQL text and
// jsonb cannot store), are errors. Errors say what is wrong with the value;
// the caller names the entity and attribute. The value's text is a view of
// the tree's (a number, a string, a boolean's word) or of `scratch`, which
// holds what the typing made (a timestamp's text, a geometry's bytes,
// compact JSON): valid while both are unchanged.
result<value_view> type_value(std::string_view column, std::string_view ngsi_type, const json_tree& tree,
                              std::uint32_t node, const limits& lim, std::string& scratch);

}  // namespace kafnus::ngsi
