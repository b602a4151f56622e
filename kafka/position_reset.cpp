#include "kafka/position_reset.hpp"

namespace kafnus::kafka {

std::optional<position_reset> decide_position_reset(std::int64_t position, std::int64_t low, std::int64_t high,
                                                    out_of_range policy) {
  position_reset r;
  if (position >= low && position <= high) {
    r.in_range = true;
    r.target = position;
    return r;
  }
  if (policy == out_of_range::fail) return std::nullopt;
  r.beyond_end = position > high;
  if (!r.beyond_end) r.lost = low - position;
  if (policy == out_of_range::earliest) {
    r.target = low;
  } else {
    r.target = high;
    r.skipped = high - low;
  }
  return r;
}

}  // namespace kafnus::kafka
