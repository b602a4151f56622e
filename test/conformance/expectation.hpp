#pragma once
// How a conformance case's expected.json is compared with the database
// (test/conformance/CASES.md, "How expected.json is compared"):
//   - rows: every expected row matches some row of the table (only the keys
//     it names are compared; extra rows and columns are ignored);
//   - absent: no row of the table matches any of the patterns;
//   - a value matches, first rule that applies: an operator object (eq, gt,
//     gte, lt, lte, contains, regex); a GeoJSON geometry or WKT string,
//     topologically equal (ST_Equals, in the database); a string that parses
//     as an ISO-8601 timestamp, within 1 ms; any other object or array, equal
//     as JSON (json/jsonb or text holding JSON); numbers numerically; null
//     and "" alike; anything else as text.

#include <functional>
#include <string>
#include <vector>

#include <simdjson.h>

namespace kafnus::test {

// Asks the database whether a geometry (GeoJSON text or WKT) equals a stored
// geometry value (GeoJSON, as to_jsonb renders it, or hex EWKB).
using geometry_equals = std::function<bool(const std::string& expected, bool is_wkt, const std::string& stored)>;

// Whether `expected` (one value of an expected row) matches `actual` (the
// column of a row from SELECT to_jsonb(t)).
bool value_matches(simdjson::dom::element expected, simdjson::dom::element actual, const geometry_equals& geo);

// Whether every key of the expected row matches the actual row object.
bool row_matches(simdjson::dom::object expected, simdjson::dom::object actual, const geometry_equals& geo);

// Milliseconds since the epoch of an ISO-8601 timestamp string (naive = UTC);
// false when the text is not one.
bool parse_timestamp_ms(const std::string& text, double& ms);

}  // namespace kafnus::test
