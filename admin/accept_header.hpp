#pragma once
// Content negotiation for /metrics: whether an Accept header lets us answer
// with the Prometheus text format.

#include <string_view>

namespace kafnus {

// The one format /metrics serves.
inline constexpr const char* kPrometheusTextType = "text/plain; version=0.0.4; charset=utf-8";

// True when `accept` lists text/plain, text/* or */* (any parameters, e.g.
// version=0.0.4) with a non-zero quality. An empty header accepts anything.
// OpenMetrics scrapers send "application/openmetrics-text;...,text/plain;..."
// and are accepted through their text/plain fallback.
bool accepts_prometheus_text(std::string_view accept);

}  // namespace kafnus
