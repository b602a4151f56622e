#include "kafka/topic_router.hpp"

#include <algorithm>

#include "config/topic_pattern.hpp"

namespace kafnus::kafka {

using config::is_topic_pattern;
using config::topic_pattern_problem;

namespace {

void add_flow(std::vector<ngsi::flow>& flows, ngsi::flow f) {
  if (std::find(flows.begin(), flows.end(), f) == flows.end()) flows.push_back(f);
}

}  // namespace

topic_router::topic_router(const std::vector<std::pair<ngsi::flow, std::vector<std::string>>>& flows) {
  for (const auto& [flow, topics] : flows) {
    for (const auto& t : topics) {
      if (std::find(subscription_.begin(), subscription_.end(), t) == subscription_.end()) subscription_.push_back(t);
      if (!is_topic_pattern(t)) {
        add_flow(exact_[t], flow);
        continue;
      }
      if (auto problem = topic_pattern_problem(t); !problem.empty()) throw std::invalid_argument(problem);
      auto same = std::find_if(patterns_.begin(), patterns_.end(), [&t](const pattern& p) { return p.text == t; });
      if (same != patterns_.end()) {
        add_flow(same->flows, flow);
      } else {
        patterns_.push_back(pattern{{flow}, t, std::regex(t, std::regex::ECMAScript | std::regex::optimize)});
      }
    }
  }
}

topic_router::topic_router(const config::flows_settings& flows)
    : topic_router(std::vector<std::pair<ngsi::flow, std::vector<std::string>>>{
          {ngsi::flow::historic, flows.historic.topics},
          {ngsi::flow::lastdata, flows.lastdata.topics},
          {ngsi::flow::mutable_, flows.mutable_.topics}}) {}

topic_router::route topic_router::resolve(const std::string& topic) const {
  route r;
  if (auto it = exact_.find(topic); it != exact_.end()) r.flows = it->second;
  for (const auto& p : patterns_) {
    if (!std::regex_search(topic, p.re)) continue;
    if (r.flows.empty()) {
      r.flows = p.flows;
      continue;
    }
    for (auto f : p.flows) {
      if (std::find(r.flows.begin(), r.flows.end(), f) == r.flows.end()) add_flow(r.also_matched, f);
    }
  }
  return r;
}

std::vector<ngsi::flow> topic_router::flows_listing(const std::string& entry) const {
  if (auto it = exact_.find(entry); it != exact_.end()) return it->second;
  for (const auto& p : patterns_) {
    if (p.text == entry) return p.flows;
  }
  return {};
}

}  // namespace kafnus::kafka
