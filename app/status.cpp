#include "app/status.hpp"

#include <cstdio>
#include <ctime>
#include <map>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <simdjson.h>

#include "admin/http_client.hpp"
#include "admin/prometheus_text.hpp"
#include "telemetry/json_writer.hpp"
#include "text/ascii.hpp"

namespace kafnus {
namespace {

struct endpoint {
  std::string host;
  int port = 80;
};

endpoint parse_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) {
    throw std::invalid_argument("--url " + url + ": only http://host:port is supported");
  }
  std::string rest = url.substr(scheme.size());
  if (const auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  endpoint e;
  std::string port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string::npos) throw std::invalid_argument("--url " + url + ": unclosed '['");
    e.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size() && rest[close + 1] == ':') port = rest.substr(close + 2);
  } else if (const auto colon = rest.rfind(':'); colon != std::string::npos) {
    e.host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  } else {
    e.host = rest;
  }
  if (e.host.empty()) throw std::invalid_argument("--url " + url + ": no host");
  if (!port.empty()) {
    try {
      e.port = std::stoi(port);
    } catch (const std::exception&) {
      e.port = 0;
    }
    if (e.port <= 0 || e.port > 65535) throw std::invalid_argument("--url " + url + ": bad port '" + port + "'");
  }
  return e;
}

struct flow_row {
  std::string flow;
  std::int64_t messages = 0;
  std::int64_t errors = 0;
  std::optional<std::string> last_processed;
  double rate = 0;
};

struct status_report {
  std::string status;
  std::vector<std::string> reasons;
  std::string version;
  std::string revision;
  double uptime_s = 0;
  bool kafka = false;
  bool postgres = false;
  std::optional<std::string> last_commit;
  std::vector<flow_row> flows;
  std::map<std::string, double> lag;
  std::map<std::string, std::int64_t> error_log;
};

// A field of the answer; an absent or mistyped one keeps `out` as it is.
template <class T>
void read_field(simdjson::simdjson_result<simdjson::dom::element> field, T& out) {
  T v{};
  if (!field.get(v)) out = v;
}

std::optional<std::string> optional_string(simdjson::simdjson_result<simdjson::dom::element> field) {
  std::string_view v;
  if (field.get(v)) return std::nullopt;  // absent or null
  return std::string(v);
}

void read_health(const std::string& body, status_report& r) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body).get(doc) || !doc.is_object()) throw std::runtime_error("/health did not answer JSON");
  std::string_view sv;
  if (doc["status"].get(sv)) throw std::runtime_error("/health has no status: is this a Kafnus daemon?");
  r.status = std::string(sv);
  simdjson::dom::array reasons;
  if (!doc["reasons"].get(reasons)) {
    for (auto e : reasons) {
      if (!e.get(sv)) r.reasons.emplace_back(sv);
    }
  }
  if (!doc["version"].get(sv)) r.version = std::string(sv);
  if (!doc["revision"].get(sv)) r.revision = std::string(sv);
  read_field(doc["uptimeSeconds"], r.uptime_s);
  read_field(doc.at_pointer("/kafka/connected"), r.kafka);
  read_field(doc.at_pointer("/postgres/connected"), r.postgres);
  r.last_commit = optional_string(doc["lastCommitAt"]);
  simdjson::dom::object errors;
  if (!doc["errorLogLastHour"].get(errors)) {
    for (auto kv : errors) {
      std::int64_t n = 0;
      if (!kv.value.get(n)) r.error_log.emplace(std::string(kv.key), n);
    }
  }
  simdjson::dom::array flows;
  if (!doc["flows"].get(flows)) {
    for (auto f : flows) {
      flow_row row;
      if (!f["flow"].get(sv)) row.flow = std::string(sv);
      read_field(f["messages"], row.messages);
      read_field(f["errors"], row.errors);
      row.last_processed = optional_string(f["lastProcessedAt"]);
      r.flows.push_back(std::move(row));
    }
  }
}

std::map<std::string, double> processed_by_flow(const std::vector<metric_sample>& samples) {
  std::map<std::string, double> out;
  for (const auto& s : samples) {
    if (s.name == "messages_processed_total") out[s.labels.count("flow") ? s.labels.at("flow") : ""] += s.value;
  }
  return out;
}

std::string ago(const std::string& iso) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &ms) < 6) {
    return "";
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const auto then = timegm(&tm);
  const auto seconds = std::time(nullptr) - then;
  if (seconds < 0) return "";
  if (seconds < 120) return " (" + std::to_string(seconds) + " s ago)";
  if (seconds < 7200) return " (" + std::to_string(seconds / 60) + " min ago)";
  return " (" + std::to_string(seconds / 3600) + " h ago)";
}

// "2026-12-01T20:49:42.651Z (4 s ago)", or `otherwise` when it never happened.
std::string moment(const std::optional<std::string>& iso, const char* otherwise) {
  return iso ? *iso + ago(*iso) : std::string(otherwise);
}

