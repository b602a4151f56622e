#include "ngsi/text.hpp"

#include <cstdint>

namespace kafnus::ngsi {

std::string quoted(std::string_view s, std::size_t max_bytes) {
  bool cut = false;
  if (s.size() > max_bytes) {
    std::size_t n = max_bytes;
    // Back up to the first byte of a UTF-8 sequence so the excerpt stays valid.
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n);
    cut = true;
  }
  std::string out;
  out.reserve(s.size() + 8);
  out += '\'';
  for (std::size_t i = 0; i < s.size();) {
    const auto u = static_cast<unsigned char>(s[i]);
    if (u >= 0x80) {
      // Whole, well-formed UTF-8 sequences are kept; any other byte is
      // escaped, so that a message is always valid UTF-8.
      const std::size_t len = utf8_sequence_length(s.substr(i));
      if (len > 0) {
        out.append(s, i, len);
        i += len;
        continue;
      }
    }
    if (u >= 0x20 && u < 0x7F) {
      out += s[i];
    } else if (u == '\n') {
      out += "\\n";
    } else if (u == '\t') {
      out += "\\t";
    } else if (u == '\r') {
      out += "\\r";
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xF];
    }
    ++i;
  }
  if (cut) out += "\xE2\x80\xA6";  // …
  out += '\'';
  return out;
}

}  // namespace kafnus::ngsi
