#pragma once
// The librdkafka properties of the consumer: Kafnus's own choices (manual
// offsets, cooperative rebalancing, statistics for lag, bounded prefetch)
// under the operator's kafka.properties.

#include <map>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace kafnus {

std::map<std::string, std::string> consumer_properties(const config::kafka_settings& kafka);

// Problems librdkafka finds in the consumer properties (an unknown property,
// an invalid value), each naming kafka.properties.<name>; empty when valid.
std::vector<std::string> check_consumer_properties(const config::kafka_settings& kafka);

}  // namespace kafnus
