// Every message of every conformance case through transform(): no error
// except where the case expects one, and the rows land in the tables that
// expected.json checks. (The database side is test/conformance's job.)

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "ngsi/transform.hpp"

namespace kafnus::ngsi {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct message {
  std::string topic;
  header_list headers;
  std::string value;  // the notification exactly as in the file
};

std::vector<message> read_messages(const fs::path& file) {
  std::vector<message> out;
  std::ifstream in(file);
  std::string line;
  simdjson::ondemand::parser parser;
  while (std::getline(in, line)) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const simdjson::padded_string padded(line);
    simdjson::ondemand::document doc;
    EXPECT_EQ(parser.iterate(padded).get(doc), simdjson::SUCCESS) << line;
    simdjson::ondemand::object obj;
    EXPECT_EQ(doc.get_object().get(obj), simdjson::SUCCESS);
    message m;
    for (auto field : obj) {
      std::string_view key;
      EXPECT_EQ(field.unescaped_key().get(key), simdjson::SUCCESS);
      if (key == "topic") {
        std::string_view topic;
        EXPECT_EQ(field.value().get_string().get(topic), simdjson::SUCCESS);
        m.topic = std::string(topic);
      } else if (key == "headers") {
        simdjson::ondemand::object headers;
        EXPECT_EQ(field.value().get_object().get(headers), simdjson::SUCCESS);
        for (auto h : headers) {
          std::string_view name, val;
          EXPECT_EQ(h.unescaped_key().get(name), simdjson::SUCCESS);
          EXPECT_EQ(h.value().get_string().get(val), simdjson::SUCCESS);
          m.headers.emplace_back(std::string(name), std::string(val));
        }
      } else if (key == "value") {
        simdjson::ondemand::object value;
        EXPECT_EQ(field.value().get_object().get(value), simdjson::SUCCESS);
        std::string_view raw;
        EXPECT_EQ(value.raw_json().get(raw), simdjson::SUCCESS);
        m.value = std::string(raw);
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

// The "table" of every expected.json entry that expects rows, except the
// error logs (rows there come from the database, not from transform()).
std::set<std::string> expected_tables(const fs::path& file) {
  std::set<std::string> tables;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.load(file.string()).get(doc), simdjson::SUCCESS) << file;
  simdjson::dom::array entries;
  EXPECT_EQ(doc.get_array().get(entries), simdjson::SUCCESS);
  for (auto entry : entries) {
    std::string_view table;
    if (entry["table"].get_string().get(table) != simdjson::SUCCESS) continue;
    simdjson::dom::array rows;
    if (entry["rows"].get_array().get(rows) != simdjson::SUCCESS || rows.size() == 0) continue;
    if (table.find("_error_log") != std::string_view::npos) continue;
    tables.insert(std::string(table));
  }
  return tables;
}

// The flows of a case topic, as CASES.md prescribes.
std::vector<flow> flows_for_topic(const std::string& topic) {
  if (topic == "smc_raw_historic") return {flow::historic};
  if (topic == "smc_raw_lastdata") return {flow::lastdata};
  if (topic == "smc_raw_mutable") return {flow::mutable_};
  if (topic == "smc_raw_all") return {flow::historic, flow::lastdata, flow::mutable_};
  ADD_FAILURE() << "unknown topic " << topic;
  return {};
}

// The name mappings CASES.md prescribes: its inline rule, then the file.
std::shared_ptr<const name_mappings> case_mappings() {
  static const auto rules = [] {
    auto m = std::make_shared<name_mappings>();
    std::ifstream in(fs::path(KAFNUS_CONFORMANCE_DIR) / "name_mappings.json");
    std::stringstream file;
    file << in.rdbuf();
    for (const std::string& json :
         {std::string(R"({"serviceMappings": [{"originalService": "cygnus_inline", "newService": "test",
             "servicePathMappings": [{"entityMappings": [{"originalEntityType": "Lamp", "newEntityType": "lamp_v2"}]}]}]})"),
          file.str()}) {
      for (const auto& p : m->add_json(json)) ADD_FAILURE() << p;
    }
    return std::shared_ptr<const name_mappings>(std::move(m));
  }();
  return rules;
}

transform_options options_for(flow f) {
  transform_options o;
  o.f = f;
  // The daemon configuration CASES.md prescribes.
  o.datamodels.fallback = datamodel::by_entity_type_database;
  o.datamodels.per_service["testdatamodel"] = datamodel::by_entity_type_database_schema;
  o.mappings = case_mappings();
  return o;
}

transform_options options_for_topic(const std::string& topic) { return options_for(flows_for_topic(topic).front()); }

