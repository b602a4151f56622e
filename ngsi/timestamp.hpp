#pragma once
// ISO-8601 instants as Orion accepts them, and the timestamptz text Kafnus
// writes for them.

#include <cstdint>
#include <string>
#include <string_view>

#include "ngsi/result.hpp"

namespace kafnus::ngsi {

// Microseconds since 1970-01-01T00:00:00Z of an ISO-8601 date or date-time:
//   date   YYYY-MM-DD                      (alone: midnight UTC)
//   time   'T' or a space, then HH, HH:MM or HH:MM:SS; the seconds may carry a
//          fraction of any length ('.' or ','; digits beyond microseconds are
//          truncated)
//   zone   none (UTC), Z, ±HH, ±HHMM or ±HH:MM
// The calendar is checked (2025-02-30 and 2023-02-29 are errors) and the
// instant must lie in years 0001..9999 once converted to UTC. The error says
// what is wrong without quoting the input (the caller names it).
result<std::int64_t> parse_iso8601(std::string_view text);

// "YYYY-MM-DD HH:MM:SS.ffffff+00", PostgreSQL's timestamptz input syntax
// (years before 1 get PostgreSQL's " BC" suffix, so every instant prints).
std::string format_utc(std::int64_t micros_since_epoch);
// The same, appended to `out`.
void append_utc(std::string& out, std::int64_t micros_since_epoch);

// parse_iso8601, and when it succeeds the instant's append_utc text
// appended to `out`. The form Orion writes ("2026-12-01T10:00:00.000Z":
// UTC, up to six digits of fraction) is read and written from its digits,
// without going through the calendar twice.
result<std::int64_t> read_instant(std::string_view text, std::string& out);

}  // namespace kafnus::ngsi
