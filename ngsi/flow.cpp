#include "ngsi/flow.hpp"

#include "text/ascii.hpp"

namespace kafnus::ngsi {

std::string_view to_string(flow f) noexcept {
  switch (f) {
    case flow::historic: return "historic";
    case flow::lastdata: return "lastdata";
    case flow::mutable_: return "mutable";
  }
  return "historic";
}

std::string flow_names(const std::vector<flow>& flows) {
  std::vector<std::string> names;
  names.reserve(flows.size());
  for (auto f : flows) names.emplace_back(to_string(f));
  return text::join(names);
}

std::optional<flow> parse_flow(std::string_view name) noexcept {
  for (flow f : kAllFlows) {
    if (to_string(f) == name) return f;
  }
  return std::nullopt;
}

std::string_view table_suffix(flow f) noexcept {
  switch (f) {
    case flow::historic: return "";
    case flow::lastdata: return "_lastdata";
    case flow::mutable_: return "_mutable";
  }
  return "";
}

std::vector<std::string_view> key_columns(flow f) {
  if (keyed_by_time(f)) return {"entityid", "timeinstant"};
  return {"entityid"};
}

}  // namespace kafnus::ngsi
