#include "postgis/sql.hpp"

namespace kafnus::postgis {

std::string quote_ident(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out += '"';
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string quote_literal(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::string qualified(const ngsi::table_ref& table) {
  return quote_ident(table.schema) + "." + quote_ident(table.table);
}

void append_copy_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
}

const char* sql_type(ngsi::value_kind kind) {
  switch (kind) {
    case ngsi::value_kind::boolean: return "boolean";
    case ngsi::value_kind::number: return "numeric";
    case ngsi::value_kind::json: return "json";
    case ngsi::value_kind::timestamp: return "timestamptz";
    case ngsi::value_kind::geometry: return "geometry";
    case ngsi::value_kind::text:
    case ngsi::value_kind::null: return "text";
  }
  return "text";
}

std::string literal(const ngsi::value& v) {
  switch (v.kind) {
    case ngsi::value_kind::null: return "NULL";
    case ngsi::value_kind::boolean:
    case ngsi::value_kind::number: return v.text;
    case ngsi::value_kind::text: return quote_literal(v.text);
    case ngsi::value_kind::json:
    case ngsi::value_kind::timestamp:
    case ngsi::value_kind::geometry: return quote_literal(v.text) + "::" + sql_type(v.kind);
  }
  return "NULL";
}

}  // namespace kafnus::postgis
