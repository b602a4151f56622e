#pragma once
// Reading the Prometheus text format (version 0.0.4) the admin server
// serves, for `kafnus status`: one sample a line, comments skipped.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace kafnus {

struct metric_sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// The samples of `text`; a line that does not parse is skipped.
std::vector<metric_sample> parse_prometheus_text(std::string_view text);

}  // namespace kafnus
