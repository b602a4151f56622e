#pragma once
// Which flows consume a topic. A flow names its topics exactly
// (`smc_raw_historic`) or by pattern: an entry starting with '^' is a
// regular expression matched against the whole topic name, as librdkafka's
// subscription does (`^smc_.*_historic$`), so topics created later are
// consumed too. A topic listed under several flows (the same name, or the
// same pattern) feeds each of them: every record becomes the rows of each
// flow, in one transaction. An exact name wins over patterns; when
// different patterns of different flows match, the first flow's pattern
// wins (order historic, lastdata, mutable) and the others are reported.

#include <map>
#include <regex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "config/settings.hpp"
#include "ngsi/flow.hpp"

namespace kafnus::kafka {

class topic_router {
 public:
  struct route {
    std::vector<ngsi::flow> flows;         // in flow order; empty: no flow claims the topic
    std::vector<ngsi::flow> also_matched;  // flows of other matching patterns (ignored)
  };

  // Throws std::invalid_argument naming an unusable pattern.
  explicit topic_router(const std::vector<std::pair<ngsi::flow, std::vector<std::string>>>& flows);
  // The topics of flows.historic, flows.lastdata and flows.mutable.
  explicit topic_router(const config::flows_settings& flows);

  // Every name and pattern once, for librdkafka's subscribe().
  const std::vector<std::string>& subscription() const { return subscription_; }
  route resolve(const std::string& topic) const;
  // The flows that list `entry`, a name or a pattern as configured.
  std::vector<ngsi::flow> flows_listing(const std::string& entry) const;

 private:
  struct pattern {
    std::vector<ngsi::flow> flows;
    std::string text;
    std::regex re;
  };
  std::map<std::string, std::vector<ngsi::flow>> exact_;
  std::vector<pattern> patterns_;
  std::vector<std::string> subscription_;
};

}  // namespace kafnus::kafka
