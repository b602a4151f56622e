#pragma once
// The librdkafka properties of the consumer: Kafnus's own choices (manual
// offsets, cooperative rebalancing, static membership, statistics
// for lag, bounded prefetch, quick discovery of new topics) under the
// operator's kafka.properties.

#include <map>
#include <string>
#include <vector>

#include "config/settings.hpp"

namespace kafnus::kafka {

std::map<std::string, std::string> consumer_properties(const config::kafka_settings& kafka);

// Problems librdkafka finds in the consumer properties (an unknown property,
// an invalid value), each naming kafka.properties.<name>; empty when valid.
std::vector<std::string> check_consumer_properties(const config::kafka_settings& kafka);

// kafka.instance_id as the consumer uses it: "auto" becomes
// kafnus-<host name>-<admin port> (stable across restarts of one instance,
// distinct for two instances on one host, which cannot share an admin
// port); any other value is kept; empty means dynamic membership.
std::string resolve_instance_id(const config::settings& s);

}  // namespace kafnus::kafka
