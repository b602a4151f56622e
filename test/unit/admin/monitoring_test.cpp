// The monitoring/ folder against the daemon: every metric a dashboard or an
// alert rule reads is exported, the dashboards use the datasource variable,
// every alert is documented and unit-tested both ways, and promtool accepts
// the configuration, the rules and the /metrics output.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <prometheus/text_serializer.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include "admin/admin_routes.hpp"
#include "telemetry/metrics.hpp"
#include "test/unit/admin/promql_names.hpp"

namespace fs = std::filesystem;
using kafnus::test::promql_metric_names;
using testing::HasSubstr;

namespace {

const fs::path kMonitoring = fs::path(KAFNUS_SOURCE_DIR) / "monitoring";

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  EXPECT_TRUE(in.good()) << p;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::shared_ptr<kafnus::metrics> metrics_with_every_family() {
  auto m = std::make_shared<kafnus::metrics>();
  // Families with labels other than flow appear once they have a child.
  m->consumed("smc_raw_historic").Increment();
  m->lag("smc_raw_historic", 0).Set(1);
  m->rows_written(kafnus::ngsi::flow::historic, "smc").Increment();
  m->error_log_rows(kafnus::ngsi::flow::historic, "smc").Increment();
  m->actor_restarts("writer").Increment();
  m->admin_requests("/metrics", 200).Increment();
  return m;
}

// Every series name a scrape of the daemon can return.
std::set<std::string> exported_names() {
  std::set<std::string> names;
  kafnus::admin_routes routes(metrics_with_every_family(), kafnus::admin_options{});
  for (const auto& f : routes.collect()) {
    switch (f.type) {
      case prometheus::MetricType::Histogram:
        names.insert({f.name + "_bucket", f.name + "_sum", f.name + "_count"});
        break;
      case prometheus::MetricType::Summary: names.insert({f.name, f.name + "_sum", f.name + "_count"}); break;
      default: names.insert(f.name);
    }
  }
  return names;
}

struct expression {
  std::string where;
  std::string promql;
};

// The metric of a Grafana "label_values(<selector>, <label>)" variable query.
std::string label_values_selector(const std::string& query) {
  const std::string prefix = "label_values(";
  if (query.rfind(prefix, 0) != 0) return query;
  const auto inner = query.substr(prefix.size(), query.rfind(')') - prefix.size());
  const auto comma = inner.rfind(',');
  return comma == std::string::npos ? std::string{} : inner.substr(0, comma);
}

void collect_dashboard_exprs(simdjson::dom::element e, const std::string& where, std::vector<expression>& out) {
  if (e.is_array()) {
    for (auto child : e.get_array()) collect_dashboard_exprs(child, where, out);
    return;
  }
  if (!e.is_object()) return;
  for (auto [key, value] : e.get_object()) {
    if (key == "expr" && value.is_string()) out.push_back({where, std::string(value.get_string().value())});
    collect_dashboard_exprs(value, where, out);
  }
}

std::vector<fs::path> dashboards() {
  std::vector<fs::path> out;
  for (const auto& entry : fs::directory_iterator(kMonitoring / "grafana" / "dashboards")) {
    if (entry.path().extension() == ".json") out.push_back(entry.path());
  }
  return out;
}

std::vector<expression> every_expression() {
  std::vector<expression> out;
  simdjson::dom::parser parser;
  for (const auto& path : dashboards()) {
    simdjson::dom::element doc;
    EXPECT_EQ(parser.load(path.string()).get(doc), simdjson::SUCCESS) << path;
    collect_dashboard_exprs(doc["panels"], path.filename().string(), out);
    for (auto variable : doc["templating"]["list"].get_array()) {
      std::string_view query;
      const bool is_query = variable["type"].get_string().value() == "query";
      if (variable["query"]["query"].get(query) == simdjson::SUCCESS ||
          (is_query && variable["query"].get(query) == simdjson::SUCCESS)) {
        out.push_back({path.filename().string() + " variable", label_values_selector(std::string(query))});
      }
    }
  }
  for (const auto& group : YAML::LoadFile((kMonitoring / "alerts.yml").string())["groups"]) {
    for (const auto& rule : group["rules"]) {
      out.push_back({"alerts.yml " + rule["alert"].as<std::string>(), rule["expr"].as<std::string>()});
    }
  }
  return out;
}

bool have_promtool() { return std::system("command -v promtool >/dev/null 2>&1") == 0; }

// Runs a shell command; its exit status and combined output.
std::pair<int, std::string> run(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  char buf[4096];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) output += buf;
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

}  // namespace

