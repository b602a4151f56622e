// The pure pieces behind the admin endpoints: content negotiation, token
// check, JSON writing, health rule, config conversion, route labels.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "admin/accept_header.hpp"
#include "admin/admin_routes.hpp"
#include "admin/bearer_token.hpp"
#include "admin/config_json.hpp"
#include "admin/health_report.hpp"
#include "telemetry/json_writer.hpp"
#include "telemetry/metrics.hpp"

using namespace kafnus;
using testing::HasSubstr;
using testing::Not;

TEST(AcceptHeader, AllowsTextPlainAndWildcards) {
  EXPECT_TRUE(accepts_prometheus_text(""));
  EXPECT_TRUE(accepts_prometheus_text("  "));
  EXPECT_TRUE(accepts_prometheus_text("text/plain"));
  EXPECT_TRUE(accepts_prometheus_text("TEXT/PLAIN; version=0.0.4"));
  EXPECT_TRUE(accepts_prometheus_text(kPrometheusTextType));
  EXPECT_TRUE(accepts_prometheus_text("text/*"));
  EXPECT_TRUE(accepts_prometheus_text("*/*"));
  EXPECT_TRUE(accepts_prometheus_text("application/json, */*;q=0.1"));
  EXPECT_TRUE(accepts_prometheus_text(
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
      "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
}

TEST(AcceptHeader, RefusesEverythingElseAndZeroQuality) {
  EXPECT_FALSE(accepts_prometheus_text("application/json"));
  EXPECT_FALSE(accepts_prometheus_text("application/openmetrics-text; version=1.0.0"));
  EXPECT_FALSE(accepts_prometheus_text("text/html, application/xml"));
  EXPECT_FALSE(accepts_prometheus_text("text/plain;q=0"));
  EXPECT_FALSE(accepts_prometheus_text("text/plain; q=0.0, */*;q=0"));
  EXPECT_FALSE(accepts_prometheus_text("text/plainx"));
}

TEST(BearerToken, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(constant_time_equals("", ""));
  EXPECT_TRUE(constant_time_equals("abc", "abc"));
  EXPECT_FALSE(constant_time_equals("abc", "abd"));
  EXPECT_FALSE(constant_time_equals("abc", "ab"));
  EXPECT_FALSE(constant_time_equals("ab", "abc"));
  EXPECT_FALSE(constant_time_equals("", "a"));
  EXPECT_FALSE(constant_time_equals(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST(BearerToken, ChecksTheAuthorizationHeader) {
  EXPECT_TRUE(bearer_authorized(std::nullopt, ""));  // no token configured: open
  EXPECT_TRUE(bearer_authorized(std::string("anything"), ""));
  EXPECT_FALSE(bearer_authorized(std::nullopt, "tok"));
  EXPECT_TRUE(bearer_authorized(std::string("Bearer tok"), "tok"));
  EXPECT_TRUE(bearer_authorized(std::string("bearer tok"), "tok"));
  EXPECT_TRUE(bearer_authorized(std::string("BEARER   tok "), "tok"));
  EXPECT_FALSE(bearer_authorized(std::string("Bearer tok2"), "tok"));
  EXPECT_FALSE(bearer_authorized(std::string("Bearer "), "tok"));
  EXPECT_FALSE(bearer_authorized(std::string("Basic tok"), "tok"));
  EXPECT_FALSE(bearer_authorized(std::string("tok"), "tok"));
}

TEST(JsonWriter, WritesNestedValuesWithEscapes) {
  json_writer w;
  w.begin_object();
  w.key("s").string("a\"b\\c\n\x01");
  w.key("i").integer(-42);
  w.key("d").number(0.25);
  w.key("nan").number(std::numeric_limits<double>::quiet_NaN());
  w.key("b").boolean(false);
  w.key("n").null();
  w.key("a").begin_array().integer(1).begin_object().end_object().begin_array().end_array().string("x").end_array();
  w.end_object();
  EXPECT_EQ(w.str(), R"({"s":"a\"b\\c\n\u0001","i":-42,"d":0.25,"nan":null,"b":false,"n":null,"a":[1,{},[],"x"]})");
}

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
constexpr seconds kGrace{15};

// A state that is consuming with the database and Kafka connected.
void make_ready(health_state& h) {
  h.consuming = true;
  h.db_connected = true;
  h.set_kafka_connected(true, h.started);
}

}  // namespace

TEST(HealthReport, ReadyOnlyWhenConsumingWithTheDatabase) {
  health_state h;
  const auto now = h.started + seconds(1);
  EXPECT_FALSE(assess(h, now, kGrace).ready);
  h.consuming = true;
  EXPECT_FALSE(assess(h, now, kGrace).ready);
  h.db_connected = true;
  EXPECT_TRUE(assess(h, now, kGrace).ready);  // Kafka not connected yet, but within the grace
  h.consuming = false;
  EXPECT_FALSE(assess(h, now, kGrace).ready);
}

TEST(HealthReport, KafkaLostLongerThanTheGraceIsDown) {
  health_state h;
  make_ready(h);
  const auto lost = h.started + seconds(100);
  h.set_kafka_connected(false, lost);
  EXPECT_TRUE(assess(h, lost, kGrace).ready);
  EXPECT_TRUE(assess(h, lost + kGrace, kGrace).ready);  // exactly the grace: still up
  const auto verdict = assess(h, lost + seconds(37), kGrace);
  EXPECT_FALSE(verdict.ready);
  ASSERT_EQ(verdict.reasons.size(), 1u);
  EXPECT_EQ(verdict.reasons[0],
            "Kafka has been unreachable for 37 s (admin.kafka_down_after_s: 15); the consumer keeps reconnecting");
  h.set_kafka_connected(true, lost + seconds(40));
  EXPECT_TRUE(assess(h, lost + seconds(41), kGrace).ready);
  EXPECT_EQ(kafka_down_for(h, lost + seconds(41)), milliseconds(0));
}

TEST(HealthReport, RepeatedDisconnectReportsKeepTheFirstMoment) {
  health_state h;
  make_ready(h);
  const auto lost = h.started + seconds(10);
  h.set_kafka_connected(false, lost);
  h.set_kafka_connected(false, lost + seconds(10));  // the consumer reports on every statistics event
  h.set_kafka_connected(false, lost + seconds(20));
  EXPECT_EQ(kafka_down_for(h, lost + seconds(20)), seconds(20));
  EXPECT_FALSE(assess(h, lost + seconds(20), kGrace).ready);
}

TEST(HealthReport, AtStartKafkaGetsTheGraceForItsFirstConnection) {
  health_state h;
  h.consuming = true;
  h.db_connected = true;  // never connected to Kafka: down since the start
  EXPECT_TRUE(assess(h, h.started + seconds(15), kGrace).ready);
  EXPECT_FALSE(assess(h, h.started + seconds(16), kGrace).ready);
  h.set_kafka_connected(true, h.started + seconds(17));
  EXPECT_TRUE(assess(h, h.started + seconds(18), kGrace).ready);
}

TEST(HealthReport, AZeroGraceIsDownAtOnceAndAClockSetBackIsNoOutage) {
  health_state h;
  make_ready(h);
  const auto lost = h.started + seconds(60);
  h.set_kafka_connected(false, lost);
  EXPECT_FALSE(assess(h, lost + milliseconds(1), seconds(0)).ready);
  EXPECT_EQ(kafka_down_for(h, lost - seconds(30)), milliseconds(0));
  EXPECT_TRUE(assess(h, lost - seconds(30), seconds(0)).ready);
}

TEST(HealthReport, EveryReasonIsGiven) {
  health_state h;
  const auto now = h.started + seconds(60);
  auto verdict = assess(h, now, kGrace);
  EXPECT_FALSE(verdict.ready);
  ASSERT_EQ(verdict.reasons.size(), 3u);
  EXPECT_THAT(verdict.reasons[0], HasSubstr("not consuming"));
  EXPECT_THAT(verdict.reasons[1], HasSubstr("PostgreSQL is unreachable"));
  EXPECT_THAT(verdict.reasons[2], HasSubstr("Kafka has been unreachable for 60 s"));
  h.draining = true;
  EXPECT_THAT(assess(h, now, kGrace).reasons[0], HasSubstr("stopping"));
}

TEST(HealthReport, HealthAndReadinessBodiesSayWhy) {
  health_state h;
  make_ready(h);
  const auto lost = h.started + seconds(5);
  h.set_kafka_connected(false, lost);
  auto health = health_json(h, lost + seconds(20), kGrace);
  EXPECT_THAT(health, HasSubstr(R"("status":"DOWN","reasons":["Kafka has been unreachable for 20 s)"));
  EXPECT_THAT(health, HasSubstr(R"("kafka":{"connected":false,"downSince":")" +
                                iso8601_utc(std::chrono::duration_cast<milliseconds>(lost.time_since_epoch()).count()) +
                                R"("})"));
  auto ready = readiness_json(h, lost + seconds(20), kGrace);
  EXPECT_THAT(ready, HasSubstr(R"("status":"DOWN","reasons":["Kafka has been unreachable)"));
  EXPECT_THAT(ready, HasSubstr(R"("kafka":{"connected":false})"));
  h.set_kafka_connected(true, lost + seconds(21));
  health = health_json(h, lost + seconds(22), kGrace);
  EXPECT_THAT(health, HasSubstr(R"("status":"UP","reasons":[])"));
  EXPECT_THAT(health, HasSubstr(R"("kafka":{"connected":true,"downSince":null})"));
  EXPECT_EQ(
      readiness_json(h, lost + seconds(22), kGrace),
      R"({"status":"UP","reasons":[],"consuming":true,"kafka":{"connected":true},"postgres":{"connected":true}})");
}

TEST(AdminRoutes, HealthAndReadyzAre503AfterTheKafkaGraceHealthzStays200) {
  auto m = std::make_shared<metrics>();
  auto& h = m->health();
  make_ready(h);
  admin_options options;
  options.kafka_down_after = seconds(15);
  admin_routes routes(m, options);
  auto get = [&](const char* path) { return routes.handle(http_request{"GET", path, {}, {}, {}}); };
  EXPECT_EQ(get("/health").status, 200);
  EXPECT_EQ(get("/readyz").status, 200);
  h.set_kafka_connected(false, std::chrono::system_clock::now() - seconds(5));
  EXPECT_EQ(get("/health").status, 200);  // within the grace
  h.set_kafka_connected(true);
  h.set_kafka_connected(false, std::chrono::system_clock::now() - seconds(60));
  const auto health = get("/health");
  EXPECT_EQ(health.status, 503);
  EXPECT_THAT(health.body, HasSubstr("Kafka has been unreachable for 60 s"));
  const auto ready = get("/readyz");
  EXPECT_EQ(ready.status, 503);
  EXPECT_THAT(ready.body, HasSubstr("Kafka has been unreachable"));
  EXPECT_EQ(get("/healthz").status, 200);  // only waiting: the orchestrator must not restart it
}

TEST(HealthReport, FormatsTimesAsIso8601Utc) {
  EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_utc(1714564800123), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(iso8601_utc(1714564800007), "2024-05-01T12:00:00.007Z");
}

TEST(JsonWriter, WritesValidUtf8WhateverTheInput) {
  EXPECT_EQ(json_quote("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
  EXPECT_EQ(json_quote("a\xFF"
                       "b\xC3"),
            R"("a\ufffdb\ufffd")");
  EXPECT_EQ(json_quote("\xED\xA0\x80"), R"("\ufffd\ufffd\ufffd")");  // a surrogate is not UTF-8
  EXPECT_EQ(json_quote("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");
}

TEST(HealthReport, UptimeCountsFromTheStart) {
  health_state h;
  const auto body = liveness_json(h, h.started + std::chrono::milliseconds(1500));
  EXPECT_EQ(body, R"({"status":"UP","uptimeSeconds":1.5})");
}

TEST(ConfigJson, TypesIntegersAndKeepsListsAndMaps) {
  const auto json = effective_config_json(
      "kafka:\n  brokers: k:9092\n  poll_timeout_ms: 100\n  properties:\n    client.rack: '7'\n"
      "flows:\n  historic:\n    topics: [a, '1']\n  lastdata:\n    topics: []\n"
      "datamodel:\n  services:\n    tokens_service: dm-by-entity-type-database\n");
  EXPECT_EQ(json, R"({"kafka":{"brokers":"k:9092","poll_timeout_ms":100,"properties":{"client.rack":"7"}},)"
                  R"("flows":{"historic":{"topics":["a","1"]},"lastdata":{"topics":[]}},)"
                  R"("datamodel":{"services":{"tokens_service":"dm-by-entity-type-database"}}})");
}

TEST(ConfigJson, MasksSecretsEvenIfTheYamlHoldsThem) {
  const auto json = effective_config_json(
      "postgres:\n  password: plain-pw\n  password_file: /run/secrets/pg\nadmin:\n  token: plain-token\n"
      "kafka:\n  properties:\n    sasl.password: plain-sasl\n    sasl.username: u\n"
      "  property_files:\n    sasl.password: /run/secrets/kafka\n");
  EXPECT_THAT(json, Not(HasSubstr("plain-")));
  EXPECT_THAT(json, HasSubstr(R"("password":"********")"));
  EXPECT_THAT(json, HasSubstr(R"("token":"********")"));
  EXPECT_THAT(json, HasSubstr(R"("sasl.username":"u")"));
  EXPECT_THAT(json, HasSubstr(R"("password_file":"/run/secrets/pg")"));
  EXPECT_THAT(json, HasSubstr(R"("property_files":{"sasl.password":"/run/secrets/kafka"})"));
}

TEST(ConfigJson, EmptySecretsStayEmpty) {
  EXPECT_EQ(effective_config_json("admin:\n  token: \"\"\n"), R"({"admin":{"token":""}})");
}

TEST(ConfigJson, RejectsANonMapping) { EXPECT_THROW(effective_config_json("- a\n"), std::runtime_error); }

TEST(AdminRoutes, RouteLabelsAreBounded) {
  EXPECT_EQ(route_label("/metrics"), "/metrics");
  EXPECT_EQ(route_label("/logLevel"), "/logLevel");
  EXPECT_EQ(route_label("/readyz"), "/readyz");
  EXPECT_EQ(route_label("/../../etc/passwd"), "other");
  EXPECT_EQ(route_label("/metrics/"), "other");
}

TEST(AdminRoutes, CollectAppendsTheProcessMetrics) {
  admin_routes routes(std::make_shared<metrics>(), admin_options{});
  bool registry = false, process = false;
  for (const auto& f : routes.collect()) {
    registry = registry || f.name == "messages_processed_total";
    process = process || f.name == "process_resident_memory_bytes";
  }
  EXPECT_TRUE(registry);
  EXPECT_TRUE(process);
}
