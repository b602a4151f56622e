#pragma once
// What a processor does with a raw_batch, as a class of its own: every
// record becomes the rows of each flow its topic feeds, or error-log
// entries, in one row_batch for the writer. The processors of the pool run
// it; so does the consumer itself for the few records a poll brings at a
// low rate (see consumer.hpp), sparing a thread's wake-up per fetch.

#include <array>
#include <memory>

#include "config/settings.hpp"
#include "messages/types.hpp"
#include "ngsi/transform.hpp"
#include "telemetry/metrics.hpp"

namespace kafnus {

class batch_transform {
 public:
  batch_transform(const config::settings& s, std::shared_ptr<metrics> m);

  // The batch's rows and errors, its records' marks and bytes; counts the
  // flows' metrics (processed, entities, errors, processing time).
  msg::row_batch operator()(const msg::raw_batch& batch);

 private:
  std::shared_ptr<metrics> m_;
  std::array<ngsi::transform_options, 3> options_;  // by ngsi::flow
};

}  // namespace kafnus
