// The conformance suite: every case of test/conformance/cases (or of
// $KAFNUS_CONFORMANCE_DIR), in sorted path order, against one real daemon on
// the real broker and PostGIS, as test/conformance/CASES.md describes:
// bootstrap.sql once; per case its setup.sql, its messages published in
// file order, then expected.json polled until it holds (or a timeout).
//
// The case topics smc_raw_{historic,lastdata,mutable} (and smc_raw_all, which
// feeds the three flows) are renamed with a per-run prefix so no other run's
// records are ever consumed.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <simdjson.h>
#include <pqxx/pqxx>

#include "test/conformance/expectation.hpp"
#include "test/support/daemon_process.hpp"
#include "test/support/kafka_client.hpp"
#include "test/support/pg_client.hpp"
#include "test/support/test_env.hpp"

namespace fs = std::filesystem;
namespace kt = kafnus::test;

namespace {

// The topic of each flow, then one listed under all three (one subscription, three flows).
const char* const kFlowTopics[] = {"smc_raw_historic", "smc_raw_lastdata", "smc_raw_mutable", "smc_raw_all"};

fs::path conformance_dir() {
  const char* env = std::getenv("KAFNUS_CONFORMANCE_DIR");
  return env && *env ? fs::path(env) : fs::path(KAFNUS_CONFORMANCE_DIR);
}

std::vector<std::string> case_names() {
  std::vector<std::string> out;
  const auto root = conformance_dir() / "cases";
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.is_regular_file() && e.path().filename() == "messages.jsonl") {
      out.push_back(fs::relative(e.path().parent_path(), root).string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::chrono::seconds case_timeout() {
  const char* env = std::getenv("KAFNUS_CONFORMANCE_TIMEOUT_S");
  return std::chrono::seconds(env && *env ? std::atoi(env) : 20);
}

class Conformance : public testing::TestWithParam<std::string> {
 public:
  static void SetUpTestSuite() {
    prefix_ = kt::unique_name("conf") + "_";
    std::vector<std::string> topics;
    for (const char* t : kFlowTopics) topics.push_back(prefix_ + t);
    kt::create_topics(kt::brokers(), topics, 1);

    kt::pg_client pg;
    pg.exec(slurp(conformance_dir() / "bootstrap.sql"));

    kt::daemon_config cfg;
    cfg.historic_topics = {topics[0], topics[3]};
    cfg.lastdata_topics = {topics[1], topics[3]};
    cfg.mutable_topics = {topics[2], topics[3]};
    cfg.extra_yaml =
        "datamodel:\n"
        "  default: dm-by-entity-type-database\n"
        "  services:\n"
        "    testdatamodel: dm-by-entity-type-database-schema\n"
        "batching:\n"
        "  max_delay_ms: 5\n"
        // Name mappings (cases 012_name_mappings): they only match services
        // no other case uses. The repository's file, also when the cases
        // come from $KAFNUS_CONFORMANCE_DIR.
        "mappings:\n"
        "  file: " +
        staged_mappings().string() +
        "\n"
        "  serviceMappings:\n"
        "    - originalService: cygnus_inline\n"
        "      newService: test\n"
        "      servicePathMappings:\n"
        "        - entityMappings:\n"
        "            - originalEntityType: Lamp\n"
        "              newEntityType: lamp_v2\n";
    daemon_ = new kt::daemon_process(cfg);
    daemon_->start();
    ASSERT_TRUE(daemon_->wait_ready(std::chrono::seconds(60))) << daemon_->log();
    producer_ = new kt::kafka_producer(kt::brokers());
  }

  static void TearDownTestSuite() {
    delete producer_;
    producer_ = nullptr;
    if (daemon_) {
      daemon_->signal(SIGTERM);
      EXPECT_EQ(daemon_->wait_exit(std::chrono::seconds(30)), 0) << daemon_->log();
      if (testing::Test::HasFailure()) std::cerr << "---- daemon log ----\n" << daemon_->log() << "\n";
      delete daemon_;
      daemon_ = nullptr;
    }
    std::error_code ignored;
    if (!staged_.empty()) fs::remove_all(staged_, ignored);  // read by the daemon, now stopped
    std::vector<std::string> topics;
    for (const char* t : kFlowTopics) topics.push_back(prefix_ + t);
    try {
      kt::delete_topics(kt::brokers(), topics);
    } catch (const std::exception&) {
      // best effort
    }
  }

 protected:
  // Publishes the case's messages in file order.
  void publish(const fs::path& file) {
    simdjson::dom::parser parser;
    std::istringstream lines(slurp(file));
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      simdjson::dom::element doc = parser.parse(line);
      std::string topic(doc["topic"].get_string().value());
      kt::headers headers;
      simdjson::dom::object h;
      if (!doc["headers"].get(h)) {
        for (auto kv : h) headers.emplace_back(std::string(kv.key), std::string(kv.value.get_string().value()));
      }
      producer_->send(prefix_ + topic, simdjson::minify(doc["value"]), headers);
    }
    producer_->flush();
  }

  // One attempt at the whole expected.json; "" when it holds, else what failed.
  std::string check(simdjson::dom::array expectations, kt::pg_client& pg, pqxx::connection& geo_conn) {
    kt::geometry_equals geo = [&](const std::string& expected, bool is_wkt, const std::string& stored) {
      pqxx::nontransaction tx(geo_conn);
      // Compared without SRIDs: GeoJSON input defaults to 4326, WKT to 0.
      auto r = tx.exec_params(std::string("SELECT ST_Equals(ST_SetSRID(") +
                                  (is_wkt ? "ST_GeomFromText($1)" : "ST_GeomFromGeoJSON($1)") +
                                  ", 0), ST_SetSRID(CASE WHEN left($2, 1) = '{' THEN ST_GeomFromGeoJSON($2) ELSE "
                                  "$2::geometry END, 0))",
                              expected, stored);
      return !r.empty() && !r[0][0].is_null() && r[0][0].as<bool>();
    };
    for (auto e : expectations) {
      const std::string table(e["table"].get_string().value());
      std::vector<kt::sql_row> rows;
      try {
        rows = pg.query("SELECT to_jsonb(t)::text FROM " + table + " t");
      } catch (const std::exception& ex) {
        return "cannot read " + table + ": " + ex.what();
      }
      std::vector<simdjson::dom::parser> parsers(rows.size());
      std::vector<simdjson::dom::object> actual;
      for (std::size_t i = 0; i < rows.size(); ++i) actual.push_back(parsers[i].parse(*rows[i][0]).get_object());
      simdjson::dom::array want;
      if (!e["rows"].get(want)) {
        for (auto w : want) {
          const bool found = std::any_of(actual.begin(), actual.end(),
                                         [&](simdjson::dom::object a) { return kt::row_matches(w, a, geo); });
          if (!found) return table + ": no row matches " + simdjson::minify(w) + describe(rows);
        }
      }
      simdjson::dom::array absent;
      if (!e["absent"].get(absent)) {
        for (auto w : absent) {
          for (auto a : actual) {
            if (kt::row_matches(w, a, geo)) return table + ": a row matches the absent pattern " + simdjson::minify(w);
          }
        }
      }
    }
    return {};
  }

  static std::string describe(const std::vector<kt::sql_row>& rows) {
    std::string s = "\n  table rows (" + std::to_string(rows.size()) + "):";
    for (std::size_t i = 0; i < rows.size() && i < 12; ++i) s += "\n    " + rows[i][0].value_or("NULL").substr(0, 600);
    return s;
  }

  static std::string prefix_;
  static fs::path staged_;

  // A world-readable copy of the repository's name_mappings.json under the
  // temp directory: the daemon reads it as the user it runs as, which in the
  // container test (test/deploy) is not the clone's owner, and a clone may
  // live in a private directory such as /root.
  static fs::path staged_mappings() {
    using fs::perms;
    staged_ = fs::temp_directory_path() / kt::unique_name("kafnus_fixtures");
    fs::create_directories(staged_);
    fs::permissions(staged_,
                    perms::owner_all | perms::group_read | perms::group_exec | perms::others_read | perms::others_exec);
    const auto file = staged_ / "name_mappings.json";
    fs::copy_file(fs::path(KAFNUS_CONFORMANCE_DIR) / "name_mappings.json", file);
    fs::permissions(file, perms::owner_read | perms::owner_write | perms::group_read | perms::others_read);
    return file;
  }
  static kt::daemon_process* daemon_;
  static kt::kafka_producer* producer_;
};

std::string Conformance::prefix_;
fs::path Conformance::staged_;
kt::daemon_process* Conformance::daemon_ = nullptr;
kt::kafka_producer* Conformance::producer_ = nullptr;

TEST_P(Conformance, Case) {
  ASSERT_NE(daemon_, nullptr);
  ASSERT_TRUE(daemon_->running()) << daemon_->log();
  const auto dir = conformance_dir() / "cases" / GetParam();
  kt::pg_client pg;
  if (fs::exists(dir / "setup.sql")) pg.exec(slurp(dir / "setup.sql"));
  publish(dir / "messages.jsonl");

  simdjson::dom::parser parser;
  const auto text = slurp(dir / "expected.json");
  simdjson::dom::array expectations = parser.parse(text).get_array();
  pqxx::connection geo_conn(kt::pg_connection_string());
  std::string failure;
  const auto deadline = std::chrono::steady_clock::now() + case_timeout();
  do {
    failure = check(expectations, pg, geo_conn);
    if (failure.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(failure, "") << "case " << GetParam() << " (" << slurp(dir / "description.txt").substr(0, 300) << ")";
  EXPECT_TRUE(daemon_->running()) << daemon_->log();
}

INSTANTIATE_TEST_SUITE_P(Cases, Conformance, testing::ValuesIn(case_names()),
                         [](const testing::TestParamInfo<std::string>& param) {
                           std::string name = param.param;
                           for (auto& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(ConformanceCases, AreFound) { EXPECT_GE(case_names().size(), 17u) << conformance_dir(); }

}  // namespace
