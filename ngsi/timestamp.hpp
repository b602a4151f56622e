#pragma once
// ISO-8601 timestamps, as Orion accepts them for DateTime and ISO8601
// attributes: date only, hours, minutes, seconds, any fraction, and no zone
// (UTC), Z, ±hh, ±hhmm or ±hh:mm.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace kafnus::ngsi {

// Microseconds since 1970-01-01T00:00:00Z, or nullopt when the text is not a
// valid timestamp (bad shape, month 13, February 30, hour 25…). Fractions
// beyond microseconds are truncated.
std::optional<std::int64_t> parse_timestamp(std::string_view text);

// "YYYY-MM-DD HH:MM:SS.ffffff+00" (PostgreSQL timestamptz input, UTC).
std::string format_timestamp(std::int64_t micros_since_epoch);

}  // namespace kafnus::ngsi
