#include "postgis/binary_copy.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

#include <pqxx/except>

#include "postgis/table_schema.hpp"
#include "text/ascii.hpp"

namespace kafnus::postgis {
namespace {

// PostgreSQL's epoch (2000-01-01 00:00:00 UTC) in microseconds since 1970.
constexpr std::int64_t kPostgresEpochMicros = 946684800000000LL;

// Writes an integer in network byte order (big-endian), as COPY's binary
// format has every number; returns the end.
template <typename T>
char* put_be(char* p, T v) {
  using U = std::make_unsigned_t<T>;
  auto u = static_cast<U>(v);
  if constexpr (sizeof(U) == 2) u = __builtin_bswap16(u);
  if constexpr (sizeof(U) == 4) u = __builtin_bswap32(u);
  if constexpr (sizeof(U) == 8) u = __builtin_bswap64(u);
  std::memcpy(p, &u, sizeof(U));
  return p + sizeof(U);
}

char* put_bytes(char* p, std::string_view bytes) {
  std::memcpy(p, bytes.data(), bytes.size());
  return p + bytes.size();
}

// put_value writes at most kMostPerValue bytes and twice the text for a
// value: its length, then at most the text and 12 bytes more (a numeric's
// header and padding), or a geometry's hex into a text column (twice its
// bytes).
constexpr std::size_t kMostPerValue = 4 + 12;

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

// A double from a plain decimal ([-]digits[.digits]) of at most 15
// significant digits and 22 after the point, the common case: such a
// mantissa and power of ten are exact doubles, so one IEEE division rounds
// correctly, as strtod (float8in) does. Anything else: read_float.
std::optional<double> read_double(std::string_view s) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                      1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  std::size_t i = 0;
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) ++i;
  std::uint64_t mantissa = 0;
  int digits = 0;
  int after_point = 0;
  bool point = false;
  const std::size_t from = i;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c >= '0' && c <= '9') {
      mantissa = mantissa * 10 + static_cast<std::uint64_t>(c - '0');
      if (mantissa != 0) ++digits;
      if (point) ++after_point;
      if (digits > 15 || after_point > 22) return read_float<double>(s);
    } else if (c == '.' && !point && i > from) {
      point = true;
    } else {
      return read_float<double>(s);  // an exponent, or not a number at all
    }
  }
  if (i == from || s.back() == '.') return read_float<double>(s);
  const double v = static_cast<double>(mantissa) / kPow10[after_point];
  return negative ? -v : v;
}

template <typename I>
char* put_integer(char* p, std::string_view s) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return nullptr;
  if (v < std::numeric_limits<I>::min() || v > std::numeric_limits<I>::max()) return nullptr;
  p = put_be(p, static_cast<std::int32_t>(sizeof(I)));
  return put_be(p, static_cast<I>(v));
}

