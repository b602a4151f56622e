// Hostile input interleaved with good input: each hostile record becomes an
// error-log row, every good record around it is written, the daemon keeps
// running, and no table or schema other than the intended ones appears.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "test/faults/stream.hpp"
#include "test/support/daemon_process.hpp"
#include "test/support/kafka_client.hpp"
#include "test/support/metrics_text.hpp"
#include "test/support/notifications.hpp"
#include "test/support/pg_client.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;
using namespace std::chrono_literals;

namespace {

std::set<std::string> relations(kt::pg_client& pg) {
  std::set<std::string> out;
  for (const auto& r : pg.query("SELECT n.nspname || '.' || coalesce(c.relname, '') FROM pg_namespace n LEFT JOIN "
                                "pg_class c ON c.relnamespace = n.oid AND c.relkind IN ('r', 'p', 'v') "
                                "WHERE n.nspname NOT LIKE 'pg_%' AND n.nspname <> 'information_schema'")) {
    out.insert(*r[0]);
  }
  return out;
}

std::string entity_json(const std::string& id, const std::string& type, const std::string& extra_attrs) {
  return R"({"id":")" + id + R"(","type":")" + type +
         R"(","TimeInstant":{"type":"DateTime","value":"2025-01-01T00:00:00.000Z","metadata":{}})" + extra_attrs + "}";
}

// The sum of every sample of a metric (any labels) in Prometheus text.
double total(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  double sum = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, name.size(), name) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : ' ';
    if (next == ' ' || next == '{') sum += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum;
}

// Every distinct value of the `service` label in Prometheus text (as written, escapes kept).
std::set<std::string> service_labels(const std::string& text) {
  std::set<std::string> out;
  const std::string key = "service=\"";
  for (auto at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
    std::string value;
    for (auto i = at + key.size(); i < text.size() && text[i] != '"'; ++i) {
      value += text[i];
      if (text[i] == '\\' && i + 1 < text.size()) value += text[++i];
    }
    out.insert(value);
  }
  return out;
}

}  // namespace

TEST(Hostile, BadRecordsGoToTheErrorLogGoodOnesAroundThemAreWritten) {
  kt::stream s(1);
  kt::pg_client pg;
  auto cfg = s.config();
  kt::daemon_process d(cfg);
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();
  // The daemon's own schema is intended; take the snapshot once it exists.
  std::this_thread::sleep_for(500ms);
  const auto before = relations(pg);

  const auto topic = cfg.historic_topics[0];
  const kt::headers good{{"Fiware-Service", s.service()}, {"Fiware-ServicePath", "/s"}};
  struct hostile {
    std::string what;
    std::string value;
    kt::headers headers;
  };
  std::string deep(100000, '[');
  std::string many_attrs;
  for (int i = 0; i < 10000; ++i) many_attrs += ",\"a" + std::to_string(i) + R"(":{"type":"Number","value":1})";
  const std::string ten_mb(10 * 1024 * 1024, 'x');
  const std::vector<hostile> bad = {
      {"invalid JSON", "{\"data\": [", good},
      {"invalid UTF-8", std::string("{\"subscriptionId\":\"\xff\xfe\",\"data\":[]}"), good},
      {"10 MB value",
       R"({"data":[)" + entity_json("Big", "Sensor", R"(,"temperature":{"type":"Text","value":")" + ten_mb + R"("})") +
           "]}",
       good},
      {"10,000 attributes", R"({"data":[)" + entity_json("Many", "Sensor", many_attrs) + "]}", good},
      {"deep nesting", R"({"data":)" + deep, good},
      {"unknown datamodel",
       kt::sensor_notification("D1", "Sensor", kt::iso_time(1), 1),
       {{"Fiware-Service", s.service()}, {"Fiware-ServicePath", "/s"}, {"fiware-datamodel", "dm-by-magic"}}},
      {"SQL in service",
       kt::sensor_notification("I1", "Sensor", kt::iso_time(1), 1),
       {{"Fiware-Service", "x\"; DROP SCHEMA public CASCADE; --"}, {"Fiware-ServicePath", "/s"}}},
      {"SQL in servicepath",
       kt::sensor_notification("I2", "Sensor", kt::iso_time(1), 1),
       {{"Fiware-Service", s.service()}, {"Fiware-ServicePath", "/s'; DROP TABLE x; --"}}},
      {"SQL in type", kt::sensor_notification("I3", "Sensor\"; DROP TABLE s_sensor; --", kt::iso_time(1), 1), good},
      {"SQL in attribute name",
       R"({"data":[)" +
           entity_json("I4", "Sensor", R"(,"temp\"; DROP TABLE s_sensor; --":{"type":"Number","value":1})") + "]}",
       good},
      {"headers missing", kt::sensor_notification("H1", "Sensor", kt::iso_time(1), 1), {}},
      {"historic without TimeInstant",
       R"({"data":[{"id":"N1","type":"Sensor","temperature":{"type":"Number","value":1}}]})", good},
  };
  kt::kafka_producer p(kt::brokers());
  int good_count = 0;
  auto send_good = [&](const std::string& id_suffix, const kt::headers& h = {}) {
    p.send(topic, kt::sensor_notification("G" + id_suffix, "Sensor", kt::iso_time(good_count), good_count),
           h.empty() ? good : h);
    ++good_count;
  };
  send_good("start");
  for (std::size_t i = 0; i < bad.size(); ++i) {
    p.send(topic, bad[i].value, bad[i].headers);
    send_good(std::to_string(i));
  }
  // Values that look like SQL are data: stored verbatim.
  p.send(topic, kt::sensor_notification("'); DROP TABLE s_sensor; --", "Sensor", kt::iso_time(good_count), 1), good);
  ++good_count;
  // Duplicated headers: the last one wins (documented), so this record is good.
  send_good("dup", {{"Fiware-Service", "other"}, {"Fiware-Service", s.service()}, {"Fiware-ServicePath", "/s"}});
  p.flush();

  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline && pg.count(s.service() + ".s_sensor") < good_count) {
    std::this_thread::sleep_for(200ms);
  }
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(pg.count(s.service() + ".s_sensor"), good_count) << d.log();
  EXPECT_EQ(pg.count(s.service() + ".s_sensor", "entityid = '''); DROP TABLE s_sensor; --'"), 1);
  EXPECT_TRUE(d.running()) << d.log();

  // Every hostile record left one error-log row: in the service's error log,
  // or, for a service without a schema, in the daemon's own.
  const auto service_log = s.service() + "." + s.service() + "_error_log";
  const auto fallback_log = d.config().offsets_schema + ".error_log";
  const long long logged = pg.count(service_log) + pg.count(fallback_log);
  EXPECT_EQ(logged, static_cast<long long>(bad.size()))
      << pg.scalar("SELECT string_agg(left(error, 120), E'\\n') FROM " + service_log) << "\n"
      << pg.scalar("SELECT string_agg(service || ': ' || left(error, 120), E'\\n') FROM " + fallback_log);

  // Nothing else was created or dropped: only the service's error log is new.
  auto after = relations(pg);
  std::set<std::string> added, removed;
  for (const auto& r : after) {
    if (!before.count(r)) added.insert(r);
  }
  for (const auto& r : before) {
    if (!after.count(r)) removed.insert(r);
  }
  EXPECT_TRUE(removed.empty()) << *removed.begin();
  for (const auto& r : added) {
    EXPECT_EQ(r, service_log) << "unexpected relation created: " << r;
  }
  EXPECT_TRUE(pg.table_exists("public", "spatial_ref_sys")) << "public schema touched";
}

