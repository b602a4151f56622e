#include "admin/health_report.hpp"

#include <ctime>

#include "app/version.hpp"
#include "ngsi/flow.hpp"
#include "telemetry/json_writer.hpp"

namespace kafnus {
namespace {

double uptime_seconds(const health_state& h, std::chrono::system_clock::time_point now) {
  return std::chrono::duration<double>(now - h.started).count();
}

std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Opens the object of /health and /readyz with their verdict: status and reasons.
void begin_verdict(json_writer& w, const readiness& r) {
  w.begin_object();
  w.key("status").string(r.ready ? "UP" : "DOWN");
  w.key("reasons").begin_array();
  for (const auto& reason : r.reasons) w.string(reason);
  w.end_array();
}

// A moment in ms since the epoch as ISO-8601, or null when it is 0 (never).
void write_moment(json_writer& w, std::int64_t ms) {
  if (ms == 0) {
    w.null();
  } else {
    w.string(iso8601_utc(ms));
  }
}

void write_kafka(json_writer& w, const health_state& h) {
  const bool connected = h.kafka_connected.load();
  const auto since = h.kafka_down_since_ms.load();
  w.key("kafka").begin_object();
  w.key("connected").boolean(connected);
  w.key("downSince");  // when the outage (or the wait for a first connection) began
  write_moment(w, connected ? 0 : since);
  w.end_object();
}

}  // namespace

std::chrono::milliseconds kafka_down_for(const health_state& h, std::chrono::system_clock::time_point now) {
  // Read `connected` first: a consumer that reports a connection clears the
  // outage after setting it, so a stale moment is never paired with `false`.
  if (h.kafka_connected.load()) return std::chrono::milliseconds(0);
  const auto since = h.kafka_down_since_ms.load();
  if (since == 0) return std::chrono::milliseconds(0);
  const auto down = epoch_ms(now) - since;
  return std::chrono::milliseconds(down > 0 ? down : 0);  // a clock set back is no outage
}

readiness assess(const health_state& h, std::chrono::system_clock::time_point now, std::chrono::seconds kafka_grace) {
  readiness r;
  if (!h.consuming.load()) {
    r.reasons.emplace_back(h.draining.load() ? "stopping: in-flight work is being committed"
                                             : "not consuming: the consumer is starting or restarting");
  }
  if (!h.db_connected.load()) r.reasons.emplace_back("PostgreSQL is unreachable; writes are retried");
  const auto down = kafka_down_for(h, now);
  if (down > kafka_grace) {
    r.reasons.emplace_back("Kafka has been unreachable for " +
                           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(down).count()) +
                           " s (admin.kafka_down_after_s: " + std::to_string(kafka_grace.count()) +
                           "); the consumer keeps reconnecting");
  }
  r.ready = r.reasons.empty();
  return r;
}

std::string iso8601_utc(std::int64_t ms_since_epoch) {
  std::int64_t seconds = ms_since_epoch / 1000;
  std::int64_t millis = ms_since_epoch % 1000;
  if (millis < 0) {
    millis += 1000;
    seconds -= 1;
  }
  const auto t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
  const auto ms = std::to_string(1000 + millis).substr(1);  // zero-padded to three digits
  return std::string(date) + "." + ms + "Z";
}

std::string health_json(const health_state& h, std::chrono::system_clock::time_point now,
                        std::chrono::seconds kafka_grace) {
  json_writer w;
  begin_verdict(w, assess(h, now, kafka_grace));
  w.key("timestamp").string(iso8601_utc(epoch_ms(now)));
  w.key("uptimeSeconds").number(uptime_seconds(h, now));
  w.key("version").string(kVersion);
  w.key("revision").string(kGitRevision);
  write_kafka(w, h);
  w.key("postgres").begin_object().key("connected").boolean(h.db_connected.load()).end_object();
  w.key("consuming").boolean(h.consuming.load());
  w.key("draining").boolean(h.draining.load());
  w.key("lastCommitAt");  // the last committed transaction
  write_moment(w, h.last_commit_ms.load());
  w.key("errorLogLastHour").begin_object();  // error-log rows written per service
  for (const auto& [service, n] : h.error_log_last_hour.last_hour(now)) w.key(service).integer(n);
  w.end_object();
  w.key("flows").begin_array();
  for (auto f : ngsi::kAllFlows) {
    const auto& fs = h.flows[static_cast<std::size_t>(f)];
    w.begin_object();
    w.key("flow").string(ngsi::to_string(f));
    w.key("messages").integer(fs.messages.load());
    w.key("errors").integer(fs.errors.load());
    w.key("lastProcessedAt");
    write_moment(w, fs.last_processed_ms.load());
    w.key("lastDurationSeconds").number(fs.last_duration_s.load());
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.str();
}

std::string liveness_json(const health_state& h, std::chrono::system_clock::time_point now) {
  json_writer w;
  w.begin_object();
  w.key("status").string("UP");
  w.key("uptimeSeconds").number(uptime_seconds(h, now));
  w.end_object();
  return w.str();
}

std::string readiness_json(const health_state& h, std::chrono::system_clock::time_point now,
                           std::chrono::seconds kafka_grace) {
  json_writer w;
  begin_verdict(w, assess(h, now, kafka_grace));
  w.key("consuming").boolean(h.consuming.load());
  w.key("kafka").begin_object().key("connected").boolean(h.kafka_connected.load()).end_object();
  w.key("postgres").begin_object().key("connected").boolean(h.db_connected.load()).end_object();
  w.end_object();
  return w.str();
}

}  // namespace kafnus
