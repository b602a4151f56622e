// kafnus: persists FIWARE Orion NGSI v2 notifications from Kafka into PostGIS.
//   kafnus run --config FILE           run the daemon
//   kafnus check-config --config FILE  validate a configuration and print it, secrets masked
//   kafnus healthcheck --config FILE   exit 0 when the running daemon's /readyz says ready
//   kafnus status [--url URL] [--json] one screen of a running daemon's state
//   kafnus errors list|replay …        the error log: what is in it, re-run its statements
//   kafnus positions show|set …        the stored positions, and moving them (to a time, an offset, …)
//   kafnus --version

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "app/daemon.hpp"
#include "app/errors_cmd.hpp"
#include "app/healthcheck.hpp"
#include "app/positions.hpp"
#include "app/status.hpp"
#include "app/version.hpp"
#include "config/loader.hpp"
#include "config/topic_pattern.hpp"
#include "kafka/kafka_properties.hpp"
#include "kafka/topic_router.hpp"

namespace {

std::string default_config_path() {
  // The environment is read before any thread starts and never written.
  const char* env = std::getenv("KAFNUS_CONFIG");  // NOLINT(concurrency-mt-unsafe)
  return env && *env ? env : "/etc/kafnus/kafnus.yaml";
}

int print_config_errors(const kafnus::config::config_error& e) {
  std::cerr << "kafnus: invalid configuration:\n";
  for (const auto& p : e.problems()) std::cerr << "  - " << p << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  kafnus::block_stop_signals();
  CLI::App app{"Kafnus: persists FIWARE Orion NGSI v2 notifications from Kafka into PostGIS, exactly once"};
  app.require_subcommand(0, 1);
  bool version = false;
  app.add_flag("--version", version, "print the version and exit");

  std::string config_path = default_config_path();
  auto* run = app.add_subcommand("run", "run the daemon");
  run->add_option("-c,--config", config_path,
                  "configuration file (default: $KAFNUS_CONFIG or /etc/kafnus/kafnus.yaml)");
  auto* check =
      app.add_subcommand("check-config", "validate a configuration and print the effective one, secrets masked");
  check->add_option("-c,--config", config_path,
                    "configuration file (default: $KAFNUS_CONFIG or /etc/kafnus/kafnus.yaml)");

  auto* health = app.add_subcommand("healthcheck",
                                    "ask the running daemon's /readyz on admin.listen: exit 0 when ready, 1 when not");
  health->add_option("-c,--config", config_path,
                     "configuration file (default: $KAFNUS_CONFIG or /etc/kafnus/kafnus.yaml)");
  int timeout_ms = 3000;
  health->add_option("--timeout-ms", timeout_ms, "how long to wait for the answer (default 3000)")
      ->check(CLI::Range(1, 600000));

  kafnus::status_options status_options;
  auto* status = app.add_subcommand(
      "status", "one screen of a running daemon: readiness, rates, lag, last commit, recent error-log rows");
  status->add_option("--url", status_options.url, "the daemon's admin address (default http://127.0.0.1:8000)");
  status->add_flag("--json", status_options.json, "print JSON instead of text");
  int interval_ms = 2000;
  status->add_option("--interval-ms", interval_ms, "between the two samples the rates come from (default 2000)")
      ->check(CLI::Range(100, 600000));

  kafnus::errors_command errors;
  kafnus::add_errors_command(app, errors, config_path);
  kafnus::positions_command positions;
  kafnus::add_positions_command(app, positions, config_path);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (version) {
    std::cout << "kafnus " << kafnus::kVersion << " (" << kafnus::kGitRevision << ")\n";
    return 0;
  }
  if (*status) {
    status_options.interval = std::chrono::milliseconds(interval_ms);
    return kafnus::run_status(status_options, std::cout, std::cerr);
  }
  if (!*run && !*check && !*health && !errors.chosen() && !positions.chosen()) {
    std::cerr << app.help();
    return 2;
  }

  kafnus::config::settings settings;
  try {
    settings = kafnus::config::load_file(config_path, kafnus::config::process_environment());
  } catch (const kafnus::config::config_error& e) {
    // A container runtime reads 1 as unhealthy and reserves 2.
    return *health ? (print_config_errors(e), 1) : print_config_errors(e);
  }

  if (errors.chosen()) return kafnus::run_errors(errors, settings, std::cout, std::cerr);
  if (positions.chosen()) return kafnus::run_positions(positions, settings, std::cout, std::cerr);
  if (*health) {
    return kafnus::run_healthcheck(settings.admin, std::chrono::milliseconds(timeout_ms), std::cout, std::cerr);
  }
  if (*check) {
    if (auto problems = kafnus::kafka::check_consumer_properties(settings.kafka); !problems.empty()) {
      return print_config_errors(kafnus::config::config_error(problems));
    }
    for (const auto& w : settings.warnings) std::cerr << "kafnus: warning: " << w << "\n";
    std::cout << "# " << config_path << ": valid\n";
    // Which flows each topic (or pattern) feeds.
    const kafnus::kafka::topic_router router(settings.flows);
    for (const auto& topic : router.subscription()) {
      std::cout << "# " << (kafnus::config::is_topic_pattern(topic) ? "pattern " : "topic ") << topic << " feeds "
                << kafnus::ngsi::flow_names(router.flows_listing(topic)) << "\n";
    }
    std::cout << settings.effective_yaml;
    return 0;
  }
  return kafnus::run_daemon(settings);
}
