#pragma once
// `kafnus status`: one screen for an operator, from a running daemon's admin
// endpoint — version, readiness and why not, Kafka and PostgreSQL
// reachability, the last commit, per-flow rates (two scrapes of /metrics
// `interval` apart), lag per topic, error-log rows of the last hour per
// service. Text, or JSON with --json. Exit 0 with the answer, 1 when the
// endpoint does not answer (or not as a Kafnus daemon would).

#include <chrono>
#include <iosfwd>
#include <string>

namespace kafnus {

struct status_options {
  std::string url = "http://127.0.0.1:8000";
  bool json = false;
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds timeout{3000};
};

int run_status(const status_options& options, std::ostream& out, std::ostream& err);

}  // namespace kafnus
