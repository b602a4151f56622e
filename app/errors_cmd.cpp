#include "app/errors_cmd.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <optional>
#include <ostream>

#include <pqxx/nontransaction>

#include "admin/health_report.hpp"
#include "ngsi/timestamp.hpp"
#include "postgis/connection.hpp"
#include "postgis/error_replay.hpp"
#include "telemetry/json_writer.hpp"
#include "text/ascii.hpp"

namespace kafnus {
namespace {

constexpr int kFailedRows = 1;
constexpr int kBadArguments = 2;
constexpr int kDatabase = 3;
constexpr int kInterrupted = 130;

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// --since: an ISO-8601 instant (no zone: UTC), or a duration back from now.
std::optional<std::int64_t> parse_since(const std::string& text, std::string& problem) {
  if (text.empty()) return std::nullopt;
  const char unit = text.back();
  const auto digits = std::string_view(text).substr(0, text.size() - 1);
  const bool relative = !digits.empty() && digits.size() <= 9 &&
                        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (relative && (unit == 's' || unit == 'm' || unit == 'h' || unit == 'd')) {
    const std::int64_t n = std::stoll(std::string(digits));
    const std::int64_t seconds = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 86400;
    return now_us() - n * seconds * 1000000;
  }
  auto instant = ngsi::parse_iso8601(text);
  if (!instant) {
    problem = "--since '" + text + "': " + instant.err().message +
              "; give an ISO-8601 instant (2025-01-31, 2025-01-31T08:00:00Z, 2025-01-31T09:00:00+01:00) or a "
              "duration back from now (90s, 30m, 12h, 7d)";
    return std::nullopt;
  }
  return instant.value();
}

std::string moment(std::int64_t us) { return iso8601_utc(us / 1000); }

std::unique_ptr<postgis::session> open(const config::settings& s, std::ostream& err) {
  try {
    auto conn = postgis::connect(s.postgres, "errors");
    // Every byte of a statement means what the shape check read it as.
    pqxx::nontransaction(*conn).exec("SET client_encoding = 'UTF8'");
    return conn;
  } catch (const std::exception& e) {
    std::string why = e.what();
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    err << "kafnus: cannot connect to PostgreSQL at " << postgis::describe(s.postgres) << ": " << why
        << "\n  (check postgres.* in the configuration, and that the server is up and reachable)\n";
    return nullptr;
  }
}

// ---- list ----

void print_warnings(const std::vector<std::string>& warnings, std::ostream& err) {
  for (const auto& w : warnings) err << "kafnus: warning: " << w << "\n";
}

void warnings_json(json_writer& w, const std::vector<std::string>& warnings) {
  w.key("warnings").begin_array();
  for (const auto& s : warnings) w.string(s);
  w.end_array();
}

int print_list(const postgis::error_listing& listing, const errors_options& o, const std::string& since_text,
               const std::string& offsets_schema, std::ostream& out, std::ostream& err) {
  const auto& groups = listing.groups;
  print_warnings(listing.warnings, err);
  std::int64_t total = 0;
  for (const auto& g : groups) total += g.rows;
  if (o.json) {
    json_writer w;
    w.begin_object();
    w.key("service");
    o.service.empty() ? w.null() : w.string(o.service);
    w.key("since");
    since_text.empty() ? w.null() : w.string(since_text);
    w.key("rows").integer(total);
    w.key("groups").begin_array();
    for (const auto& g : groups) {
      w.begin_object();
      w.key("service").string(g.service);
      w.key("table").string(g.target);
      w.key("error").string(g.error);
      w.key("rows").integer(g.rows);
      w.key("oldest").string(moment(g.oldest_us));
      w.key("newest").string(moment(g.newest_us));
      w.key("errorLog").string(g.log);
      w.end_object();
    }
    w.end_array();
    warnings_json(w, listing.warnings);
    w.end_object();
    out << w.str() << "\n";
    return 0;
  }
  if (groups.empty()) {
    out << "no error-log rows" << (o.service.empty() ? "" : " of service " + o.service)
        << (since_text.empty() ? "" : " since " + since_text) << "\n";
    return 0;
  }
  const std::string fallback_log = postgis::display_name({offsets_schema, "error_log"});
  bool any_fallback = false;
  std::size_t w_service = 7, w_table = 5, w_rows = 4;
  for (const auto& g : groups) {
    const bool fallback = g.log == fallback_log;
    any_fallback = any_fallback || fallback;
    w_service = std::max(w_service, g.service.size() + (fallback ? 1 : 0));
    w_table = std::max(w_table, g.target.size());
    w_rows = std::max(w_rows, std::to_string(g.rows).size());
  }
  out << text::pad_right("SERVICE", w_service) << "  " << text::pad_right("TABLE", w_table) << "  "
      << text::pad_left("ROWS", w_rows) << "  " << text::pad_right("OLDEST", 24) << "  "
      << text::pad_right("NEWEST", 24) << "  ERROR\n";
  for (const auto& g : groups) {
    const bool fallback = g.log == fallback_log;
    out << text::pad_right(g.service + (fallback ? "*" : ""), w_service) << "  " << text::pad_right(g.target, w_table)
        << "  " << text::pad_left(std::to_string(g.rows), w_rows) << "  " << text::pad_right(moment(g.oldest_us), 24)
        << "  " << text::pad_right(moment(g.newest_us), 24) << "  " << g.error << "\n";
  }
  out << total << " row" << (total == 1 ? "" : "s") << " in " << groups.size() << " group"
      << (groups.size() == 1 ? "" : "s") << "\n";
  if (any_fallback) out << "* in " << fallback_log << " (the service's schema did not exist when the rows failed)\n";
  return 0;
}

// ---- replay ----

const char* result_name(postgis::row_result r) {
  switch (r) {
    case postgis::row_result::replayed: return "replayed";
    case postgis::row_result::would_replay: return "would replay";
    case postgis::row_result::failed: return "failed";
    case postgis::row_result::refused: return "refused";
    case postgis::row_result::skipped: return "skipped";
  }
  return "?";
}

void print_row(const postgis::row_outcome& r, std::ostream& out) {
  out << result_name(r.result) << "  " << moment(r.timestamp_us) << "  " << (r.target.empty() ? "-" : r.target) << "  ("
      << r.log << " ctid " << r.ctid << ")";
  if (!r.reason.empty()) out << ": " << r.reason;
  if (!r.detail.empty() && r.detail != r.reason) out << ": " << r.detail;
  out << "\n";
}

void row_json(json_writer& w, const postgis::row_outcome& r) {
  w.begin_object();
  w.key("result").string(result_name(r.result));
  w.key("timestamp").string(moment(r.timestamp_us));
  w.key("errorLog").string(r.log);
  w.key("ctid").string(r.ctid);
  w.key("table");
  r.target.empty() ? w.null() : w.string(r.target);
  w.key("reason");
  r.reason.empty() ? w.null() : w.string(r.reason);
  w.key("detail");
  r.detail.empty() ? w.null() : w.string(r.detail);
  w.end_object();
}

void print_report(const postgis::replay_report& r, const errors_options& o,
                  const std::vector<postgis::row_outcome>& rows, std::ostream& out) {
  auto counts = [](json_writer& w, const std::map<std::string, std::size_t>& m) {
    w.begin_object();
    for (const auto& [k, v] : m) w.key(k).integer(static_cast<std::int64_t>(v));
    w.end_object();
  };
  if (o.json) {
    json_writer w;
    w.begin_object();
    w.key("service").string(o.service);
    w.key("dryRun").boolean(o.dry_run);
    w.key("errorLogs").begin_array();
    for (const auto& l : r.logs) w.string(l);
    w.end_array();
    w.key("rows").integer(static_cast<std::int64_t>(r.rows));
    w.key("replayed").integer(static_cast<std::int64_t>(r.replayed));
    w.key("wouldReplay").integer(static_cast<std::int64_t>(r.would_replay));
    w.key("failed").integer(static_cast<std::int64_t>(r.failed));
    w.key("refused").integer(static_cast<std::int64_t>(r.refused));
    w.key("skipped").integer(static_cast<std::int64_t>(r.skipped));
    w.key("interrupted").boolean(r.interrupted);
    w.key("failedByError");
    counts(w, r.failed_by_error);
    w.key("refusedByReason");
    counts(w, r.refused_by_reason);
    warnings_json(w, r.warnings);
    if (o.verbose) {
      w.key("details").begin_array();
      for (const auto& row : rows) row_json(w, row);
      w.end_array();
    }
    w.end_object();
    out << w.str() << "\n";
    return;
  }
  out << (o.dry_run ? "dry run: nothing was run or changed\n" : "");
  out << "service " << o.service << ": " << r.rows << " error-log row" << (r.rows == 1 ? "" : "s") << " in "
      << text::join(r.logs, ", ") << (r.interrupted ? " (interrupted: the rows not reached are untouched)" : "")
      << "\n";
  if (o.dry_run) {
    out << "  would replay  " << r.would_replay << "\n";
  } else {
    out << "  replayed      " << r.replayed << "\n";
    out << "  failed        " << r.failed << (r.failed ? " (their rows stay, with the new error)" : "") << "\n";
    for (const auto& [e, n] : r.failed_by_error) out << "    " << n << "  " << e << "\n";
  }
  out << "  refused       " << r.refused << (r.refused ? " (left as they are)" : "") << "\n";
  for (const auto& [e, n] : r.refused_by_reason) out << "    " << n << "  " << e << "\n";
  out << "  skipped       " << r.skipped << (r.skipped ? " (gone or taken by another replay since the start)" : "")
      << "\n";
}

bool stop_signal_pending() {
  sigset_t pending;
  sigemptyset(&pending);
  if (sigpending(&pending) != 0) return false;
  return sigismember(&pending, SIGINT) == 1 || sigismember(&pending, SIGTERM) == 1;
}

}  // namespace

void add_errors_command(CLI::App& app, errors_command& cmd, std::string& config_path) {
  auto* errors =
      app.add_subcommand("errors", "the error log: list its rows, replay their statements once the cause is fixed");
  errors->require_subcommand(1);
  auto& o = cmd.options;
  const char* config_help = "configuration file (default: $KAFNUS_CONFIG or /etc/kafnus/kafnus.yaml)";
  const char* since_help =
      "only rows logged at or after this: an ISO-8601 instant (UTC unless it says) or a duration back from now "
      "(90s, 30m, 12h, 7d)";

  cmd.list = errors->add_subcommand(
      "list", "count error-log rows by service, target table and error, with the oldest and newest of each");
  cmd.list->add_option("-c,--config", config_path, config_help);
  cmd.list->add_option("--service", o.service, "only this service (fiware-service); default: every service");
  cmd.list->add_option("--since", o.since, since_help);
  cmd.list->add_flag("--json", o.json, "print JSON instead of text");

  cmd.replay = errors->add_subcommand(
      "replay",
      "re-run the service's error-log statements, oldest first, each in its own transaction with the deletion of "
      "its row; only statements of the shape Kafnus writes (an INSERT or upsert into the service's schema) run");
  cmd.replay->add_option("-c,--config", config_path, config_help);
  cmd.replay->add_option("--service", o.service, "the service (fiware-service) whose rows to replay")->required();
  cmd.replay->add_option("--since", o.since, since_help);
  cmd.replay->add_flag("--dry-run", o.dry_run, "check each row's statement and say what would run; change nothing");
  cmd.replay->add_option("--limit", o.limit, "at most this many rows, oldest first")->check(CLI::Range(1, 1 << 30));
  cmd.replay->add_option("--schema", o.schemas,
                         "a schema statements may also write (repeatable): for the servicepath datamodels, whose "
                         "tables are not in the service's schema");
  cmd.replay->add_flag("-v,--verbose", o.verbose, "one line (JSON: one entry) per row");
  cmd.replay->add_flag("--json", o.json, "print JSON instead of text");
}

int run_errors(const errors_command& cmd, const config::settings& settings, std::ostream& out, std::ostream& err) {
  errors_options o = cmd.options;
  o.service = text::to_lower_ascii(o.service);  // services are lower-cased, as Kafnus writes them
  std::string problem;
  const auto since = parse_since(o.since, problem);
  if (!problem.empty()) {
    err << "kafnus: " << problem << "\n";
    return kBadArguments;
  }
  const auto& offsets_schema = settings.postgres.offsets_schema;
  for (const auto& s : o.schemas) {
    if (s == offsets_schema || s == "pg_catalog" || s == "information_schema" || s.rfind("pg_", 0) == 0) {
      err << "kafnus: --schema " << s
          << ": Kafnus's own schema (postgres.offsets_schema) and the system schemas are never a target\n";
      return kBadArguments;
    }
  }
  auto conn = open(settings, err);
  if (!conn) return kDatabase;

  try {
    if (cmd.list->parsed()) {
      postgis::list_request req;
      req.offsets_schema = offsets_schema;
      if (!o.service.empty()) req.service = o.service;
      req.since_us = since;
      return print_list(postgis::list_errors(*conn, req), o, o.since, offsets_schema, out, err);
    }
    postgis::replay_request req;
    req.service = o.service;
    req.offsets_schema = offsets_schema;
    req.more_schemas = o.schemas;
    req.since_us = since;
    if (o.limit > 0) req.limit = o.limit;
    req.dry_run = o.dry_run;
    req.stop_requested = stop_signal_pending;
    std::vector<postgis::row_outcome> rows;
    req.on_row = [&](const postgis::row_outcome& r) {
      if (!o.verbose) return;
      if (o.json) {
        rows.push_back(r);
      } else {
        print_row(r, out);
      }
    };
    const auto report = postgis::replay_errors(*conn, req);
    print_warnings(report.warnings, err);
    print_report(report, o, rows, out);
    if (report.interrupted) return kInterrupted;
    return report.failed > 0 ? kFailedRows : 0;
  } catch (const postgis::errors_failure& e) {
    err << "kafnus: " << e.what() << "\n";
    return kDatabase;
  }
}

}  // namespace kafnus
