#include "ngsi/value.hpp"

#include <stdexcept>

#include "ngsi/timestamp.hpp"
#include "text/ascii.hpp"

namespace kafnus::ngsi {

const char* to_string(value_kind k) noexcept {
  switch (k) {
    case value_kind::null: return "null";
    case value_kind::boolean: return "boolean";
    case value_kind::number: return "number";
    case value_kind::text: return "text";
    case value_kind::json: return "json";
    case value_kind::timestamp: return "timestamp";
    case value_kind::geometry: return "geometry";
  }
  return "null";
}

value value::timestamp(std::int64_t micros_since_epoch) {
  return {value_kind::timestamp, format_utc(micros_since_epoch), micros_since_epoch};
}

value value::geometry_from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) throw std::invalid_argument("hex EWKB has an odd number of digits");
  std::string bytes(hex.size() / 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const int hi = text::hex_digit_value(hex[2 * i]);
    const int lo = text::hex_digit_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) throw std::invalid_argument("hex EWKB holds a character that is not a hex digit");
    bytes[i] = static_cast<char>(hi * 16 + lo);
  }
  return geometry(std::move(bytes));
}

char* write_hex_upper(char* out, std::string_view bytes) noexcept {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    *out++ = kDigits[b >> 4];
    *out++ = kDigits[b & 15];
  }
  return out;
}

void append_hex_upper(std::string& out, std::string_view bytes) {
  const std::size_t at = out.size();
  out.resize(at + 2 * bytes.size());
  write_hex_upper(out.data() + at, bytes);
}

std::string hex_upper(std::string_view bytes) {
  std::string out;
  append_hex_upper(out, bytes);
  return out;
}

std::string input_text(value_view v) {
  return v.kind == value_kind::geometry ? hex_upper(v.text) : std::string(v.text);
}

}  // namespace kafnus::ngsi
