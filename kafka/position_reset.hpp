#pragma once
// What to do when a partition's position lies outside its range: the topic
// was deleted and re-created (the stored position is beyond the new end),
// or retention deleted records nobody read (the position is below the
// oldest record). Kafka says "offset out of range"; Kafnus decides, by
// kafka.position_out_of_range, and says how many records it could not read.

#include <cstdint>
#include <optional>

#include "config/enums.hpp"

namespace kafnus::kafka {

// earliest: read the partition from its oldest record (default); latest:
// skip to its end; fail: stop the daemon, an operator decides.
using config::out_of_range;

struct position_reset {
  std::int64_t target = 0;   // where fetching restarts
  std::int64_t lost = 0;     // records deleted before they were read (position below `low`)
  std::int64_t skipped = 0;  // records present but skipped (policy latest)
  bool beyond_end = false;   // the position was beyond the end (a re-created topic)
  bool in_range = false;     // the range contains the position after all: fetch it again
};

// The reset of `position` for a partition holding [low, high): nullopt when
// the policy is `fail` and the position is indeed outside the range.
std::optional<position_reset> decide_position_reset(std::int64_t position, std::int64_t low, std::int64_t high,
                                                    out_of_range policy);

}  // namespace kafnus::kafka
