#include "text/ascii.hpp"

namespace kafnus::text {

std::string to_lower_ascii(std::string_view s) {
  std::string out(s);
  copy_lower_ascii(out, out.data());  // in place: a byte is read before it is written
  return out;
}

void append_lower_ascii(std::string& out, std::string_view s) {
  const std::size_t at = out.size();
  out.append(s);
  // In place (`s` may be a view of `out`, which append() may have moved).
  copy_lower_ascii(std::string_view(out).substr(at), out.data() + at);
}

bool iequals_words(std::string_view a, std::string_view b) noexcept {
  const std::size_t n = a.size();
  for (std::size_t i = 0; i + 8 < n; i += 8) {
    if (lower_ascii_word(load_word(a.data() + i)) != lower_ascii_word(load_word(b.data() + i))) return false;
  }
  // The last eight bytes (overlapping the word before when n is not a multiple of 8).
  return lower_ascii_word(load_word(a.data() + n - 8)) == lower_ascii_word(load_word(b.data() + n - 8));
}

std::string_view trim(std::string_view s) noexcept {
  constexpr std::string_view kSpace = " \t\r\n";
  const auto b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(kSpace) - b + 1);
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (true) {
    const auto at = s.find(sep);
    const auto item = trim(s.substr(0, at));
    if (!item.empty()) out.emplace_back(item);
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

std::string pad_right(std::string_view s, std::size_t width) {
  std::string out(s);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

std::string pad_left(std::string_view s, std::size_t width) {
  return s.size() < width ? std::string(width - s.size(), ' ').append(s) : std::string(s);
}

}  // namespace kafnus::text
