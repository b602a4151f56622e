#pragma once
// What /health, /healthz and /readyz say, computed from the live
// health_state the actors maintain.

#include <chrono>
#include <cstdint>
#include <string>

#include "actors/metrics.hpp"

namespace kafnus {

// Ready: consuming (subscribed, assigned or waiting for an assignment) and
// the database reachable. Drives the 200/503 of /health and /readyz.
bool is_ready(const health_state& h);

// The /health body: status, uptime, version, connection states and per-flow
// counts with the time of the last processed message.
std::string health_json(const health_state& h, std::chrono::system_clock::time_point now);

// The /healthz body: the process is alive and serving.
std::string liveness_json(const health_state& h, std::chrono::system_clock::time_point now);

// The /readyz body: the readiness verdict and the two conditions behind it.
std::string readiness_json(const health_state& h);

// "2024-05-01T12:00:00.123Z" for milliseconds since the epoch.
std::string iso8601_utc(std::int64_t ms_since_epoch);

}  // namespace kafnus
