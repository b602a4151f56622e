#include "text/json.hpp"

#include "text/utf8.hpp"

namespace kafnus::text {

std::string json_quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(s.size() + 2);
  out += '"';
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else if (c < 0x80) {
          out += s[i];
        } else if (const std::size_t len = utf8_sequence_length(s.substr(i)); len > 0) {
          out.append(s, i, len);
          i += len - 1;
        } else {
          // JSON is UTF-8: a byte of something else (a header or a value
          // from a message) must not make the whole document unreadable.
          out += "\\ufffd";
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace kafnus::text