TEST(PromqlNames, FindsMetricsAndSkipsTheRest) {
  using Names = std::set<std::string>;
  EXPECT_EQ(promql_metric_names("up{job=\"kafnus\"} == 0"), Names{"up"});
  EXPECT_EQ(promql_metric_names("histogram_quantile(0.99, sum by (le, flow) "
                                "(rate(a_bucket{instance=~\"$instance\"}[$__rate_interval])))"),
            Names{"a_bucket"});
  EXPECT_EQ(promql_metric_names("sum(rate(a_total[5m])) by (flow) / on(instance) group_left(version) b_info"),
            (Names{"a_total", "b_info"}));
  EXPECT_EQ(promql_metric_names("x unless x offset 10m and ${var} > 1e3"), Names{"x"});
  EXPECT_EQ(promql_metric_names("min(time() - start_seconds{a=\"{b}\"}) or vector(0)"), Names{"start_seconds"});
  EXPECT_EQ(promql_metric_names("topk(10, sum without (service) (c))"), Names{"c"});
}

TEST(Monitoring, EveryMetricInTheDashboardsAndRulesIsExported) {
  const auto exported = exported_names();
  ASSERT_TRUE(exported.count("kafnus_db_write_duration_seconds_bucket"));
  ASSERT_TRUE(exported.count("process_resident_memory_bytes"));
  const auto exprs = every_expression();
  ASSERT_GT(exprs.size(), 30u);  // the walk really found the queries
  std::set<std::string> used;
  for (const auto& e : exprs) {
    const auto names = promql_metric_names(e.promql);
    EXPECT_FALSE(names.empty()) << e.where << ": " << e.promql;
    for (const auto& name : names) {
      used.insert(name);
      if (name == "up") continue;  // Prometheus's own
      EXPECT_TRUE(exported.count(name)) << e.where << " reads '" << name << "', which the daemon does not export:\n"
                                        << e.promql;
    }
  }
  // The seed's panels and the must-haves are on a dashboard or in a rule.
  for (const char* name :
       {"messages_processed_total", "message_processing_time_seconds", "kafnus_consumer_lag_messages",
        "kafnus_db_write_duration_seconds_bucket", "kafnus_error_log_rows_total", "kafnus_actor_restarts_total",
        "process_resident_memory_bytes", "process_cpu_seconds_total"}) {
    EXPECT_TRUE(used.count(name)) << name << " is on no dashboard and in no rule";
  }
}

TEST(Monitoring, DashboardsAreImportableWithADatasourceVariable) {
  simdjson::dom::parser parser;
  ASSERT_FALSE(dashboards().empty());
  for (const auto& path : dashboards()) {
    SCOPED_TRACE(path.string());
    simdjson::dom::element doc;
    ASSERT_EQ(parser.load(path.string()).get(doc), simdjson::SUCCESS);
    EXPECT_FALSE(std::string(doc["uid"].get_string().value()).empty());
    EXPECT_FALSE(std::string(doc["title"].get_string().value()).empty());
    bool datasource_variable = false;
    for (auto variable : doc["templating"]["list"].get_array()) {
      if (variable["name"].get_string().value() == "datasource") {
        EXPECT_EQ(variable["type"].get_string().value(), "datasource");
        EXPECT_EQ(variable["query"].get_string().value(), "prometheus");
        datasource_variable = true;
      }
    }
    EXPECT_TRUE(datasource_variable);
    std::set<std::int64_t> ids;
    std::map<std::string, std::string> exprs_by_title;
    for (auto panel : doc["panels"].get_array()) {
      const std::string title(panel["title"].get_string().value());
      EXPECT_TRUE(ids.insert(panel["id"].get_int64().value()).second) << "duplicate panel id: " << title;
      if (panel["type"].get_string().value() == "row") continue;
      EXPECT_EQ(panel["datasource"]["uid"].get_string().value(), "${datasource}") << title;
      for (auto target : panel["targets"].get_array()) {
        EXPECT_EQ(target["datasource"]["uid"].get_string().value(), "${datasource}") << title;
        exprs_by_title[title] += std::string(target["expr"].get_string().value()) + "\n";
      }
    }
    if (path.filename() == "kafnus.json") {
      EXPECT_THAT(exprs_by_title["Messages processed per flow"], HasSubstr("rate(messages_processed_total"));
      EXPECT_THAT(exprs_by_title["Processing time per flow (last message)"],
                  HasSubstr("message_processing_time_seconds"));
    }
  }
}