// Cases whose messages are meant to fail in transform(), and why: the
// messages of `topic` ("" any), in `flows` (empty: any), `message` (-1: any).
struct expected_failure {
  const char* topic;
  const char* says;
  std::vector<flow> flows = {};
  int message = -1;
};
std::vector<expected_failure> expected_failures(const std::string& name) {
  // Historic rows are keyed by (entityid, timeinstant): no TimeInstant, no row.
  if (name == "003_errors/003_historic_without_timeinstant") return {{"smc_raw_historic", "TimeInstant"}};
  // The historic message of this case has no TimeInstant either; only its
  // lastdata row is checked.
  if (name == "004_lastdata/003_lastdata_without_timeinstant") return {{"smc_raw_historic", "TimeInstant"}};
  if (name.rfind("010_not_servicepath/002", 0) == 0) return {{"", "fiware-servicepath"}};
  // Its first message has no TimeInstant: historic and mutable cannot key it.
  if (name == "011_several_flows/002_a_record_failing_in_some_flows") {
    return {{"smc_raw_all", "TimeInstant", {flow::historic, flow::mutable_}, 0}};
  }
  return {};
}

std::vector<fs::path> case_dirs() {
  std::vector<fs::path> dirs;
  const fs::path root = fs::path(KAFNUS_CONFORMANCE_DIR) / "cases";
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file() && entry.path().filename() == "messages.jsonl")
      dirs.push_back(entry.path().parent_path());
  }
  std::sort(dirs.begin(), dirs.end());
  return dirs;
}

class ConformanceCase : public ::testing::TestWithParam<fs::path> {};

TEST_P(ConformanceCase, TransformsEveryMessage) {
  const fs::path dir = GetParam();
  const std::string name = fs::relative(dir, fs::path(KAFNUS_CONFORMANCE_DIR) / "cases").generic_string();
  const auto messages = read_messages(dir / "messages.jsonl");
  ASSERT_FALSE(messages.empty()) << name;
  const auto failures = expected_failures(name);

  std::set<std::string> produced;
  std::size_t rows = 0;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const message& m = messages[i];
    for (const flow f : flows_for_topic(m.topic)) {
      transform_output out;
      transform(m.value, m.headers, options_for(f), 1750935600000000, out);
      EXPECT_GT(out.entities, 0u) << name << " message " << i;
      for (const auto& r : out.rows) {
        produced.insert(r.table().schema + "." + r.table().table);
        EXPECT_TRUE(r.service() == "test" || r.service() == "testdatamodel") << name << ": " << r.service();
      }
      rows += out.rows.size();
      const auto expected = std::find_if(failures.begin(), failures.end(), [&](const expected_failure& e) {
        return (std::string(e.topic).empty() || m.topic == e.topic) &&
               (e.flows.empty() || std::find(e.flows.begin(), e.flows.end(), f) != e.flows.end()) &&
               (e.message < 0 || static_cast<std::size_t>(e.message) == i);
      });
      if (expected == failures.end()) {
        for (const auto& e : out.errors) ADD_FAILURE() << name << " message " << i << ": " << e.message;
      } else {
        ASSERT_FALSE(out.errors.empty()) << name << " message " << i << " should fail in " << to_string(f);
        for (const auto& e : out.errors) {
          EXPECT_THAT(e.message, HasSubstr(expected->says)) << name;
          EXPECT_EQ(e.service, "test");
        }
      }
    }
  }
  for (const auto& table : expected_tables(dir / "expected.json")) {
    EXPECT_TRUE(produced.count(table)) << name << ": no row for " << table;
  }
  if (failures.empty()) {
    EXPECT_GT(rows, 0u) << name;
  }
}

std::string case_name(const ::testing::TestParamInfo<fs::path>& param) {
  std::string n = param.param.parent_path().filename().string() + "_" + param.param.filename().string();
  for (auto& c : n) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
}

INSTANTIATE_TEST_SUITE_P(Cases, ConformanceCase, ::testing::ValuesIn(case_dirs()), case_name);

TEST(Conformance, SpecificRowsOfTheCases) {
  // A few values the database checks depend on, verified at the source.
  const fs::path root = fs::path(KAFNUS_CONFORMANCE_DIR) / "cases";
  const auto edge = read_messages(root / "001_ngsi_types" / "006_edge_case_data" / "messages.jsonl");
  ASSERT_FALSE(edge.empty());
  transform_output out;
  transform(edge[0].value, edge[0].headers, options_for_topic(edge[0].topic), 0, out);
  ASSERT_EQ(out.rows.size(), 1u);
  // Beyond 2^53: the exact digits reach PostgreSQL, which decides whether they fit.
  EXPECT_EQ(out.rows[0].find("large_number")->val, value::number("9223372036854775807"));

  const auto deletes = read_messages(root / "004_lastdata" / "002_delete" / "messages.jsonl");
  transform_output del;
  for (const auto& m : deletes) transform(m.value, m.headers, options_for_topic(m.topic), 0, del);
  ASSERT_EQ(del.rows.size(), 3u);
  EXPECT_EQ(del.rows[2].op, operation::remove);
  EXPECT_EQ(del.rows[2].entity_id(), "Sensor1");

  const auto geo = read_messages(root / "001_ngsi_types" / "002_geometries" / "messages.jsonl");
  std::size_t geometries = 0;
  for (const auto& m : geo) {
    transform_output g;
    transform(m.value, m.headers, options_for_topic(m.topic), 0, g);
    for (const auto& r : g.rows) {
      for (const auto& c : r.columns) geometries += c.val.kind == value_kind::geometry ? 1 : 0;
    }
  }
  EXPECT_GE(geometries, 20u);
}

}  // namespace
}  // namespace kafnus::ngsi
