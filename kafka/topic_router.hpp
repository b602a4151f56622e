#pragma once
// Which flow consumes a topic. A flow names its topics exactly
// (`smc_raw_historic`) or by pattern: an entry starting with '^' is a
// regular expression matched against the whole topic name, as librdkafka's
// subscription does (`^smc_.*_historic$`), so topics created later are
// consumed too. An exact name wins over patterns; among patterns, the first
// flow in the order historic, lastdata, mutable wins.

#include <map>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ngsi/flow.hpp"

namespace kafnus::kafka {

class topic_router {
 public:
  struct route {
    std::optional<ngsi::flow> flow;        // nullopt: no flow claims the topic
    std::vector<ngsi::flow> also_matched;  // other flows whose patterns match too (ignored)
  };

  // Throws std::invalid_argument naming an unusable pattern.
  explicit topic_router(const std::vector<std::pair<ngsi::flow, std::vector<std::string>>>& flows);

  // Every name and pattern, for librdkafka's subscribe().
  const std::vector<std::string>& subscription() const { return subscription_; }
  route resolve(const std::string& topic) const;

 private:
  struct pattern {
    ngsi::flow flow;
    std::string text;
    std::regex re;
  };
  std::map<std::string, ngsi::flow> exact_;
  std::vector<pattern> patterns_;
  std::vector<std::string> subscription_;
};

}  // namespace kafnus::kafka
