#include "postgis/binary_copy.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>

#include <pqxx/except>

#include "postgis/table_schema.hpp"

namespace kafnus::postgis {
namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// PostgreSQL's epoch (2000-01-01 00:00:00 UTC) in microseconds since 1970.
constexpr std::int64_t kPostgresEpochMicros = 946684800000000LL;

template <typename T>
void put_be(std::string& out, T v) {
  using U = std::make_unsigned_t<T>;
  auto u = static_cast<U>(v);
  char b[sizeof(U)];
  for (std::size_t i = 0; i < sizeof(U); ++i) {
    b[sizeof(U) - 1 - i] = static_cast<char>(u & 0xFF);
    u = static_cast<U>(u >> 8);
  }
  out.append(b, sizeof(U));
}

void put_field(std::string& out, std::string_view bytes) {
  put_be(out, static_cast<std::int32_t>(bytes.size()));
  out.append(bytes);
}

// Whether a JSON number's text has a digit other than 0 before its exponent:
// such a number read as 0 underflowed, which PostgreSQL refuses.
bool nonzero_mantissa(std::string_view s) {
  for (char c : s) {
    if (c == 'e' || c == 'E') break;
    if (c >= '1' && c <= '9') return true;
  }
  return false;
}

// A float as PostgreSQL's float8in / float4in read the text (both correctly
// rounded); nothing where PostgreSQL reports the text out of range.
template <typename F>
std::optional<F> read_float(std::string_view s) {
  F v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  if (!std::isfinite(v) || (v == 0 && nonzero_mantissa(s))) return std::nullopt;
  return v;
}

template <typename I>
bool put_integer(std::string& out, std::string_view s) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return false;
  if (v < std::numeric_limits<I>::min() || v > std::numeric_limits<I>::max()) return false;
  put_be(out, static_cast<std::int32_t>(sizeof(I)));
  put_be(out, static_cast<I>(v));
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool put_hex_decoded(std::string& out, std::string_view hex) {
  if (hex.size() % 2 != 0) return false;
  put_be(out, static_cast<std::int32_t>(hex.size() / 2));
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hex_digit(hex[i]);
    const int lo = hex_digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi << 4 | lo);
  }
  return true;
}

// Appends one non-NULL value; false when it cannot be written exactly.
bool put_value(std::string& out, binary_format f, const ngsi::value_view& v) {
  switch (f) {
    case binary_format::bytes: put_field(out, v.text); return true;
    case binary_format::boolean:
      if (v.text != "true" && v.text != "false") return false;
      put_be(out, std::int32_t{1});
      out += v.text == "true" ? '\1' : '\0';
      return true;
    case binary_format::float8: {
      const auto d = read_float<double>(v.text);
      if (!d) return false;
      std::uint64_t bits = 0;
      std::memcpy(&bits, &*d, sizeof bits);
      put_be(out, std::int32_t{8});
      put_be(out, bits);
      return true;
    }
    case binary_format::float4: {
      const auto d = read_float<float>(v.text);
      if (!d) return false;
      std::uint32_t bits = 0;
      std::memcpy(&bits, &*d, sizeof bits);
      put_be(out, std::int32_t{4});
      put_be(out, bits);
      return true;
    }
    case binary_format::int8: return put_integer<std::int64_t>(out, v.text);
    case binary_format::int4: return put_integer<std::int32_t>(out, v.text);
    case binary_format::int2: return put_integer<std::int16_t>(out, v.text);
    case binary_format::timestamp:
      put_be(out, std::int32_t{8});
      put_be(out, v.micros - kPostgresEpochMicros);
      return true;
    case binary_format::jsonb:
      put_be(out, static_cast<std::int32_t>(v.text.size() + 1));
      out += '\1';
      out.append(v.text);
      return true;
    case binary_format::ewkb: return put_hex_decoded(out, v.text);
  }
  return false;
}

