#pragma once
// Topic patterns in flows.*.topics: an entry starting with '^' is a regular
// expression (librdkafka's convention for subscriptions), matched against
// topic names, so topics created later are consumed too.

#include <string>

namespace kafnus::config {

inline bool is_topic_pattern(const std::string& entry) { return !entry.empty() && entry.front() == '^'; }

// Why a pattern cannot be used, or "" when it can.
std::string topic_pattern_problem(const std::string& pattern);

}  // namespace kafnus::config
