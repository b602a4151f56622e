// `kafnus check-config` rejects bad configurations with messages that name
// the key and what is allowed, and prints a valid one with secrets masked.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "test/support/daemon_process.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;
using testing::AllOf;
using testing::HasSubstr;
using testing::Not;

namespace {

kt::command_result check_config(const std::string& yaml, const std::vector<std::string>& env = {}) {
  const auto path = ::testing::TempDir() + kt::unique_name("check") + ".yaml";
  std::ofstream(path) << yaml;
  return kt::run_command({KAFNUS_DAEMON_BINARY, "check-config", "--config", path}, env);
}

const std::string kValid = "kafka:\n  brokers: 127.0.0.1:9092\npostgres:\n  database: tests\n  password: pg-s3cret\n";

}  // namespace

TEST(CheckConfig, AcceptsAValidConfigAndMasksSecrets) {
  auto r = check_config(kValid, {"KAFNUS_KAFKA_PROPERTY_SASL_PASSWORD=kafka-s3cret"});
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("valid"), HasSubstr("brokers: 127.0.0.1:9092"), HasSubstr("********"),
                              Not(HasSubstr("pg-s3cret")), Not(HasSubstr("kafka-s3cret"))));
}

TEST(CheckConfig, RejectsAnUnknownKey) {
  auto r = check_config(kValid + "  hots: x\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.output, AllOf(HasSubstr("unknown key 'postgres.hots'"), HasSubstr("did you mean 'postgres.host'")));
}

TEST(CheckConfig, RejectsAWrongType) {
  auto r = check_config(kValid + "  port: high\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.output, AllOf(HasSubstr("postgres.port"), HasSubstr("an integer from 1 to 65535")));
}

TEST(CheckConfig, RejectsAMissingRequiredValue) {
  auto r = check_config("kafka:\n  brokers: 127.0.0.1:9092\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.output, AllOf(HasSubstr("postgres.database is required"), HasSubstr("KAFNUS_POSTGRES_DATABASE")));
}

TEST(CheckConfig, RejectsAValueOutsideTheAllowedOnes) {
  auto r = check_config(kValid + "writer:\n  unknown_columns: ignore\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.output, AllOf(HasSubstr("writer.unknown_columns"), HasSubstr("error, drop, add")));
}

TEST(CheckConfig, RejectsAnUnknownLibrdkafkaProperty) {
  auto r = check_config(kValid + "kafka_extra: 1\n");
  EXPECT_EQ(r.code, 2);
  auto r2 =
      check_config("kafka:\n  brokers: b:1\n  properties:\n    sasl.mechanismz: PLAIN\npostgres:\n  database: t\n");
  EXPECT_EQ(r2.code, 2);
  EXPECT_THAT(r2.output, HasSubstr("kafka.properties.sasl.mechanismz"));
}

TEST(CheckConfig, RejectsABadEnvironmentOverride) {
  auto r = check_config(kValid, {"KAFNUS_BATCHING_MAX_ROWS=lots"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.output, AllOf(HasSubstr("KAFNUS_BATCHING_MAX_ROWS"), HasSubstr("batching.max_rows")));
}

TEST(CheckConfig, RejectsAMissingFile) {
  auto r = kt::run_command({KAFNUS_DAEMON_BINARY, "check-config", "--config", "/nonexistent/kafnus.yaml"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.output, HasSubstr("/nonexistent/kafnus.yaml"));
}

TEST(CheckConfig, VersionPrintsTheVersion) {
  auto r = kt::run_command({KAFNUS_DAEMON_BINARY, "--version"});
  EXPECT_EQ(r.code, 0);
  EXPECT_THAT(r.output, HasSubstr("kafnus 0."));
}

TEST(CheckConfig, PrintsWhichFlowsEachTopicFeeds) {
  auto r = check_config(kValid +
                        "flows:\n  historic:\n    topics: [smc_raw, \"^city_.*$\"]\n"
                        "  lastdata:\n    topics: [smc_raw, \"^city_.*$\"]\n  mutable:\n    topics: [smc_raw, m]\n");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("# topic smc_raw feeds historic,lastdata,mutable\n"));
  EXPECT_THAT(r.output, HasSubstr("# pattern ^city_.*$ feeds historic,lastdata\n"));
  EXPECT_THAT(r.output, HasSubstr("# topic m feeds mutable\n"));
}

TEST(CheckConfig, RejectsABadNameMappingRegexNamingTheRule) {
  const auto file = ::testing::TempDir() + kt::unique_name("mappings") + ".json";
  std::ofstream(file) << R"({"serviceMappings": [{"originalService": "hotel1", "servicePathMappings": [
      {"originalServicePath": "/suites", "entityMappings": [{}]},
      {"originalServicePath": "(", "entityMappings": [{}]}]}]})";
  auto r = check_config(kValid + "mappings:\n  file: " + file + "\n");
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.output, HasSubstr("mappings.file " + file +
                                  ": serviceMappings[0].servicePathMappings[1].originalServicePath: invalid regular "
                                  "expression '('"));
}

TEST(CheckConfig, PrintsTheNameMappings) {
  auto r =
      check_config(kValid + "mappings:\n  serviceMappings:\n    - originalService: hotel1\n      newService: hotels\n");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_THAT(r.output, AllOf(HasSubstr("mappings:"), HasSubstr("serviceMappings:"),
                              HasSubstr("originalService: hotel1"), HasSubstr("newService: hotels")));
}
