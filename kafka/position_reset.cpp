#include "kafka/position_reset.hpp"

namespace kafnus::kafka {

std::optional<out_of_range_policy> parse_out_of_range_policy(std::string_view name) {
  if (name == "earliest") return out_of_range_policy::earliest;
  if (name == "latest") return out_of_range_policy::latest;
  if (name == "fail") return out_of_range_policy::fail;
  return std::nullopt;
}

std::optional<position_reset> decide_position_reset(std::int64_t position, std::int64_t low, std::int64_t high,
                                                    out_of_range_policy policy) {
  position_reset r;
  if (position >= low && position <= high) {
    r.in_range = true;
    r.target = position;
    return r;
  }
  if (policy == out_of_range_policy::fail) return std::nullopt;
  r.beyond_end = position > high;
  if (!r.beyond_end) r.lost = low - position;
  if (policy == out_of_range_policy::earliest) {
    r.target = low;
  } else {
    r.target = high;
    r.skipped = high - low;
  }
  return r;
}

}  // namespace kafnus::kafka
