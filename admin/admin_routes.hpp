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
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

#include "admin/admin_http.hpp"
#include "telemetry/metrics.hpp"
#include "telemetry/process_metrics.hpp"

namespace kafnus {

struct admin_options {
  std::string token;                          // empty: POST /logLevel is not protected
  std::string effective_yaml;                 // settings::effective_yaml, secrets already masked
  std::chrono::seconds kafka_down_after{15};  // admin.kafka_down_after_s: Kafka lost longer is DOWN
  int threads = 16;                           // admin.threads: civetweb workers
  int request_timeout_ms = 2000;              // admin.request_timeout_ms: whole request head, each read/write
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

  // The /metrics page. Concurrent scrapes share one rendering: a request
  // that finds one in progress waits for it and serves its result, so
  // scrapes cost one rendering at a time however many arrive together.
  std::shared_ptr<const std::string> render_metrics() const;

  std::shared_ptr<metrics> metrics_;
  admin_options options_;
  process_collector process_;

  struct render_state {
    std::mutex mutex;
    std::condition_variable done;
    bool rendering = false;
    std::uint64_t generation = 0;  // renderings finished
    std::shared_ptr<const std::string> page;
  };
  std::unique_ptr<render_state> render_ = std::make_unique<render_state>();
};

// The bounded value of the `route` label for a request path: the path itself
// for the known endpoints, "other" for anything else.
std::string route_label(const std::string& path);

}  // namespace kafnus