// Service names are message content: one that is not UTF-8 made /metrics a
// page Prometheus refuses, and every new name was a new series. Through the
// real daemon: names with invalid UTF-8, quotes, backslashes, newlines and
// 10 KB, then 100,000 distinct names; /metrics stays valid (promtool check
// metrics is clean) and bounded (metrics.max_services, default 1000).
TEST(Hostile, ServiceNamesCannotBreakOrFloodTheMetrics) {
  if (kt::run_command({"/bin/sh", "-c", "command -v promtool"}).code != 0) GTEST_SKIP() << "promtool not installed";
  kt::stream s(1);
  auto cfg = s.config();
  kt::daemon_process d(cfg);
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();
  const auto topic = cfg.historic_topics[0];
  const auto svc = s.service();
  const std::string fffd = "\xEF\xBF\xBD";

  // Notifications for services without a schema: their rows go to the error
  // log, counted in kafnus_error_log_rows_total{service}.
  const std::vector<std::string> hostile = {svc + "\xFF\xFE", svc + "\"q\\b", svc + "\nnl",
                                            svc + std::string(10000, 'l')};
  kt::kafka_producer p(kt::brokers());
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    p.send(topic, kt::sensor_notification("H" + std::to_string(i), "Sensor", kt::iso_time(1), 1),
           {{"Fiware-Service", hostile[i]}, {"Fiware-ServicePath", "/s"}});
  }
  p.flush();
  std::string m;
  auto wait_counted = [&](double errors, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
      std::this_thread::sleep_for(500ms);
      m = d.http("GET", "/metrics").body;
    } while (std::chrono::steady_clock::now() < deadline && total(m, "kafnus_error_log_rows_total") < errors);
    return total(m, "kafnus_error_log_rows_total") >= errors;
  };
  ASSERT_TRUE(wait_counted(hostile.size(), 60s)) << m << d.log();

  // 100,000 made-up services (unparseable records: the cheapest way in).
  constexpr int kFlood = 100000;
  for (int i = 0; i < kFlood; ++i) p.send(topic, "not json", {{"Fiware-Service", "flood" + std::to_string(i)}});
  p.flush();
  ASSERT_TRUE(wait_counted(hostile.size() + kFlood, 600s)) << total(m, "kafnus_error_log_rows_total") << d.log();
  EXPECT_TRUE(d.running()) << d.log();

  const auto file = std::filesystem::temp_directory_path() / ("kafnus-hostile-" + std::to_string(::getpid()) + ".prom");
  std::ofstream(file) << m;
  const auto check = kt::run_command({"/bin/sh", "-c", "promtool check metrics < '" + file.string() + "'"});
  std::filesystem::remove(file);
  EXPECT_EQ(check.code, 0) << check.output;
  EXPECT_EQ(check.output, "") << "promtool findings:\n" << check.output;

  // Valid, escaped labels for the hostile names.
  EXPECT_THAT(m, testing::HasSubstr("service=\"" + svc + fffd + fffd + "\"}"));
  EXPECT_THAT(m, testing::HasSubstr("service=\"" + svc + "\\\"q\\\\b\"}"));
  EXPECT_THAT(m, testing::HasSubstr("service=\"" + svc + fffd + "nl\"}"));
  // Bounded: 1000 services of their own, the rest under "_other".
  const auto labels = service_labels(m);
  EXPECT_EQ(labels.size(), 1001u);
  EXPECT_TRUE(labels.count("_other"));
  for (const auto& l : labels) EXPECT_LE(l.size(), 128u) << l;
  EXPECT_EQ(kt::metric_sample(m, "kafnus_service_labels"), 1000);
  EXPECT_GE(kt::metric_sample(m, "kafnus_service_label_overflow_total"), kFlood + hostile.size() - 1000);
  EXPECT_THAT(m, testing::Not(testing::HasSubstr("flood99999")));
  EXPECT_LT(m.size(), 512u * 1024) << "the page grows with the services seen";
}
