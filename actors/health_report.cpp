#include "actors/health_report.hpp"

#include <ctime>

#include "actors/json_writer.hpp"
#include "app/version.hpp"
#include "ngsi/flow.hpp"

namespace kafnus {
namespace {

double uptime_seconds(const health_state& h, std::chrono::system_clock::time_point now) {
  return std::chrono::duration<double>(now - h.started).count();
}

const char* status_of(const health_state& h) { return is_ready(h) ? "UP" : "DOWN"; }

std::int64_t epoch_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

bool is_ready(const health_state& h) { return h.consuming.load() && h.db_connected.load(); }

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

std::string health_json(const health_state& h, std::chrono::system_clock::time_point now) {
  json_writer w;
  w.begin_object();
  w.key("status").string(status_of(h));
  w.key("timestamp").string(iso8601_utc(epoch_ms(now)));
  w.key("uptimeSeconds").number(uptime_seconds(h, now));
  w.key("version").string(kVersion);
  w.key("revision").string(kGitRevision);
  w.key("kafka").begin_object().key("connected").boolean(h.kafka_connected.load()).end_object();
  w.key("postgres").begin_object().key("connected").boolean(h.db_connected.load()).end_object();
  w.key("consuming").boolean(h.consuming.load());
  w.key("draining").boolean(h.draining.load());
  w.key("flows").begin_array();
  for (auto f : ngsi::kAllFlows) {
    const auto& fs = h.flows[static_cast<std::size_t>(f)];
    const auto last_ms = fs.last_processed_ms.load();
    w.begin_object();
    w.key("flow").string(ngsi::to_string(f));
    w.key("messages").integer(fs.messages.load());
    w.key("errors").integer(fs.errors.load());
    w.key("lastProcessedAt");
    if (last_ms == 0) {
      w.null();
    } else {
      w.string(iso8601_utc(last_ms));
    }
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

std::string readiness_json(const health_state& h) {
  json_writer w;
  w.begin_object();
  w.key("status").string(status_of(h));
  w.key("consuming").boolean(h.consuming.load());
  w.key("postgres").begin_object().key("connected").boolean(h.db_connected.load()).end_object();
  w.end_object();
  return w.str();
}

}  // namespace kafnus