TEST(Monitoring, EveryAlertIsDocumentedAndTestedFiringAndSilent) {
  const auto readme = read_file(kMonitoring / "README.md");
  std::map<std::string, std::pair<bool, bool>> tested;  // alert -> (fires in a case, silent in a case)
  for (const auto& test : YAML::LoadFile((kMonitoring / "alerts_test.yml").string())["tests"]) {
    for (const auto& check : test["alert_rule_test"]) {
      auto& t = tested[check["alertname"].as<std::string>()];
      (check["exp_alerts"].size() > 0 ? t.first : t.second) = true;
    }
  }
  int alerts = 0;
  for (const auto& group : YAML::LoadFile((kMonitoring / "alerts.yml").string())["groups"]) {
    for (const auto& rule : group["rules"]) {
      const auto name = rule["alert"].as<std::string>();
      ++alerts;
      EXPECT_FALSE(rule["annotations"]["summary"].as<std::string>("").empty()) << name;
      EXPECT_FALSE(rule["annotations"]["description"].as<std::string>("").empty()) << name;
      EXPECT_FALSE(rule["labels"]["severity"].as<std::string>("").empty()) << name;
      EXPECT_TRUE(tested[name].first) << name << " has no promtool case where it fires";
      EXPECT_TRUE(tested[name].second) << name << " has no promtool case where it stays silent";
      EXPECT_THAT(readme, HasSubstr(name)) << name << " is not explained in monitoring/README.md";
    }
  }
  EXPECT_GE(alerts, 6);
}

TEST(Monitoring, MetricsOutputPassesPromtoolCheckMetrics) {
  if (!have_promtool()) GTEST_SKIP() << "promtool not installed";
  kafnus::admin_routes routes(metrics_with_every_family(), kafnus::admin_options{});
  const auto text = prometheus::TextSerializer().Serialize(routes.collect());
  const auto file = fs::temp_directory_path() / ("kafnus-metrics-" + std::to_string(::getpid()) + ".txt");
  std::ofstream(file) << text;
  const auto [status, output] = run("promtool check metrics < '" + file.string() + "'");
  fs::remove(file);
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "") << "promtool lint findings:\n" << output;
}

TEST(Monitoring, ServiceNamesFromMessagesCannotBreakPromtoolCheckMetrics) {
  if (!have_promtool()) GTEST_SKIP() << "promtool not installed";
  auto m = metrics_with_every_family();
  const auto hist = kafnus::ngsi::flow::historic;
  const std::vector<std::string> hostile = {"bad\xFF\xFEutf8", "quote\"d",     "back\\slash",
                                            "new\nline",       "cr\rtab\t",    std::string("nul\0x", 5),
                                            "\xC0\xAF",        "\xED\xA0\x80", std::string(10000, 's')};
  for (const auto& service : hostile) {
    m->rows_written(hist, service).Increment();
    m->error_log_rows(hist, service).Increment();
  }
  m->consumed("topic\xFF\n").Increment();
  kafnus::admin_routes routes(m, kafnus::admin_options{});
  const auto text = prometheus::TextSerializer().Serialize(routes.collect());
  const auto file = fs::temp_directory_path() / ("kafnus-hostile-metrics-" + std::to_string(::getpid()) + ".txt");
  std::ofstream(file) << text;
  const auto [status, output] = run("promtool check metrics < '" + file.string() + "'");
  fs::remove(file);
  EXPECT_EQ(status, 0) << output;
  EXPECT_EQ(output, "") << "promtool lint findings:\n" << output;
}

TEST(Monitoring, PromtoolAcceptsTheConfigTheRulesAndTheirTests) {
  if (!have_promtool()) GTEST_SKIP() << "promtool not installed";
  const auto [status, output] = run("'" + (kMonitoring / "check.sh").string() + "'");
  EXPECT_EQ(status, 0) << output;
  EXPECT_THAT(output, HasSubstr("SUCCESS"));
}
