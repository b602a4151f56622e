#pragma once
// SQL text building blocks. Every identifier that reaches SQL goes through
// quote_ident, every value through quote_literal or COPY escaping.

#include <string>
#include <string_view>

#include "ngsi/table_name.hpp"
#include "ngsi/value.hpp"

namespace kafnus::postgis {

// "name" with embedded quotes doubled.
std::string quote_ident(std::string_view name);

// 'text' with embedded quotes doubled (standard_conforming_strings = on,
// which every Kafnus session sets, so backslashes are plain characters).
std::string quote_literal(std::string_view text);
void append_literal(std::string& out, std::string_view text);

// "schema"."table"
std::string qualified(const ngsi::table_ref& table);

// Appends `text` escaped for COPY ... FROM STDIN text format.
void append_copy_escaped(std::string& out, std::string_view text);

// The PostgreSQL type that carries a value kind in staging tables and casts.
const char* sql_type(ngsi::value_kind kind);

// A value as a SQL literal an operator can paste: NULL, true, 12.5,
// 'text', '{"a":1}'::json, '2025-01-01 00:00:00+00'::timestamptz,
// '0101…'::geometry.
std::string literal(ngsi::value_view v);

}  // namespace kafnus::postgis
