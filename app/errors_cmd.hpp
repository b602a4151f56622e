#pragma once
// `kafnus errors list` and `kafnus errors replay`: the error log from the
// operator's side (postgis/error_replay.hpp does the work). Both read the
// database of --config. Exit codes:
//   0    done (replay: no statement failed; refused rows are reported, not failures)
//   1    replay: some statements failed again (their rows stay, with the new error)
//   2    bad configuration, --since or --schema
//   3    the database could not be used: unreachable, no error log for the
//        service, no privilege on it, the connection lost midway
//   130  replay stopped by SIGINT or SIGTERM after the row in flight (summary printed)

#include <iosfwd>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "config/settings.hpp"

namespace kafnus {

struct errors_options {
  std::string service;  // list: empty means every service; replay: required
  std::string since;    // ISO-8601 instant, or a duration back from now: 30m, 12h, 7d
  bool json = false;
  bool dry_run = false;
  bool verbose = false;
  std::size_t limit = 0;  // 0: no limit
  std::vector<std::string> schemas;
};

struct errors_command {
  CLI::App* list = nullptr;
  CLI::App* replay = nullptr;
  errors_options options;
  bool chosen() const { return (list && list->parsed()) || (replay && replay->parsed()); }
};

// Adds `errors list` and `errors replay` to `app`, each with -c/--config
// bound to `config_path`.
void add_errors_command(CLI::App& app, errors_command& cmd, std::string& config_path);

int run_errors(const errors_command& cmd, const config::settings& settings, std::ostream& out, std::ostream& err);

}  // namespace kafnus
