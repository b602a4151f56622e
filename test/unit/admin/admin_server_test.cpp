// The admin HTTP server over real HTTP on 127.0.0.1: every endpoint and
// every status it can answer.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include <simdjson.h>

#include "admin/admin_server.hpp"
#include "config/loader.hpp"
#include "telemetry/log.hpp"
#include "telemetry/metrics.hpp"
#include "test/support/http_client.hpp"

using kafnus::admin_options;
using kafnus::admin_server;
using kafnus::admin_server_error;
using kafnus::test::http_call;
using kafnus::test::http_reply;
using testing::HasSubstr;
using testing::Not;

namespace {

constexpr const char* kPassword = "s3cret-Pa55word";
constexpr const char* kToken = "t0ken-abcdef-123456";
constexpr const char* kSaslPassword = "sasl-very-secret";

// Settings as the daemon would load them, with every kind of secret set.
kafnus::config::settings secret_settings() {
  return kafnus::config::load_string(std::string(R"(
kafka:
  brokers: "k1:9092"
  properties:
    sasl.username: kafnus
    sasl.password: ")") + kSaslPassword + R"("
postgres:
  database: tests
  password: ")" + kPassword + R"("
admin:
  listen: "127.0.0.1:8000"
  token: ")" + kToken + R"("
)",
                                     {});
}

simdjson::dom::element parse(simdjson::dom::parser& parser, const std::string& text) {
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS) << text;
  return doc;
}

std::string string_at(simdjson::dom::element doc, const char* pointer) {
  std::string_view v;
  EXPECT_EQ(doc.at_pointer(pointer).get(v), simdjson::SUCCESS) << pointer;
  return std::string(v);
}

bool bool_at(simdjson::dom::element doc, const char* pointer) {
  bool v = false;
  EXPECT_EQ(doc.at_pointer(pointer).get(v), simdjson::SUCCESS) << pointer;
  return v;
}

class AdminServer : public testing::Test {
 protected:
  void SetUp() override { kafnus::log::set_level("info"); }
  void TearDown() override {
    server_.reset();
    kafnus::log::set_level("info");
  }

  void start(admin_options options = {}) {
    server_ = std::make_unique<admin_server>(m_, "127.0.0.1", 0, std::move(options));
  }

  http_reply get(const std::string& target, const std::map<std::string, std::string>& headers = {}) {
    return http_call(server_->port(), "GET", target, headers);
  }
  http_reply post_level(const std::string& body, const std::map<std::string, std::string>& headers = {}) {
    return http_call(server_->port(), "POST", "/logLevel", headers, body);
  }

  std::shared_ptr<kafnus::metrics> m_ = std::make_shared<kafnus::metrics>();
  std::unique_ptr<admin_server> server_;
  simdjson::dom::parser parser_;
};

// ------------------------------------------------------------------ /metrics

TEST_F(AdminServer, MetricsServesPrometheusText) {
  start();
  m_->flow(kafnus::ngsi::flow::historic).messages_processed->Increment(3);
  auto r = get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_THAT(r.body, HasSubstr("# TYPE messages_processed_total counter"));
  EXPECT_THAT(r.body, HasSubstr("messages_processed_total{flow=\"historic\"} 3"));
  EXPECT_THAT(r.body, HasSubstr("kafnus_build_info{"));
  EXPECT_THAT(r.body, HasSubstr("process_resident_memory_bytes "));
  EXPECT_THAT(r.body, HasSubstr("process_cpu_seconds_total "));
  EXPECT_THAT(r.body, HasSubstr("process_start_time_seconds "));
  EXPECT_THAT(r.body, HasSubstr("process_open_fds "));
}

TEST_F(AdminServer, MetricsRefusesAcceptThatExcludesText) {
  start();
  auto r = get("/metrics", {{"Accept", "application/json"}});
  EXPECT_EQ(r.status, 406);
  EXPECT_EQ(r.header("content-type"), "application/json");
  auto doc = parse(parser_, r.body);
  EXPECT_EQ(string_at(doc, "/error"), "NotAcceptable");
  EXPECT_EQ(get("/metrics", {{"Accept", "text/plain;q=0, application/json"}}).status, 406);
}

