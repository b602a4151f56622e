#pragma once
// Orion-shaped notifications for tests.

#include <string>

namespace kafnus::test {

// ISO-8601 UTC timestamp `seconds` after `epoch` (default 2025-01-01T00:00:00Z),
// with millis: "2025-01-01T00:00:07.000Z".
std::string iso_time(long long seconds, long long epoch = 1735689600);

// {"subscriptionId": …, "data": [{"id", "type", "TimeInstant", "temperature"}]}
std::string sensor_notification(const std::string& id, const std::string& type, const std::string& time_instant,
                                double temperature);

}  // namespace kafnus::test