std::optional<binary_format> format_of(const group_column& c) {
  const auto& type = c.target_type;
  if (c.kind == ngsi::value_kind::null || is_text_type(type)) return binary_format::bytes;
  switch (c.kind) {
    case ngsi::value_kind::boolean:
      if (type == "boolean") return binary_format::boolean;
      break;
    case ngsi::value_kind::number:
      if (type == "double precision") return binary_format::float8;
      if (type == "real") return binary_format::float4;
      if (type == "bigint") return binary_format::int8;
      if (type == "integer") return binary_format::int4;
      if (type == "smallint") return binary_format::int2;
      break;  // numeric: its binary form is base-10000 digits; COPY text it is
    case ngsi::value_kind::json:
      if (type == "jsonb") return binary_format::jsonb;
      if (type == "json") return binary_format::bytes;
      break;
    case ngsi::value_kind::timestamp:
      if (type == "timestamp with time zone" || type == "timestamp without time zone") return binary_format::timestamp;
      break;
    case ngsi::value_kind::geometry:
      if (starts_with(type, "geometry")) return binary_format::ewkb;
      break;
    case ngsi::value_kind::text:
    case ngsi::value_kind::null: break;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::vector<binary_format>> binary_formats(const statement_group& g) {
  std::vector<binary_format> formats;
  formats.reserve(g.columns.size());
  for (const auto& c : g.columns) {
    const auto f = format_of(c);
    if (!f) return std::nullopt;
    formats.push_back(*f);
  }
  return formats;
}

std::optional<std::string> binary_copy_data(const statement_group& g, const std::vector<binary_format>& formats) {
  static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // and its terminating NUL: 11 bytes
  std::string out(kSignature, sizeof kSignature);
  put_be(out, std::int32_t{0});  // flags: no OIDs
  put_be(out, std::int32_t{0});  // no header extension
  const auto fields = static_cast<std::int16_t>(g.columns.size());
  for (const auto& r : g.rows) {
    const std::size_t before = out.size();
    put_be(out, fields);
    for (std::size_t i = 0; i < g.columns.size(); ++i) {
      const auto& v = r.row->columns[r.value_index[i]].val;
      if (v.kind == ngsi::value_kind::null) {
        put_be(out, std::int32_t{-1});
      } else if (!put_value(out, formats[i], v)) {
        return std::nullopt;
      }
    }
    // After the first row: the data will grow to about that many rows like
    // it (a fifth more), at most 8 MiB ahead, so it is not copied at every
    // doubling.
    if (before == sizeof kSignature + 8) {
      constexpr std::size_t kMaxReserve = std::size_t{8} << 20;
      out.reserve(std::min((out.size() - before) * g.rows.size() / 4 * 5 + out.size(), kMaxReserve));
    }
  }
  put_be(out, std::int16_t{-1});  // trailer
  return out;
}

namespace {

[[noreturn]] void throw_result_error(PGconn* pg, PGresult* res, const std::string& query) {
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = res != nullptr ? PQresultErrorMessage(res) : "";
  if (message.empty()) message = PQerrorMessage(pg);
  const std::string sqlstate = state != nullptr ? state : "";
  if (res != nullptr) PQclear(res);
  while (PGresult* more = PQgetResult(pg)) PQclear(more);
  if (PQstatus(pg) == CONNECTION_BAD) throw pqxx::broken_connection(message);
  throw pqxx::sql_error(message, query, sqlstate.empty() ? nullptr : sqlstate.c_str());
}

}  // namespace

void copy_binary(pqxx::transaction_base& tx, session& s, const std::string& table,
                 const std::vector<std::string>& columns, const std::string& data) {
  std::string query = "COPY " + table + " (";
  for (std::size_t i = 0; i < columns.size(); ++i) query += (i ? ", " : "") + columns[i];
  query += ") FROM STDIN (FORMAT binary)";
  // libpqxx starts the COPY (it takes PGRES_COPY_IN as a success, as its own
  // COPY does); libpq carries the data and ends it.
  tx.exec(query);
  PGconn* pg = s.raw_handle();
  if (pg == nullptr) throw pqxx::broken_connection("the connection closed before its COPY data was sent");
  constexpr std::size_t kChunk = 256 * 1024;  // libpq buffers a chunk whole
  bool sent = true;
  for (std::size_t at = 0; sent && at < data.size(); at += kChunk) {
    const auto n = static_cast<int>(std::min(kChunk, data.size() - at));
    sent = PQputCopyData(pg, data.data() + at, n) == 1;
  }
  // A failed send (the server ended the COPY with an error) still ends the
  // COPY here, so that its result names the error.
  if (PQputCopyEnd(pg, nullptr) != 1) sent = false;
  PGresult* res = PQgetResult(pg);
  if (res == nullptr || PQresultStatus(res) != PGRES_COMMAND_OK) throw_result_error(pg, res, query);
  PQclear(res);
  while (PGresult* more = PQgetResult(pg)) {
    if (PQresultStatus(more) != PGRES_COMMAND_OK) throw_result_error(pg, more, query);
    PQclear(more);
  }
  if (!sent) throw_result_error(pg, nullptr, query);
}

}  // namespace kafnus::postgis