// A number's text as numeric_in reads it, in numeric's binary form: the
// count of base-10,000 digits, the weight of the first, the sign, the
// display scale (digits after the point, as written), then the digits.
// Only [-]digits[.digits][e[+-]digits] with a modest exponent and length;
// anything else is left to numeric_in (COPY text). At most 12 bytes more
// than the text (kMostPerValue).
char* put_numeric(char* p, std::string_view s) {
  constexpr std::size_t kMaxDigits = 1000;
  constexpr long kMaxExponent = 1000;
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  std::size_t i = 0;
  const bool negative = i < s.size() && s[i] == '-';
  if (negative) ++i;
  const std::size_t int_from = i;
  while (i < s.size() && is_digit(s[i])) ++i;
  const std::string_view int_part = s.substr(int_from, i - int_from);
  if (int_part.empty()) return nullptr;
  std::string_view frac_part;
  if (i < s.size() && s[i] == '.') {
    const std::size_t from = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    frac_part = s.substr(from, i - from);
    if (frac_part.empty()) return nullptr;
  }
  long exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    const bool minus = i < s.size() && s[i] == '-';
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    const std::size_t from = i;
    while (i < s.size() && is_digit(s[i]) && i - from < 6) exponent = exponent * 10 + (s[i++] - '0');
    if (i == from) return nullptr;
    if (minus) exponent = -exponent;
  }
  const std::size_t n = int_part.size() + frac_part.size();  // the digits, the point dropped
  if (i != s.size() || n > kMaxDigits || exponent > kMaxExponent || exponent < -kMaxExponent) return nullptr;
  const auto digit = [&](std::size_t k) {
    return k < int_part.size() ? int_part[k] - '0' : frac_part[k - int_part.size()] - '0';
  };
  const long dscale = std::max(0L, static_cast<long>(frac_part.size()) - exponent);
  std::size_t first = 0;
  while (first < n && digit(first) == 0) ++first;
  std::size_t end = n;  // after the last digit that is not 0
  while (end > first && digit(end - 1) == 0) --end;
  long weight = 0;
  std::size_t pad = 0;  // zeros before the first digit in its base-10,000 digit
  std::size_t groups = 0;
  if (first < end) {
    // The first digit's decimal exponent, floored to a multiple of 4.
    const long e0 = static_cast<long>(int_part.size()) + exponent - 1 - static_cast<long>(first);
    weight = e0 >= 0 ? e0 / 4 : -((-e0 + 3) / 4);
    pad = static_cast<std::size_t>(4 * weight + 3 - e0);
    groups = (pad + (end - first) + 3) / 4;
  }
  p = put_be(p, static_cast<std::int32_t>(8 + 2 * groups));
  p = put_be(p, static_cast<std::int16_t>(groups));
  p = put_be(p, static_cast<std::int16_t>(weight));
  p = put_be(p, static_cast<std::uint16_t>(negative && groups > 0 ? 0x4000 : 0x0000));
  p = put_be(p, static_cast<std::uint16_t>(dscale));
  // Digit j of the padded sequence: pad zeros, the digits first..end, zeros.
  for (std::size_t g = 0; g < groups; ++g) {
    int v = 0;
    for (std::size_t j = 4 * g; j < 4 * g + 4; ++j) {
      const std::size_t k = first + j - pad;  // wraps below pad: then j < pad
      v = v * 10 + (j >= pad && k < end ? digit(k) : 0);
    }
    p = put_be(p, static_cast<std::int16_t>(v));
  }
  return p;
}

