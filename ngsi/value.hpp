#pragma once
// A typed attribute value, ready for the writer: its kind says which
// PostgreSQL type carries it, its text is that type's input syntax (a
// geometry's is the bytes that syntax spells in hex: input_text()).

#include <cstdint>
#include <string>
#include <string_view>

namespace kafnus::ngsi {

enum class value_kind : unsigned char {
  null,       // SQL NULL; text is empty
  boolean,    // boolean: "true" | "false"
  number,     // numeric: the JSON number's exact text (every digit kept: "9223372036854775807", "4000.1234", "1e-06")
  text,       // text: the decoded UTF-8 string (never contains NUL)
  json,       // json: compact JSON text of an object, array or json/jsonb/StructuredValue value
  timestamp,  // timestamptz: "YYYY-MM-DD HH:MM:SS.ffffff+00" (UTC); micros holds the instant
  geometry,   // geometry: EWKB bytes with SRID 4326 (little-endian); PostgreSQL's input syntax is their hex
};

// "null", "boolean", "number", "text", "json", "timestamp", "geometry"
const char* to_string(value_kind k) noexcept;

struct value {
  value_kind kind = value_kind::null;
  std::string text;
  std::int64_t micros = 0;  // timestamp only: microseconds since 1970-01-01T00:00:00Z

  static value null() { return {}; }
  static value boolean(bool b) { return {value_kind::boolean, b ? "true" : "false", 0}; }
  static value number(std::string digits) { return {value_kind::number, std::move(digits), 0}; }
  static value text_value(std::string s) { return {value_kind::text, std::move(s), 0}; }
  static value json(std::string j) { return {value_kind::json, std::move(j), 0}; }
  // The EWKB bytes themselves: half the memory of their hex, and what
  // binary COPY sends (the writer hex-encodes them only for COPY text and
  // SQL literals).
  static value geometry(std::string ewkb) { return {value_kind::geometry, std::move(ewkb), 0}; }
  // From hex EWKB (either case); throws std::invalid_argument when `hex` is
  // not an even number of hex digits.
  static value geometry_from_hex(std::string_view hex);
  static value timestamp(std::int64_t micros_since_epoch);  // formats text

  friend bool operator==(const value& a, const value& b) {
    return a.kind == b.kind && a.text == b.text && a.micros == b.micros;
  }
  friend bool operator!=(const value& a, const value& b) { return !(a == b); }
};

// A value whose text lives elsewhere (in a row's buffer, or in a value).
struct value_view {
  value_kind kind = value_kind::null;
  std::string_view text;
  std::int64_t micros = 0;  // timestamp only

  value_view() = default;
  value_view(value_kind k, std::string_view t, std::int64_t us) : kind(k), text(t), micros(us) {}
  value_view(const value& v) : kind(v.kind), text(v.text), micros(v.micros) {}  // NOLINT: a value is a view of itself

  value to_value() const { return value{kind, std::string(text), micros}; }
  friend bool operator==(const value_view& a, const value_view& b) {
    return a.kind == b.kind && a.text == b.text && a.micros == b.micros;
  }
  friend bool operator!=(const value_view& a, const value_view& b) { return !(a == b); }
};

// Bytes as upper-case hex, as PostGIS prints EWKB: at `out` (2 per byte;
// returns the end), after `out`'s text, or as a string.
char* write_hex_upper(char* out, std::string_view bytes) noexcept;
void append_hex_upper(std::string& out, std::string_view bytes);
std::string hex_upper(std::string_view bytes);

// The value's text in its PostgreSQL type's input syntax: a geometry's EWKB
// as hex, any other value's text as it is.
std::string input_text(value_view v);

}  // namespace kafnus::ngsi
