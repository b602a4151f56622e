// The pure pieces behind the admin endpoints: content negotiation, token
// check, JSON writing, health rule, config conversion, route labels.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <string>

#include "actors/accept_header.hpp"
#include "actors/admin_routes.hpp"
#include "actors/bearer_token.hpp"
#include "actors/config_json.hpp"
#include "actors/health_report.hpp"
#include "actors/json_writer.hpp"
#include "actors/metrics.hpp"

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

TEST(HealthReport, ReadyOnlyWhenConsumingWithTheDatabase) {
  health_state h;
  EXPECT_FALSE(is_ready(h));
  h.consuming = true;
  EXPECT_FALSE(is_ready(h));
  h.db_connected = true;
  EXPECT_TRUE(is_ready(h));
  h.kafka_connected = false;  // Kafka is reported, not required: the consumer reconnects by itself
  EXPECT_TRUE(is_ready(h));
  h.consuming = false;
  EXPECT_FALSE(is_ready(h));
}

TEST(HealthReport, FormatsTimesAsIso8601Utc) {
  EXPECT_EQ(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(iso8601_utc(1714564800123), "2024-05-01T12:00:00.123Z");
  EXPECT_EQ(iso8601_utc(1714564800007), "2024-05-01T12:00:00.007Z");
}

TEST(JsonWriter, WritesValidUtf8WhateverTheInput) {
  EXPECT_EQ(json_quote("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
  EXPECT_EQ(json_quote("a\xFF" "b\xC3"), R"("a\ufffdb\ufffd")");
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
  EXPECT_EQ(json,
            R"({"kafka":{"brokers":"k:9092","poll_timeout_ms":100,"properties":{"client.rack":"7"}},)"
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
