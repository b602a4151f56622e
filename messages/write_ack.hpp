#pragma once
// writer -> consumer: the outcome of the sources of one transaction.

#include <vector>

#include "messages/source_range.hpp"

namespace kafnus::msg {

enum class ack_status : unsigned char {
  committed,  // rows, error-log entries and the new position are committed
  conflict,   // the stored position was not the expected one (another owner
              // moved it): nothing of this source was written; seek again
};

struct write_ack {
  source_range source;
  ack_status status = ack_status::committed;
};

}  // namespace kafnus::msg
