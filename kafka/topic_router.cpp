#include "kafka/topic_router.hpp"

#include "config/topic_pattern.hpp"

namespace kafnus::kafka {

using config::is_topic_pattern;
using config::topic_pattern_problem;

topic_router::topic_router(const std::vector<std::pair<ngsi::flow, std::vector<std::string>>>& flows) {
  for (const auto& [flow, topics] : flows) {
    for (const auto& t : topics) {
      subscription_.push_back(t);
      if (!is_topic_pattern(t)) {
        exact_.emplace(t, flow);
        continue;
      }
      if (auto problem = topic_pattern_problem(t); !problem.empty()) throw std::invalid_argument(problem);
      patterns_.push_back(pattern{flow, t, std::regex(t, std::regex::ECMAScript | std::regex::optimize)});
    }
  }
}

topic_router::route topic_router::resolve(const std::string& topic) const {
  route r;
  if (auto it = exact_.find(topic); it != exact_.end()) r.flow = it->second;
  for (const auto& p : patterns_) {
    if (!std::regex_search(topic, p.re)) continue;
    if (!r.flow) {
      r.flow = p.flow;
    } else if (*r.flow != p.flow) {
      bool seen = false;
      for (auto f : r.also_matched) seen = seen || f == p.flow;
      if (!seen) r.also_matched.push_back(p.flow);
    }
  }
  return r;
}

}  // namespace kafnus::kafka
