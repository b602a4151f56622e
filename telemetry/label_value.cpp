#include "telemetry/label_value.hpp"

#include "text/utf8.hpp"

namespace kafnus {
namespace {

constexpr std::string_view kReplacement = text::kReplacementCharacter;
constexpr std::string_view kEllipsis = "\xE2\x80\xA6";  // …

bool is_control(unsigned char c) { return c < 0x20 || c == 0x7F; }

}  // namespace

std::string valid_utf8(std::string_view s) { return text::to_valid_utf8(s); }

std::string label_value(std::string_view raw, std::size_t max_bytes) {
  // Clean at most one character past the limit: enough to know whether to cut.
  std::string out;
  out.reserve(raw.size() < max_bytes ? raw.size() : max_bytes + 4);
  for (std::size_t i = 0; i < raw.size() && out.size() <= max_bytes;) {
    const std::size_t len = text::utf8_sequence_length(raw.substr(i));
    if (len == 0 || (len == 1 && is_control(static_cast<unsigned char>(raw[i])))) {
      out += kReplacement;
      ++i;
    } else {
      out.append(raw, i, len);
      i += len;
    }
  }
  if (out.size() <= max_bytes) return out;
  // `out` is valid UTF-8: back up to the first byte of a character.
  std::size_t cut = max_bytes >= kEllipsis.size() ? max_bytes - kEllipsis.size() : max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
  out.resize(cut);
  if (max_bytes >= kEllipsis.size()) out += kEllipsis;
  return out;
}

}  // namespace kafnus