TEST_F(AdminServer, MetricsAcceptsOpenMetricsScrapersAndWildcards) {
  start();
  const char* prometheus_scraper =
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
      "text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
  EXPECT_EQ(get("/metrics", {{"Accept", prometheus_scraper}}).status, 200);
  EXPECT_EQ(get("/metrics", {{"Accept", "application/openmetrics-text; version=1.0.0, text/plain"}}).status, 200);
  EXPECT_EQ(get("/metrics", {{"Accept", "text/plain; version=0.0.4; charset=utf-8"}}).status, 200);
  EXPECT_EQ(get("/metrics", {{"Accept", "text/*"}}).status, 200);
  EXPECT_EQ(get("/metrics", {{"Accept", "*/*"}}).status, 200);
}

TEST_F(AdminServer, MetricsOnlyAnswersGet) {
  start();
  auto r = http_call(server_->port(), "POST", "/metrics");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET");
  r = http_call(server_->port(), "HEAD", "/metrics");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body, "");  // HEAD answers carry no body
}

TEST_F(AdminServer, RequestsAreCountedPerRouteAndCode) {
  start();
  get("/health");
  get("/nowhere");
  get("/metrics", {{"Accept", "application/json"}});
  auto body = get("/metrics").body;
  EXPECT_THAT(body, HasSubstr("kafnus_admin_requests_total{code=\"503\",route=\"/health\"} 1"));
  EXPECT_THAT(body, HasSubstr("kafnus_admin_requests_total{code=\"404\",route=\"other\"} 1"));
  EXPECT_THAT(body, HasSubstr("kafnus_admin_requests_total{code=\"406\",route=\"/metrics\"} 1"));
}

// ------------------------------------------------------- /health, /readyz, /healthz

TEST_F(AdminServer, HealthIsDownUntilConsumingWithTheDatabaseReachable) {
  start();
  auto& h = m_->health();
  auto r = get("/health");
  EXPECT_EQ(r.status, 503);
  auto doc = parse(parser_, r.body);
  EXPECT_EQ(string_at(doc, "/status"), "DOWN");
  EXPECT_FALSE(bool_at(doc, "/postgres/connected"));

  h.consuming = true;  // consuming, but the database is unreachable
  EXPECT_EQ(get("/health").status, 503);
  h.consuming = false;
  h.db_connected = true;  // database up, not consuming
  EXPECT_EQ(get("/health").status, 503);

  h.consuming = true;
  h.kafka_connected = true;
  r = get("/health");
  EXPECT_EQ(r.status, 200);
  doc = parse(parser_, r.body);
  EXPECT_EQ(string_at(doc, "/status"), "UP");
  EXPECT_TRUE(bool_at(doc, "/kafka/connected"));
  EXPECT_TRUE(bool_at(doc, "/postgres/connected"));
  EXPECT_TRUE(bool_at(doc, "/consuming"));
  EXPECT_FALSE(bool_at(doc, "/draining"));
}

