#include "config/topic_pattern.hpp"

#include <regex>

namespace kafnus::config {

std::string topic_pattern_problem(const std::string& pattern) {
  if (pattern.size() < 2) return "the pattern '" + pattern + "' matches every topic; write e.g. '^smc_.*_historic$'";
  try {
    std::regex re(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return "'" + pattern + "' is not a valid regular expression: " + e.what();
  }
  return {};
}

}  // namespace kafnus::config