// Writes one value (its length, then its bytes; -1 for NULL), at most
// kMostPerValue + 2 * v.text.size() bytes; returns the end, or null when
// it cannot be written exactly.
char* put_value(char* p, binary_format f, const ngsi::value_view& v) {
  if (v.kind == ngsi::value_kind::null) return put_be(p, std::int32_t{-1});
  switch (f) {
    case binary_format::bytes:
      if (v.kind == ngsi::value_kind::geometry) {  // the upper-case hex a text column stores
        return ngsi::write_hex_upper(put_be(p, static_cast<std::int32_t>(2 * v.text.size())), v.text);
      }
      return put_bytes(put_be(p, static_cast<std::int32_t>(v.text.size())), v.text);
    case binary_format::boolean:
      if (v.text != "true" && v.text != "false") return nullptr;
      p = put_be(p, std::int32_t{1});
      *p = v.text == "true" ? '\1' : '\0';
      return p + 1;
    case binary_format::float8: {
      const auto d = read_double(v.text);
      if (!d) return nullptr;
      std::uint64_t bits = 0;
      std::memcpy(&bits, &*d, sizeof bits);
      return put_be(put_be(p, std::int32_t{8}), bits);
    }
    case binary_format::float4: {
      const auto d = read_float<float>(v.text);
      if (!d) return nullptr;
      std::uint32_t bits = 0;
      std::memcpy(&bits, &*d, sizeof bits);
      return put_be(put_be(p, std::int32_t{4}), bits);
    }
    case binary_format::numeric: return put_numeric(p, v.text);
    case binary_format::int8: return put_integer<std::int64_t>(p, v.text);
    case binary_format::int4: return put_integer<std::int32_t>(p, v.text);
    case binary_format::int2: return put_integer<std::int16_t>(p, v.text);
    case binary_format::timestamp: return put_be(put_be(p, std::int32_t{8}), v.micros - kPostgresEpochMicros);
    case binary_format::jsonb:
      p = put_be(p, static_cast<std::int32_t>(v.text.size() + 1));
      *p++ = '\1';
      return put_bytes(p, v.text);
    case binary_format::ewkb: return put_bytes(put_be(p, static_cast<std::int32_t>(v.text.size())), v.text);
  }
  return nullptr;
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
      if (text::starts_with(type, "numeric")) return binary_format::numeric;
      break;
    case ngsi::value_kind::json:
      if (type == "jsonb") return binary_format::jsonb;
      if (type == "json") return binary_format::bytes;
      break;
    case ngsi::value_kind::timestamp:
      if (type == "timestamp with time zone" || type == "timestamp without time zone") return binary_format::timestamp;
      break;
    case ngsi::value_kind::geometry:
      if (text::starts_with(type, "geometry")) return binary_format::ewkb;
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

binary_rows::binary_rows(std::size_t rows) : expected_rows_(rows) {
  static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // and its terminating NUL: 11 bytes
  data_.resize(sizeof kSignature + 8 + 256);
  char* p = put_bytes(data_.data(), std::string_view(kSignature, sizeof kSignature));
  p = put_be(p, std::int32_t{0});  // flags: no OIDs
  p = put_be(p, std::int32_t{0});  // no header extension
  used_ = static_cast<std::size_t>(p - data_.data());
}

char* binary_rows::room(std::size_t bytes) {
  if (used_ + bytes > data_.size()) {
    // After the first row: the data will grow to about the expected rows
    // like it (a fifth more), at most 8 MiB ahead, rather than double often.
    constexpr std::size_t kMaxAhead = std::size_t{8} << 20;
    std::size_t want = std::max(data_.size() * 2, used_ + bytes);
    if (rows_ == 1) want = std::max(want, used_ + std::min(used_ * expected_rows_ / 4 * 5, kMaxAhead));
    data_.resize(want);
  }
  return data_.data() + used_;
}

char* binary_rows::begin_row(const statement_group& g, const planned_row& r, std::size_t fields) {
  // Each of the group's values (distinct columns of the row) at most
  // kMostPerValue and twice its text; the texts together take at most the
  // row's buffer: a bound without visiting the values.
  const std::size_t most = 2 + 8 + kMostPerValue * g.columns.size() + 2 * r.row->columns.buffer_bytes();
  return put_be(room(most), static_cast<std::int16_t>(fields));
}

bool binary_rows::end_row(const char* p) {
  if (p == nullptr) return false;  // a value could not be written: the data is not used
  used_ = static_cast<std::size_t>(p - data_.data());
  ++rows_;
  return true;
}

bool binary_rows::add(const statement_group& g, const planned_row& r, const std::vector<binary_format>& formats) {
  char* p = begin_row(g, r, g.columns.size());
  for (std::size_t i = 0; i < g.columns.size() && p != nullptr; ++i) {
    p = put_value(p, formats[i], r.row->columns.value(r.value_index[i]));
  }
  return end_row(p);
}

bool binary_rows::add_staged(const statement_group& g, const planned_row& r, int seq,
                             const std::vector<binary_format>& stage_formats) {
  char* p = begin_row(g, r, stage_formats.size() + 1);
  p = put_be(put_be(p, std::int32_t{4}), static_cast<std::int32_t>(seq));
  for (std::size_t i = 0; i < g.columns.size() && p != nullptr; ++i) {
    const int c = g.columns[i].stage_index;
    if (c < 0) continue;
    p = put_value(p, stage_formats[static_cast<std::size_t>(c)], r.row->columns.value(r.value_index[i]));
  }
  return end_row(p);
}

std::string binary_rows::finish() && {
  used_ = static_cast<std::size_t>(put_be(room(2), std::int16_t{-1}) - data_.data());  // trailer
  data_.resize(used_);
  return std::move(data_);
}

std::optional<std::string> binary_copy_data(const statement_group& g, const std::vector<binary_format>& formats) {
  binary_rows rows(g.rows.size());
  for (const auto& r : g.rows) {
    if (!rows.add(g, r, formats)) return std::nullopt;
  }
  return std::move(rows).finish();
}

std::vector<binary_format> binary_stage_formats(const std::vector<ngsi::value_kind>& kinds) {
  std::vector<binary_format> formats;
  for (auto k : kinds) {
    switch (k) {
      case ngsi::value_kind::boolean: formats.push_back(binary_format::boolean); break;
      case ngsi::value_kind::number: formats.push_back(binary_format::numeric); break;
      case ngsi::value_kind::timestamp: formats.push_back(binary_format::timestamp); break;
      case ngsi::value_kind::geometry: formats.push_back(binary_format::ewkb); break;
      case ngsi::value_kind::json:  // json
      case ngsi::value_kind::text:
      case ngsi::value_kind::null: formats.push_back(binary_format::bytes); break;
    }
  }
  return formats;
}

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
  constexpr std::size_t kChunk = std::size_t{256} * 1024;  // libpq buffers a chunk whole
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
