#pragma once
// The admin HTTP server: serves admin_routes (/metrics, /health, /healthz,
// /readyz, /logLevel, /config) with civetweb on one address, with
// admin_options::threads workers and request_timeout_ms per request head.
// Construction binds and starts serving; destruction (or stop()) stops
// accepting and waits for the requests in progress — at idle within a few
// milliseconds (civetweb alone takes up to 2 s; see stop()).

#include <memory>
#include <stdexcept>
#include <string>

#include "admin/admin_routes.hpp"
#include "telemetry/metrics.hpp"

namespace kafnus {

// The server could not start; what() names admin.listen and the cause
// (e.g. "admin.listen 0.0.0.0:8000: cannot bind to 0.0.0.0:8000: 98 (Address already in use)").
class admin_server_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class admin_server {
 public:
  // Binds host:port (port 0: any free port, see port()) and starts serving.
  // A host name is resolved to its first address; only that address is bound.
  admin_server(std::shared_ptr<metrics> m, const std::string& host, int port, const admin_options& options);
  ~admin_server();
  admin_server(const admin_server&) = delete;
  admin_server& operator=(const admin_server&) = delete;

  // The port actually bound.
  int port() const { return port_; }
  // host:port actually bound, as an operator would type it.
  std::string address() const;

  // Stops serving; idempotent. Returns once civetweb's threads are gone.
  void stop();

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::string host_;
  int port_ = 0;
};

}  // namespace kafnus
