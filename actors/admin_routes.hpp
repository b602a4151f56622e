#pragma once
// The admin endpoints as a function from request to response, independent
// of the HTTP server that carries them:
//
//   GET  /metrics   Prometheus text (406 when Accept excludes text/plain)
//   GET  /health    health JSON; 200 when ready, 503 (with the reasons) otherwise
//   GET  /healthz   liveness: 200 while the process serves
//   GET  /readyz    readiness: 200 when ready, 503 (with the reasons) otherwise
//   GET  /logLevel  {"level":"info"}
//   POST /logLevel  {"level":"debug"} changes the level live (bearer token
//                   required when admin.token is set)
//   GET  /config    the effective configuration, secrets masked
//
// Any other path is 404, any other method 405 with an Allow header; every
// error body is {"error": <code>, "description": <text>}. Each answer is
// counted in kafnus_admin_requests_total{route, code}.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

#include "actors/admin_http.hpp"
#include "actors/metrics.hpp"
#include "actors/process_metrics.hpp"

namespace kafnus {

struct admin_options {
  std::string token;           // empty: POST /logLevel is not protected
  std::string effective_yaml;  // settings::effective_yaml, secrets already masked
  std::chrono::seconds kafka_down_after{15};  // admin.kafka_down_after_s: Kafka lost longer is DOWN
};

class admin_routes {
 public:
  admin_routes(std::shared_ptr<metrics> m, admin_options options);

  // Never throws: a failure inside a route is logged and answered with 500.
  http_response handle(const http_request& request) const noexcept;

  // Everything /metrics exports: the registry's families, then the process metrics.
  std::vector<prometheus::MetricFamily> collect() const;

 private:
  http_response route(const http_request& request) const;
  http_response get_metrics(const http_request& request) const;
  http_response get_health() const;
  http_response get_readiness() const;
  http_response get_liveness() const;
  http_response log_level(const http_request& request) const;
  http_response get_config() const;

  std::shared_ptr<metrics> metrics_;
  admin_options options_;
  process_collector process_;
};

// The bounded value of the `route` label for a request path: the path itself
// for the known endpoints, "other" for anything else.
std::string route_label(const std::string& path);

}  // namespace kafnus