std::string fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

void print_text(const status_report& r, const std::string& url, std::ostream& out) {
  const auto up = static_cast<std::int64_t>(r.uptime_s);
  out << "Kafnus " << r.version << " (" << r.revision << ") at " << url << ": " << r.status << ", up " << up / 3600
      << " h " << (up % 3600) / 60 << " min\n";
  for (const auto& reason : r.reasons) out << "  ! " << reason << "\n";
  out << "  Kafka        " << (r.kafka ? "connected" : "NOT connected") << "\n";
  out << "  PostgreSQL   " << (r.postgres ? "connected" : "NOT connected") << "\n";
  out << "  last commit  " << moment(r.last_commit, "none yet") << "\n\n";
  out << "  " << text::pad_right("flow", 10) << text::pad_left("rate/s", 10) << text::pad_left("messages", 12)
      << text::pad_left("errors", 9) << "  last processed\n";
  for (const auto& f : r.flows) {
    out << "  " << text::pad_right(f.flow, 10) << text::pad_left(fixed(f.rate, 1), 10)
        << text::pad_left(std::to_string(f.messages), 12) << text::pad_left(std::to_string(f.errors), 9) << "  "
        << moment(f.last_processed, "never") << "\n";
  }
  out << "\n  lag per topic (messages)\n";
  if (r.lag.empty()) out << "    no partition assigned\n";
  for (const auto& [topic, lag] : r.lag) out << "    " << text::pad_right(topic, 40) << " " << fixed(lag, 0) << "\n";
  out << "\n  error-log rows in the last hour\n";
  if (r.error_log.empty()) out << "    none\n";
  for (const auto& [service, n] : r.error_log) out << "    " << text::pad_right(service, 40) << " " << n << "\n";
}

void write_optional(json_writer& w, const std::optional<std::string>& v) {
  if (v) {
    w.string(*v);
  } else {
    w.null();
  }
}

void print_json(const status_report& r, const std::string& url, std::ostream& out) {
  json_writer w;
  w.begin_object();
  w.key("url").string(url);
  w.key("status").string(r.status);
  w.key("reasons").begin_array();
  for (const auto& reason : r.reasons) w.string(reason);
  w.end_array();
  w.key("version").string(r.version);
  w.key("revision").string(r.revision);
  w.key("uptimeSeconds").number(r.uptime_s);
  w.key("kafka").begin_object().key("connected").boolean(r.kafka).end_object();
  w.key("postgres").begin_object().key("connected").boolean(r.postgres).end_object();
  write_optional(w.key("lastCommitAt"), r.last_commit);
  w.key("flows").begin_array();
  for (const auto& f : r.flows) {
    w.begin_object();
    w.key("flow").string(f.flow);
    w.key("ratePerSecond").number(f.rate);
    w.key("messages").integer(f.messages);
    w.key("errors").integer(f.errors);
    write_optional(w.key("lastProcessedAt"), f.last_processed);
    w.end_object();
  }
  w.end_array();
  w.key("lagByTopic").begin_object();
  for (const auto& [topic, lag] : r.lag) w.key(topic).integer(static_cast<std::int64_t>(lag));
  w.end_object();
  w.key("errorLogLastHour").begin_object();
  for (const auto& [service, n] : r.error_log) w.key(service).integer(n);
  w.end_object();
  w.end_object();
  out << w.str() << "\n";
}

}  // namespace

int run_status(const status_options& options, std::ostream& out, std::ostream& err) {
  try {
    const auto e = parse_url(options.url);
    auto get = [&](const char* path) {
      auto reply = http_exchange(e.host, e.port, outgoing_request{"GET", path, {}, {}}, options.timeout);
      if (reply.status != 200 && !(reply.status == 503 && std::string(path) == "/health")) {
        throw std::runtime_error(std::string(path) + " answered HTTP " + std::to_string(reply.status));
      }
      return reply.body;
    };
    status_report r;
    const auto first = parse_prometheus_text(get("/metrics"));
    const auto t0 = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(options.interval);
    read_health(get("/health"), r);
    const auto second = parse_prometheus_text(get("/metrics"));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto before = processed_by_flow(first);
    const auto after = processed_by_flow(second);
    for (auto& f : r.flows) {
      const auto a = after.find(f.flow);
      const auto b = before.find(f.flow);
      if (a != after.end() && b != before.end() && seconds > 0) f.rate = (a->second - b->second) / seconds;
    }
    for (const auto& s : second) {
      if (s.name == "kafnus_consumer_lag_messages" && s.labels.count("topic")) r.lag[s.labels.at("topic")] += s.value;
    }
    if (options.json) {
      print_json(r, options.url, out);
    } else {
      print_text(r, options.url, out);
    }
    return 0;
  } catch (const std::exception& ex) {
    err << "kafnus status: " << ex.what() << "\n";
    return 1;
  }
}

}  // namespace kafnus
