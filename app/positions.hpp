#pragma once
// `kafnus positions show|set`: the stored positions of a group (in
// postgres.offsets_schema, the source of truth) beside the records Kafka
// holds, and moving them — to a time, an offset, the earliest or the latest
// record — safely while daemons run: a running instance follows a moved
// position within kafka.position_check_interval_ms.

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include <CLI/CLI.hpp>

#include "config/settings.hpp"

namespace kafnus {

struct positions_show_options {
  std::string group;  // empty: kafka.group_id
  bool json = false;
};

struct positions_set_options {
  std::string topic;
  std::optional<std::int32_t> partition;  // none: every partition of the topic
  std::string to_time;                    // ISO-8601
  std::optional<std::int64_t> to_offset;
  bool to_earliest = false;
  bool to_latest = false;
  std::string group;  // empty: kafka.group_id
  std::string reason;
  bool dry_run = false;
};

struct positions_command {
  CLI::App* show = nullptr;
  CLI::App* set = nullptr;
  positions_show_options show_options;
  positions_set_options set_options;
  bool chosen() const { return (show && show->parsed()) || (set && set->parsed()); }
};

// Adds `positions show` and `positions set` to `app`, each with -c/--config
// bound to `config_path`.
void add_positions_command(CLI::App& app, positions_command& cmd, std::string& config_path);

// Exit codes: 0 done; 1 the database or Kafka could not do what was asked
// (the message says what and how to fix it; nothing moved); 2 the options
// are wrong.
int run_positions(const positions_command& cmd, const config::settings& s, std::ostream& out, std::ostream& err);
int run_positions_show(const config::settings& s, const positions_show_options& o, std::ostream& out,
                       std::ostream& err);
int run_positions_set(const config::settings& s, const positions_set_options& o, std::ostream& out, std::ostream& err);

}  // namespace kafnus
