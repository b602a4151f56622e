#include "postgis/sql.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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
  append_literal(out, text);
  return out;
}

void append_literal(std::string& out, std::string_view text) {
  out += '\'';
  for (auto at = text.find('\''); at != std::string_view::npos; at = text.find('\'')) {
    out.append(text.data(), at + 1);  // the quote, doubled below
    out += '\'';
    text.remove_prefix(at + 1);
  }
  out += text;
  out += '\'';
}

std::string qualified(const ngsi::table_ref& table) {
  return quote_ident(table.schema) + "." + quote_ident(table.table);
}

namespace {

// COPY text escapes backslash, newline, carriage return and tab; every other
// byte (UTF-8 included) goes through as is.
constexpr bool needs_copy_escape(char c) { return c == '\\' || c == '\n' || c == '\r' || c == '\t'; }

// Length of the prefix of [p, end) that needs no escaping. Almost every
// value (numbers, timestamps, hex EWKB, most text) has none, so the run is
// found 16 bytes at a time and appended with one copy.
std::size_t plain_run(const char* p, const char* end) {
  const char* q = p;
#if defined(__SSE2__)
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i newline = _mm_set1_epi8('\n');
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i tab = _mm_set1_epi8('\t');
  while (end - q >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q));
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, backslash), _mm_cmpeq_epi8(v, newline)),
                                     _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, tab)));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return static_cast<std::size_t>(q - p) + static_cast<std::size_t>(__builtin_ctz(mask));
    q += 16;
  }
#endif
  while (q < end && !needs_copy_escape(*q)) ++q;
  return static_cast<std::size_t>(q - p);
}

}  // namespace

void append_copy_escaped(std::string& out, std::string_view text) {
  const char* p = text.data();
  const char* const end = p + text.size();
  while (p < end) {
    const std::size_t run = plain_run(p, end);
    out.append(p, run);
    p += run;
    if (p == end) break;
    switch (*p++) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += "\\t"; break;
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

std::string literal(ngsi::value_view v) {
  switch (v.kind) {
    case ngsi::value_kind::null: return "NULL";
    case ngsi::value_kind::boolean:
    case ngsi::value_kind::number: return std::string(v.text);
    case ngsi::value_kind::text: return quote_literal(v.text);
    case ngsi::value_kind::json:
    case ngsi::value_kind::timestamp: return quote_literal(v.text) + "::" + sql_type(v.kind);
    case ngsi::value_kind::geometry: return "'" + ngsi::hex_upper(v.text) + "'::" + sql_type(v.kind);
  }
  return "NULL";
}

}  // namespace kafnus::postgis