TEST_F(AdminServer, HealthReportsVersionUptimeAndEveryFlow) {
  start();
  auto& lastdata = m_->health().flows[static_cast<std::size_t>(kafnus::ngsi::flow::lastdata)];
  lastdata.messages = 7;
  lastdata.errors = 2;
  lastdata.last_processed_ms = 1714564800123;  // 2024-05-01T12:00:00.123Z
  lastdata.last_duration_s = 0.25;
  auto r = get("/health?verbose=1");  // the query string does not change the route
  auto doc = parse(parser_, r.body);
  EXPECT_FALSE(string_at(doc, "/version").empty());
  EXPECT_FALSE(string_at(doc, "/revision").empty());
  double uptime = -1;
  ASSERT_EQ(doc["uptimeSeconds"].get(uptime), simdjson::SUCCESS);
  EXPECT_GE(uptime, 0.0);
  simdjson::dom::array flows;
  ASSERT_EQ(doc["flows"].get(flows), simdjson::SUCCESS);
  ASSERT_EQ(flows.size(), 3u);
  EXPECT_EQ(string_at(doc, "/flows/0/flow"), "historic");
  EXPECT_TRUE(doc.at_pointer("/flows/0/lastProcessedAt").is_null());
  EXPECT_EQ(string_at(doc, "/flows/1/flow"), "lastdata");
  EXPECT_EQ(string_at(doc, "/flows/1/lastProcessedAt"), "2024-05-01T12:00:00.123Z");
  std::int64_t messages = 0, errors = 0;
  double duration = 0;
  ASSERT_EQ(doc.at_pointer("/flows/1/messages").get(messages), simdjson::SUCCESS);
  ASSERT_EQ(doc.at_pointer("/flows/1/errors").get(errors), simdjson::SUCCESS);
  ASSERT_EQ(doc.at_pointer("/flows/1/lastDurationSeconds").get(duration), simdjson::SUCCESS);
  EXPECT_EQ(messages, 7);
  EXPECT_EQ(errors, 2);
  EXPECT_DOUBLE_EQ(duration, 0.25);
  EXPECT_EQ(string_at(doc, "/flows/2/flow"), "mutable");
}

TEST_F(AdminServer, ReadyzFollowsTheHealthRule) {
  start();
  auto r = get("/readyz");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(string_at(parse(parser_, r.body), "/status"), "DOWN");
  m_->health().consuming = true;
  m_->health().db_connected = true;
  r = get("/readyz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(string_at(parse(parser_, r.body), "/status"), "UP");
}

TEST_F(AdminServer, HealthzIsUpWhileServingEvenWhenNotReady) {
  start();
  auto r = get("/healthz");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(string_at(parse(parser_, r.body), "/status"), "UP");
  EXPECT_EQ(http_call(server_->port(), "DELETE", "/healthz").status, 405);
}

// ------------------------------------------------------------------ /logLevel

TEST_F(AdminServer, LogLevelIsReadAndChangedLive) {
  start();
  auto r = get("/logLevel");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"level":"info"})");

  r = post_level(R"({"level":"debug"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"ok":true,"level":"debug"})");
  EXPECT_EQ(kafnus::log::current_level(), "debug");
  EXPECT_TRUE(kafnus::log::enabled(kafnus::log::level::debug));
  EXPECT_EQ(get("/logLevel").body, R"({"level":"debug"})");

  r = post_level(R"({"level":"WARN"})");  // names are case-insensitive
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(kafnus::log::current_level(), "warn");
}

