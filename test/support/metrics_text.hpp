#pragma once
// Reading a sample out of the Prometheus text the admin server serves.

#include <sstream>
#include <string>

namespace kafnus::test {

// The value of the sample `series` — a name, with its labels if it has any
// (`kafnus_records_lost_total{topic="t"}`) — or -1 when the text has none.
inline double metric_sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, series.size() + 1, series + " ") == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

}  // namespace kafnus::test
