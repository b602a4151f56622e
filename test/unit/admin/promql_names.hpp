#pragma once
// The metric names a PromQL expression reads, for checking dashboards and
// alert rules against what the daemon exports. A small lexer, not a parser:
// it skips strings, label matchers {...}, ranges [...], Grafana variables
// ($x, ${x}), numbers and durations, function and aggregation names, and
// the label lists of by/without/on/ignoring/group_left/group_right.

#include <set>
#include <string>
#include <string_view>

namespace kafnus::test {

std::set<std::string> promql_metric_names(std::string_view expr);

}  // namespace kafnus::test
