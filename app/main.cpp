// kafnus: persists FIWARE Orion NGSI v2 notifications from Kafka into PostGIS.
//   kafnus run --config FILE           run the daemon
//   kafnus check-config --config FILE  validate a configuration and print it, secrets masked
//   kafnus healthcheck --config FILE   exit 0 when the running daemon's /readyz says ready
//   kafnus status [--url URL] [--json] one screen of a running daemon's state
//   kafnus positions show|set ...      the stored positions, and moving them (to a time, an offset, ...)
//   kafnus --version

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdlib>
#include <iostream>

#include "app/daemon.hpp"
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

  auto* positions = app.add_subcommand("positions", "the stored positions of a consumer group, and moving them");
  positions->require_subcommand(1);
  kafnus::positions_show_options show_options;
  auto* positions_show =
      positions->add_subcommand("show", "stored positions, the records Kafka holds and the lag of each partition");
  positions_show->add_option("-c,--config", config_path,
                             "configuration file (default: $KAFNUS_CONFIG or /etc/kafnus/kafnus.yaml)");
  positions_show->add_option("--group", show_options.group, "consumer group (default: kafka.group_id)");
  positions_show->add_flag("--json", show_options.json, "print JSON instead of text");
  kafnus::positions_set_options set_options;
  auto* positions_set = positions->add_subcommand(
      "set", "move stored positions; running daemons follow within kafka.position_check_interval_ms");
  positions_set->add_option("-c,--config", config_path,
                            "configuration file (default: $KAFNUS_CONFIG or /etc/kafnus/kafnus.yaml)");
  positions_set->add_option("--topic", set_options.topic, "the topic")->required();
  positions_set->add_option("--partition", set_options.partition, "one partition (default: every partition)")
      ->check(CLI::NonNegativeNumber);
  auto* to_time = positions_set->add_option("--to-time", set_options.to_time,
                                            "the first record at or after this ISO-8601 time (2026-12-01T08:00:00Z)");
  auto* to_offset =
      positions_set->add_option("--to-offset", set_options.to_offset, "this offset")->check(CLI::NonNegativeNumber);
  auto* to_earliest = positions_set->add_flag("--to-earliest", set_options.to_earliest, "the oldest record held");
  auto* to_latest = positions_set->add_flag("--to-latest", set_options.to_latest, "the end: only new records");
  to_time->excludes(to_offset)->excludes(to_earliest)->excludes(to_latest);
  to_offset->excludes(to_earliest)->excludes(to_latest);
  to_earliest->excludes(to_latest);
  positions_set->add_option("--group", set_options.group, "consumer group (default: kafka.group_id)");
  positions_set->add_option("--reason", set_options.reason, "why, recorded with the move and logged by the daemons");
  positions_set->add_flag("--dry-run", set_options.dry_run, "print what would move, move nothing");

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
  if (!*run && !*check && !*health && !*positions) {
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

  if (*health) {
    return kafnus::run_healthcheck(settings.admin, std::chrono::milliseconds(timeout_ms), std::cout, std::cerr);
  }
  if (*positions_show) return kafnus::run_positions_show(settings, show_options, std::cout, std::cerr);
  if (*positions_set) return kafnus::run_positions_set(settings, set_options, std::cout, std::cerr);
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
