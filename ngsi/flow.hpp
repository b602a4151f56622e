#pragma once
// The three flows and every rule that tells them apart, in one place: the
// table suffix, the key of a flow's row, whether a row must carry a
// TimeInstant, lastdata's freshness rule and its deletes.
//   historic: insert; one row per notification, keyed (entityid, timeinstant)
//   lastdata: upsert on entityid, only when not older than the stored row;
//             entityDelete deletes the row
//   mutable:  upsert on (entityid, timeinstant), last write wins

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kafnus::ngsi {

enum class flow : unsigned char { historic, lastdata, mutable_ };

inline constexpr flow kAllFlows[] = {flow::historic, flow::lastdata, flow::mutable_};

// "historic", "lastdata", "mutable"
std::string_view to_string(flow f) noexcept;
std::optional<flow> parse_flow(std::string_view name) noexcept;
// "historic,lastdata": names joined by commas, for logs and messages.
std::string flow_names(const std::vector<flow>& flows);

// Suffix appended to the table name: "", "_lastdata", "_mutable".
std::string_view table_suffix(flow f) noexcept;

// Whether the TimeInstant is part of a row's key (historic, mutable): such a
// row cannot be written without one. Lastdata keeps one row per entity.
constexpr bool keyed_by_time(flow f) noexcept { return f != flow::lastdata; }

// The columns of the unique key an upsert conflicts on.
std::vector<std::string_view> key_columns(flow f);

// Whether a row replaces the stored one only when it is not older (lastdata).
constexpr bool checks_freshness(flow f) noexcept { return f == flow::lastdata; }

// The freshness rule between two rows of one key, given their TimeInstants
// (microseconds): a later row replaces an earlier one unless the flow checks
// freshness and the later one is older. A row without a TimeInstant is never
// considered older.
constexpr bool replaces(flow f, std::optional<std::int64_t> earlier, std::optional<std::int64_t> later) noexcept {
  if (!checks_freshness(f) || !earlier || !later) return true;
  return *later >= *earlier;
}

// Whether an entityDelete alteration deletes the flow's row (lastdata).
constexpr bool deletes_on_entity_delete(flow f) noexcept { return f == flow::lastdata; }

}  // namespace kafnus::ngsi
