#include "app/positions.hpp"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include <pqxx/transaction>

#include "config/topic_pattern.hpp"
#include "kafka/offsets_client.hpp"
#include "kafka/topic_router.hpp"
#include "ngsi/timestamp.hpp"
#include "postgis/connection.hpp"
#include "postgis/offsets_store.hpp"
#include "telemetry/json_writer.hpp"
#include "text/ascii.hpp"

namespace kafnus {
namespace {

using partition_key = std::pair<std::string, std::int32_t>;

std::string group_of(const config::settings& s, const std::string& group) {
  return group.empty() ? s.kafka.group_id : group;
}

std::string number_or(std::optional<std::int64_t> v, const char* none) { return v ? std::to_string(*v) : none; }

// One line of `positions show`.
struct position_line {
  std::string topic;
  std::int32_t partition = 0;
  std::optional<std::int64_t> stored;
  std::string updated_at;
  std::optional<kafka::offsets_client::range> records;
  std::optional<std::int64_t> lag() const {
    if (!stored || !records) return std::nullopt;
    return records->high > *stored ? records->high - *stored : 0;
  }
};

// The topics to show: those with stored positions, those the configuration
// names, and the cluster's topics its patterns match.
std::set<std::string> topics_to_show(const config::settings& s,
                                     const std::map<partition_key, postgis::stored_position>& stored,
                                     kafka::offsets_client* kafka) {
  std::set<std::string> topics;
  for (const auto& [k, p] : stored) topics.insert(k.first);
  const kafka::topic_router router(s.flows);
  bool patterns = false;
  for (const auto& entry : router.subscription()) {
    if (config::is_topic_pattern(entry)) {
      patterns = true;
    } else {
      topics.insert(entry);
    }
  }
  if (patterns && kafka) {
    for (const auto& t : kafka->topics()) {
      if (!router.resolve(t).flows.empty()) topics.insert(t);
    }
  }
  return topics;
}

void print_show_text(const std::vector<position_line>& lines, const std::string& group, const std::string& schema,
                     std::ostream& out) {
  out << "positions of group " << group << " (" << schema << ".offsets)\n";
  std::size_t w = 5;
  for (const auto& l : lines) w = std::max(w, l.topic.size() + 1 + std::to_string(l.partition).size());
  out << text::pad_right("PARTITION", w + 2) << text::pad_right("STORED", 14) << text::pad_right("OLDEST", 14)
      << text::pad_right("END", 14) << text::pad_right("LAG", 12) << "MOVED AT\n";
  for (const auto& l : lines) {
    out << text::pad_right(l.topic + "/" + std::to_string(l.partition), w + 2)
        << text::pad_right(number_or(l.stored, "none"), 14)
        << text::pad_right(l.records ? std::to_string(l.records->low) : "?", 14)
        << text::pad_right(l.records ? std::to_string(l.records->high) : "?", 14)
        << text::pad_right(number_or(l.lag(), "-"), 12) << (l.updated_at.empty() ? "-" : l.updated_at) << "\n";
  }
  if (lines.empty()) out << "(no stored positions and no configured topic)\n";
}

void print_show_json(const std::vector<position_line>& lines, const std::string& group, const std::string& schema,
                     std::ostream& out) {
  json_writer w;
  w.begin_object().key("group").string(group).key("table").string(schema + ".offsets").key("partitions").begin_array();
  for (const auto& l : lines) {
    w.begin_object().key("topic").string(l.topic).key("partition").integer(l.partition);
    w.key("stored");
    l.stored ? w.integer(*l.stored) : w.null();
    w.key("oldest");
    l.records ? w.integer(l.records->low) : w.null();
    w.key("end");
    l.records ? w.integer(l.records->high) : w.null();
    w.key("lag");
    l.lag() ? w.integer(*l.lag()) : w.null();
    w.key("movedAt");
    l.updated_at.empty() ? w.null() : w.string(l.updated_at);
    w.end_object();
  }
  w.end_array().end_object();
  out << w.str() << "\n";
}

// "<os user>@<host> (database role <role>)": who `positions set` says moved a position.
std::string operator_identity(const config::settings& s) {
  std::string user = "uid " + std::to_string(geteuid());
  // Read once on the command line's only thread.
  if (const passwd* pw = getpwuid(geteuid()); pw && pw->pw_name) user = pw->pw_name;  // NOLINT(concurrency-mt-unsafe)
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return user + "@" + (host[0] ? host : "localhost") + " (database role " + s.postgres.user + ")";
}

std::string target_description(const positions_set_options& o) {
  if (o.to_offset) return "--to-offset " + std::to_string(*o.to_offset);
  if (o.to_earliest) return "--to-earliest";
  if (o.to_latest) return "--to-latest";
  return "--to-time " + o.to_time;
}

}  // namespace

int run_positions_show(const config::settings& s, const positions_show_options& o, std::ostream& out,
                       std::ostream& err) {
  const auto group = group_of(s, o.group);
  const auto& schema = s.postgres.offsets_schema;
  std::map<partition_key, postgis::stored_position> stored;
  try {
    auto conn = postgis::connect(s.postgres, "positions");
    pqxx::read_transaction tx(*conn);
    if (!postgis::offsets_table_exists(tx, schema)) {
      err << "kafnus positions show: " << schema
          << ".offsets does not exist: no daemon with this configuration has started yet "
             "(or postgres.offsets_schema names another schema)\n";
      return 1;
    }
    stored = postgis::read_group_positions(tx, schema, group);
  } catch (const std::exception& e) {
    err << "kafnus positions show: cannot read the stored positions from PostgreSQL (" << postgis::describe(s.postgres)
        << "): " << e.what() << "\n";
    return 1;
  }

  std::unique_ptr<kafka::offsets_client> kafka;
  std::string kafka_problem;
  std::vector<position_line> lines;
  try {
    kafka = std::make_unique<kafka::offsets_client>(s.kafka);
    for (const auto& topic : topics_to_show(s, stored, kafka.get())) {
      std::vector<std::int32_t> partitions;
      try {
        partitions = kafka->partitions(topic);
      } catch (const std::exception& e) {
        // A stored topic that no longer exists (or not yet): its stored rows alone.
        if (kafka_problem.empty()) kafka_problem = e.what();
        for (const auto& [k, p] : stored) {
          if (k.first == topic) partitions.push_back(k.second);
        }
      }
      for (const auto p : partitions) {
        position_line l{topic, p, std::nullopt, {}, std::nullopt};
        if (const auto it = stored.find({topic, p}); it != stored.end()) {
          l.stored = it->second.next;
          l.updated_at = it->second.updated_at;
        }
        try {
          l.records = kafka->records(topic, p);
        } catch (const std::exception& e) {
          if (kafka_problem.empty()) kafka_problem = e.what();
        }
        lines.push_back(std::move(l));
      }
    }
  } catch (const std::exception& e) {
    kafka_problem = e.what();
    lines.clear();
    for (const auto& [k, p] : stored) lines.push_back({k.first, k.second, p.next, p.updated_at, std::nullopt});
  }
  if (o.json) {
    print_show_json(lines, group, schema, out);
  } else {
    print_show_text(lines, group, schema, out);
  }
  if (!kafka_problem.empty()) {
    err << "kafnus positions show: Kafka (" << s.kafka.brokers
        << ") did not say everything, lag unknown where '?': " << kafka_problem << "\n";
    return 1;
  }
  return 0;
}

int run_positions_set(const config::settings& s, const positions_set_options& o, std::ostream& out, std::ostream& err) {
  const int targets =
      (o.to_offset ? 1 : 0) + (o.to_earliest ? 1 : 0) + (o.to_latest ? 1 : 0) + (o.to_time.empty() ? 0 : 1);
  if (targets != 1) {
    err << "kafnus positions set: say where to, exactly one of --to-time ISO-8601, --to-offset N, --to-earliest, "
           "--to-latest\n";
    return 2;
  }
  std::int64_t epoch_ms = 0;
  if (!o.to_time.empty()) {
    const auto t = ngsi::parse_iso8601(o.to_time);
    if (!t) {
      err << "kafnus positions set: --to-time " << o.to_time << ": " << t.err().message
          << " (expected ISO-8601, e.g. 2026-12-01T08:00:00Z)\n";
      return 2;
    }
    epoch_ms = t.value() / 1000;
  }
  const auto group = group_of(s, o.group);
  const auto identity = operator_identity(s);
  const auto why = o.reason.empty() ? target_description(o) : o.reason + " (" + target_description(o) + ")";

  std::vector<postgis::position_move> moves;
  try {
    kafka::offsets_client kafka(s.kafka);
    auto partitions = kafka.partitions(o.topic);
    if (o.partition) {
      if (std::find(partitions.begin(), partitions.end(), *o.partition) == partitions.end()) {
        err << "kafnus positions set: topic " << o.topic << " has no partition " << *o.partition << " (it has "
            << partitions.size() << ": 0.." << partitions.back() << ")\n";
        return 1;
      }
      partitions = {*o.partition};
    }
    for (const auto p : partitions) {
      const auto r = kafka.records(o.topic, p);
      postgis::position_move m;
      m.topic = o.topic;
      m.partition = p;
      m.moved_by = identity;
      m.reason = why;
      if (o.to_offset) {
        if (*o.to_offset < r.low || *o.to_offset > r.high) {
          err << "kafnus positions set: offset " << *o.to_offset << " is outside the records of " << o.topic << "/" << p
              << " [" << r.low << ", " << r.high
              << "]: nothing moved (a daemon would apply kafka.position_out_of_range to it); choose an offset in "
                 "that range, --to-earliest or --to-latest\n";
          return 1;
        }
        m.to = *o.to_offset;
      } else if (o.to_earliest) {
        m.to = r.low;
      } else if (o.to_latest) {
        m.to = r.high;
      } else {
        m.to = kafka.offset_at(o.topic, p, epoch_ms);
      }
      moves.push_back(std::move(m));
    }
  } catch (const std::exception& e) {
    err << "kafnus positions set: " << e.what() << " (Kafka " << s.kafka.brokers << "); nothing moved\n";
    return 1;
  }

  std::string audit_error;
  try {
    auto conn = postgis::connect(s.postgres, "positions");
    if (o.dry_run) {
      pqxx::read_transaction tx(*conn);
      std::map<partition_key, postgis::stored_position> stored;
      if (postgis::offsets_table_exists(tx, s.postgres.offsets_schema)) {
        stored = postgis::read_group_positions(tx, s.postgres.offsets_schema, group);
      }
      for (auto& m : moves) {
        const auto it = stored.find({m.topic, m.partition});
        m.from = it == stored.end() ? -1 : it->second.next;
      }
    } else {
      postgis::ensure_kafnus_tables(*conn, s.postgres.offsets_schema);
      postgis::move_positions(*conn, s.postgres.offsets_schema, group, moves, audit_error);
    }
  } catch (const std::exception& e) {
    err << "kafnus positions set: cannot move the stored positions in PostgreSQL (" << postgis::describe(s.postgres)
        << "): " << e.what() << "; nothing moved\n";
    return 1;
  }

  for (const auto& m : moves) {
    out << (o.dry_run ? "would move " : "moved ") << m.topic << "/" << m.partition << " of group " << group << ": "
        << (m.from < 0 ? std::string("none") : std::to_string(m.from)) << " -> " << m.to << "\n";
  }
  if (o.dry_run) {
    out << "dry run: nothing moved\n";
    return 0;
  }
  out << "recorded in " << s.postgres.offsets_schema << ".position_moves as moved by " << identity << "\n";
  if (!audit_error.empty()) {
    err << "kafnus positions set: warning: the moves are made but not recorded in " << s.postgres.offsets_schema
        << ".position_moves (" << audit_error << "); running daemons log the move with an unknown author\n";
  }
  if (group != s.kafka.group_id) {
    out << "group " << group << " is not this configuration's (" << s.kafka.group_id
        << "): its daemons follow the move within their kafka.position_check_interval_ms\n";
  } else {
    out << "running daemons of group " << group << " follow the move within kafka.position_check_interval_ms ("
        << s.kafka.position_check_interval_ms << " ms)\n";
  }
  if (kafka::topic_router(s.flows).resolve(o.topic).flows.empty()) {
    err << "kafnus positions set: warning: no flow of this configuration consumes topic " << o.topic << "\n";
  }
  return 0;
}

void add_positions_command(CLI::App& app, positions_command& cmd, std::string& config_path) {
  auto* positions = app.add_subcommand("positions", "the stored positions of a consumer group, and moving them");
  positions->require_subcommand(1);
  const std::string config_help = "configuration file (default: $KAFNUS_CONFIG or /etc/kafnus/kafnus.yaml)";
  cmd.show =
      positions->add_subcommand("show", "stored positions, the records Kafka holds and the lag of each partition");
  cmd.show->add_option("-c,--config", config_path, config_help);
  cmd.show->add_option("--group", cmd.show_options.group, "consumer group (default: kafka.group_id)");
  cmd.show->add_flag("--json", cmd.show_options.json, "print JSON instead of text");

  auto& o = cmd.set_options;
  cmd.set = positions->add_subcommand("set",
                                      "move stored positions; running daemons follow within "
                                      "kafka.position_check_interval_ms");
  cmd.set->add_option("-c,--config", config_path, config_help);
  cmd.set->add_option("--topic", o.topic, "the topic")->required();
  cmd.set->add_option("--partition", o.partition, "one partition (default: every partition)")
      ->check(CLI::NonNegativeNumber);
  auto* to_time = cmd.set->add_option("--to-time", o.to_time,
                                      "the first record at or after this ISO-8601 time (2026-12-01T08:00:00Z)");
  auto* to_offset = cmd.set->add_option("--to-offset", o.to_offset, "this offset")->check(CLI::NonNegativeNumber);
  auto* to_earliest = cmd.set->add_flag("--to-earliest", o.to_earliest, "the oldest record held");
  auto* to_latest = cmd.set->add_flag("--to-latest", o.to_latest, "the end: only new records");
  to_time->excludes(to_offset)->excludes(to_earliest)->excludes(to_latest);
  to_offset->excludes(to_earliest)->excludes(to_latest);
  to_earliest->excludes(to_latest);
  cmd.set->add_option("--group", o.group, "consumer group (default: kafka.group_id)");
  cmd.set->add_option("--reason", o.reason, "why, recorded with the move and logged by the daemons");
  cmd.set->add_flag("--dry-run", o.dry_run, "print what would move, move nothing");
}

int run_positions(const positions_command& cmd, const config::settings& s, std::ostream& out, std::ostream& err) {
  if (cmd.set && cmd.set->parsed()) return run_positions_set(s, cmd.set_options, out, err);
  return run_positions_show(s, cmd.show_options, out, err);
}

}  // namespace kafnus
