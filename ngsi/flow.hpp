#pragma once
// The three flows and what distinguishes them: table suffix and write mode.

#include <optional>
#include <string_view>

namespace kafnus::ngsi {

enum class flow : unsigned char { historic, lastdata, mutable_ };

inline constexpr flow kAllFlows[] = {flow::historic, flow::lastdata, flow::mutable_};

// "historic", "lastdata", "mutable"
std::string_view to_string(flow f) noexcept;
std::optional<flow> parse_flow(std::string_view name) noexcept;

// Suffix appended to the table name: "", "_lastdata", "_mutable".
std::string_view table_suffix(flow f) noexcept;

}  // namespace kafnus::ngsi