TEST_F(AdminServer, LogLevelRejectsBadBodiesNamingTheAllowedLevels) {
  start();
  for (const char* body :
       {"{not json", "", R"(["debug"])", R"({"lvl":"debug"})", R"({"level":5})", R"({"level":"verbose"})"}) {
    auto r = post_level(body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_EQ(string_at(parse(parser_, r.body), "/error"), "BadRequest") << body;
    EXPECT_THAT(r.body, HasSubstr("trace, debug, info, warn, error")) << body;
  }
  EXPECT_THAT(post_level(R"({"level":"verbose"})").body, HasSubstr("unknown level 'verbose'"));
  EXPECT_EQ(kafnus::log::current_level(), "info");
}

TEST_F(AdminServer, LogLevelRefusesARepeatedLevel) {
  start();
  // simdjson would take the first, most parsers the last: ambiguous, so refused.
  for (const char* body : {R"({"level":"warn","level":"info"})", R"({"level":"debug","x":1,"level":"debug"})"}) {
    auto r = post_level(body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_THAT(r.body, HasSubstr(R"(the field \"level\" is given 2 times)")) << body;
  }
  EXPECT_EQ(kafnus::log::current_level(), "info");
  EXPECT_EQ(post_level(R"({"other":"x","level":"warn"})").status, 200);  // other fields are ignored
  EXPECT_EQ(kafnus::log::current_level(), "warn");
}

TEST_F(AdminServer, LogLevelEchoesAnUnknownLevelCutShort) {
  start();
  const std::string huge(60 * 1024, 'v');
  auto r = post_level(R"({"level":")" + huge + R"("})");
  EXPECT_EQ(r.status, 400);
  EXPECT_LT(r.body.size(), 512u);
  EXPECT_THAT(r.body, HasSubstr("unknown level 'vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\u2026'"));
  EXPECT_EQ(string_at(parse(parser_, r.body), "/error"), "BadRequest");
  // Control characters in the level are escaped, not echoed raw.
  r = post_level(R"({"level":"a'b\nc"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(r.body, HasSubstr(R"(unknown level 'a'b\\nc')"));
  EXPECT_EQ(kafnus::log::current_level(), "info");
}

TEST_F(AdminServer, LogLevelOtherMethodsAre405) {
  start();
  for (const char* method : {"PUT", "DELETE", "PATCH"}) {
    auto r = http_call(server_->port(), method, "/logLevel", {}, R"({"level":"debug"})");
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(r.header("allow"), "GET, POST") << method;
  }
  EXPECT_EQ(kafnus::log::current_level(), "info");
}

TEST_F(AdminServer, LogLevelPostNeedsTheTokenWhenOneIsConfigured) {
  start(admin_options{kToken, ""});
  auto r = post_level(R"({"level":"debug"})");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(string_at(parse(parser_, r.body), "/error"), "Unauthorized");
  EXPECT_THAT(r.header("www-authenticate"), HasSubstr("Bearer"));
  EXPECT_EQ(post_level(R"({"level":"debug"})", {{"Authorization", "Bearer wrong-token"}}).status, 401);
  EXPECT_EQ(post_level(R"({"level":"debug"})", {{"Authorization", std::string("Bearer ") + kToken + "x"}}).status, 401);
  EXPECT_EQ(post_level(R"({"level":"debug"})", {{"Authorization", std::string("Basic ") + kToken}}).status, 401);
  EXPECT_EQ(kafnus::log::current_level(), "info");

  r = post_level(R"({"level":"debug"})", {{"Authorization", std::string("Bearer ") + kToken}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(kafnus::log::current_level(), "debug");
  EXPECT_EQ(get("/logLevel").status, 200);  // reading needs no token
  EXPECT_THAT(r.body, Not(HasSubstr(kToken)));
}

TEST_F(AdminServer, OversizedBodiesAreRefused) {
  start();
  auto r = post_level(std::string(100 * 1024, ' '));
  EXPECT_EQ(r.status, 413);
}

// ------------------------------------------------------------------- /config

TEST_F(AdminServer, ConfigServesTheEffectiveConfigurationWithoutSecrets) {
  const auto s = secret_settings();
  start(admin_options{s.admin.token, s.effective_yaml});
  auto r = get("/config");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_THAT(r.body, Not(HasSubstr(kPassword)));
  EXPECT_THAT(r.body, Not(HasSubstr(kToken)));
  EXPECT_THAT(r.body, Not(HasSubstr(kSaslPassword)));
  auto doc = parse(parser_, r.body);
  EXPECT_EQ(string_at(doc, "/postgres/password"), kafnus::config::kMasked);
  EXPECT_EQ(string_at(doc, "/admin/token"), kafnus::config::kMasked);
  EXPECT_EQ(string_at(doc, "/kafka/properties/sasl.password"), kafnus::config::kMasked);
  EXPECT_EQ(string_at(doc, "/kafka/properties/sasl.username"), "kafnus");
  EXPECT_EQ(string_at(doc, "/postgres/database"), "tests");
  std::int64_t port = 0;
  ASSERT_EQ(doc.at_pointer("/postgres/port").get(port), simdjson::SUCCESS);
  EXPECT_EQ(port, 5432);
  EXPECT_EQ(string_at(doc, "/flows/historic/topics/0"), "smc_raw_historic");

  auto patch = http_call(server_->port(), "PATCH", "/config", {}, "{}");
  EXPECT_EQ(patch.status, 405);
  EXPECT_EQ(patch.header("allow"), "GET");
}

TEST_F(AdminServer, AFailingHandlerAnswers500) {
  start(admin_options{"", "- not\n- a mapping\n"});  // /config cannot convert this
  auto r = get("/config");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(string_at(parse(parser_, r.body), "/error"), "InternalServerError");
  EXPECT_EQ(get("/healthz").status, 200);  // the server keeps serving
}

// ---------------------------------------------------------------- the rest

TEST_F(AdminServer, UnknownRoutesAre404Json) {
  start();
  for (const char* path : {"/", "/nowhere", "/metrics/extra", "/HEALTH", "/config.json"}) {
    auto r = get(path);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.header("content-type"), "application/json") << path;
    EXPECT_EQ(string_at(parse(parser_, r.body), "/error"), "NotFound") << path;
  }
  EXPECT_EQ(http_call(server_->port(), "DELETE", "/nowhere").status, 404);
}

TEST_F(AdminServer, BindsTheResolvedAddressOfAHostName) {
  server_ = std::make_unique<admin_server>(m_, "localhost", 0, admin_options{});
  EXPECT_EQ(server_->address(), "localhost:" + std::to_string(server_->port()));
  EXPECT_EQ(get("/healthz").status, 200);
}

TEST_F(AdminServer, ABusyAddressFailsNamingAdminListenAndTheOsError) {
  start();
  const auto busy = server_->port();
  try {
    admin_server second(m_, "127.0.0.1", busy, admin_options{});
    FAIL() << "a second server bound the same port";
  } catch (const admin_server_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("admin.listen 127.0.0.1:" + std::to_string(busy)));
    EXPECT_THAT(e.what(), HasSubstr("Address already in use"));
  }
}

TEST_F(AdminServer, StopClosesTheListeningSocket) {
  start();
  const auto port = server_->port();
  server_->stop();
  server_->stop();  // idempotent
  EXPECT_THROW(http_call(port, "GET", "/healthz"), std::runtime_error);
}

}  // namespace

// ------------------------------------------------------- the client of kafnus healthcheck

TEST_F(AdminServer, TheClientReachesAWildcardListenAddressOnLoopback) {
  start();
  m_->health().consuming = true;
  m_->health().db_connected = true;
  const auto r = kafnus::http_exchange("0.0.0.0", server_->port(), kafnus::outgoing_request{"GET", "/readyz", {}, {}},
                                       std::chrono::seconds(2));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(string_at(parse(parser_, r.body), "/status"), "UP");
}

TEST_F(AdminServer, TheClientNamesTheAddressItCouldNotReach) {
  const int port = kafnus::test::free_port();
  try {
    kafnus::http_exchange("127.0.0.1", port, kafnus::outgoing_request{}, std::chrono::seconds(2));
    FAIL() << "nothing listens on " << port;
  } catch (const kafnus::http_client_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("127.0.0.1:" + std::to_string(port) + ": connect: Connection refused"));
  }
}

TEST_F(AdminServer, HealthReportsTheLastCommitAndTheErrorLogRowsOfTheLastHour) {
  start();
  auto doc = parse(parser_, get("/health").body);
  EXPECT_TRUE(doc["lastCommitAt"].is_null());
  simdjson::dom::object none;
  ASSERT_EQ(doc["errorLogLastHour"].get(none), simdjson::SUCCESS);
  EXPECT_EQ(none.size(), 0u);

  m_->health().last_commit_ms = 1714564800123;  // 2024-05-01T12:00:00.123Z
  m_->health().error_log_last_hour.add("smartcity", 3);
  m_->health().error_log_last_hour.add("smartcity", 2);
  doc = parse(parser_, get("/health").body);
  EXPECT_EQ(string_at(doc, "/lastCommitAt"), "2024-05-01T12:00:00.123Z");
  std::int64_t n = 0;
  ASSERT_EQ(doc.at_pointer("/errorLogLastHour/smartcity").get(n), simdjson::SUCCESS);
  EXPECT_EQ(n, 5);
}
