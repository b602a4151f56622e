#include "kafka/consumer_stats.hpp"

#include <charconv>

#include <simdjson.h>

namespace kafnus::kafka {

std::optional<consumer_stats> parse_consumer_stats(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size()).get(doc) || !doc.is_object()) return std::nullopt;
  consumer_stats out;
  simdjson::dom::object brokers;
  if (!doc["brokers"].get(brokers)) {
    bool up = false;
    for (auto b : brokers) {
      std::int64_t nodeid = -1;
      std::string_view state;
      // Bootstrap entries have nodeid -1; only real brokers count.
      if (!b.value["nodeid"].get(nodeid) && nodeid >= 0 && !b.value["state"].get(state) && state == "UP") up = true;
    }
    out.broker_up = up;
  }
  simdjson::dom::object topics;
  if (doc["topics"].get(topics)) return out;
  for (auto t : topics) {
    simdjson::dom::object partitions;
    if (t.value["partitions"].get(partitions)) continue;
    for (auto p : partitions) {
      std::int64_t lag = -1;
      std::int32_t id = -1;
      const auto key = p.key;
      auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
      if (ec != std::errc() || end != key.data() + key.size() || id < 0) continue;  // "-1": the unassigned partition
      if (p.value["consumer_lag"].get(lag) || lag < 0) continue;
      out.lags.push_back(partition_lag{std::string(t.key), id, lag});
    }
  }
  return out;
}

}  // namespace kafnus::kafka
