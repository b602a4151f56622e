#include "test/unit/admin/promql_names.hpp"

#include <cctype>

namespace kafnus::test {
namespace {

bool ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool ident_char(char c) { return ident_start(c) || std::isdigit(static_cast<unsigned char>(c)); }

// Index just past the bracket that closes the one at `i` (strings inside are skipped).
std::size_t skip_group(std::string_view s, std::size_t i, char open, char close) {
  int depth = 0;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '"' || c == '\'' || c == '`') {
      for (++i; i < s.size() && s[i] != c; ++i) {
        if (s[i] == '\\') ++i;
      }
    } else if (c == open) {
      ++depth;
    } else if (c == close && --depth == 0) {
      return i + 1;
    }
  }
  return s.size();
}

const std::set<std::string_view> kLabelListKeywords = {"by", "without", "on", "ignoring", "group_left", "group_right"};
const std::set<std::string_view> kOperators = {"and", "or", "unless", "bool", "offset", "atan2"};
const std::set<std::string_view> kAggregations = {"sum",    "min",   "max",          "avg",  "group",   "stddev",
                                                  "stdvar", "count", "count_values", "topk", "bottomk", "quantile"};

}  // namespace

std::set<std::string> promql_metric_names(std::string_view s) {
  std::set<std::string> names;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '"' || c == '\'' || c == '`') {
      for (++i; i < s.size() && s[i] != c; ++i) {
        if (s[i] == '\\') ++i;
      }
      ++i;
    } else if (c == '{') {
      i = skip_group(s, i, '{', '}');
    } else if (c == '[') {
      i = skip_group(s, i, '[', ']');
    } else if (c == '$') {
      ++i;
      if (i < s.size() && s[i] == '{') {
        i = skip_group(s, i, '{', '}');
      } else {
        while (i < s.size() && ident_char(s[i])) ++i;
      }
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
      while (i < s.size() && (ident_char(s[i]) || s[i] == '.')) ++i;  // 0.99, 1e3, 5m, 0x1f
    } else if (ident_start(c)) {
      const std::size_t start = i;
      while (i < s.size() && ident_char(s[i])) ++i;
      const std::string_view word = s.substr(start, i - start);
      std::size_t next = i;
      while (next < s.size() && std::isspace(static_cast<unsigned char>(s[next]))) ++next;
      const bool call = next < s.size() && s[next] == '(';
      if (kLabelListKeywords.count(word)) {
        if (call) i = skip_group(s, next, '(', ')');
      } else if (!call && !kOperators.count(word) && !kAggregations.count(word)) {
        names.emplace(word);
      }
    } else {
      ++i;
    }
  }
  return names;
}

}  // namespace kafnus::test
