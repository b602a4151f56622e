#include "admin/bearer_token.hpp"

#include <algorithm>
#include <cctype>

namespace kafnus {

bool constant_time_equals(std::string_view a, std::string_view b) noexcept {
  // Every byte position of the longer input is visited and the differences
  // are OR-ed together: no early exit.
  unsigned diff = a.size() == b.size() ? 0U : 1U;
  const std::size_t n = std::max(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0U;
    const auto y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0U;
    diff |= x ^ y;
  }
  return diff == 0;
}

bool bearer_authorized(const std::optional<std::string>& authorization, std::string_view token) noexcept {
  if (token.empty()) return true;
  if (!authorization) return false;
  std::string_view header = *authorization;
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() < kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return false;
  }
  header.remove_prefix(kScheme.size());
  while (!header.empty() && header.front() == ' ') header.remove_prefix(1);
  while (!header.empty() && (header.back() == ' ' || header.back() == '\t')) header.remove_suffix(1);
  return constant_time_equals(header, token);
}

}  // namespace kafnus
