// The configuration loader: defaults, validation messages, environment
// overrides, secrets.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "config/loader.hpp"
#include "config/schema.hpp"
#include "ngsi/name_mappings.hpp"

using kafnus::config::config_error;
using kafnus::config::environment;
using kafnus::config::load_string;
using testing::AllOf;
using testing::HasSubstr;
using testing::Not;

namespace {

const char* kMinimal = R"(
kafka:
  brokers: "k1:9092"
postgres:
  database: tests
)";

// The joined problems of a configuration that must be rejected.
std::string rejection(const std::string& yaml, const environment& env = {}) {
  try {
    load_string(yaml, env, "test.yaml");
  } catch (const config_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "configuration was accepted:\n" << yaml;
  return "";
}

}  // namespace

TEST(ConfigLoader, MinimalConfigGetsEveryDefault) {
  auto s = load_string(kMinimal, {});
  EXPECT_EQ(s.kafka.brokers, "k1:9092");
  EXPECT_EQ(s.kafka.group_id, "kafnus");
  EXPECT_EQ(s.kafka.auto_offset_reset, kafnus::config::offset_reset::earliest);
  EXPECT_EQ(s.flows.historic.topics, std::vector<std::string>{"smc_raw_historic"});
  EXPECT_EQ(s.flows.lastdata.topics, std::vector<std::string>{"smc_raw_lastdata"});
  EXPECT_EQ(s.flows.mutable_.topics, std::vector<std::string>{"smc_raw_mutable"});
  EXPECT_EQ(s.postgres.host, "127.0.0.1");
  EXPECT_EQ(s.postgres.port, 5432);
  EXPECT_EQ(s.postgres.sslmode, "prefer");
  EXPECT_EQ(s.postgres.offsets_schema, "kafnus");
  EXPECT_EQ(s.datamodel.default_datamodel, kafnus::config::datamodel::by_entity_type_database);
  EXPECT_EQ(s.batching.max_rows, 5000);
  EXPECT_EQ(s.batching.max_bytes, 16 << 20);
  EXPECT_EQ(s.batching.min_interval_ms, 5);
  EXPECT_EQ(s.writer.unknown_columns, kafnus::config::unknown_columns::error);
  EXPECT_EQ(s.admin.host, "0.0.0.0");
  EXPECT_EQ(s.admin.port, 8000);
  EXPECT_EQ(s.log.level, "info");
  EXPECT_EQ(s.log.format, "text");
  EXPECT_TRUE(s.warnings.empty());
}

TEST(ConfigLoader, MetricsMaxServicesHasADefaultAndARange) {
  EXPECT_EQ(load_string(kMinimal, {}).metrics.max_services, 1000);
  EXPECT_EQ(load_string(std::string(kMinimal) + "metrics:\n  max_services: 5\n", {}).metrics.max_services, 5);
  EXPECT_EQ(load_string(kMinimal, {{"KAFNUS_METRICS_MAX_SERVICES", "7"}}).metrics.max_services, 7);
  EXPECT_THAT(rejection(std::string(kMinimal) + "metrics:\n  max_services: 0\n"),
              AllOf(HasSubstr("metrics.max_services"), HasSubstr("an integer from 1 to 100000"), HasSubstr("'0'")));
}

TEST(ConfigLoader, KafkaDownAfterHasADefaultAndARange) {
  EXPECT_EQ(load_string(kMinimal, {}).admin.kafka_down_after_s, 15);
  EXPECT_EQ(load_string(std::string(kMinimal) + "admin:\n  kafka_down_after_s: 0\n", {}).admin.kafka_down_after_s, 0);
  EXPECT_THAT(rejection(std::string(kMinimal) + "admin:\n  kafka_down_after_s: -1\n"),
              AllOf(HasSubstr("admin.kafka_down_after_s"), HasSubstr("an integer from 0 to 86400")));
}

TEST(ConfigLoader, AdminHttpLimitsHaveDefaultsAndRanges) {
  auto s = load_string(kMinimal, {});
  EXPECT_EQ(s.admin.threads, 16);
  EXPECT_EQ(s.admin.request_timeout_ms, 2000);
  s = load_string(std::string(kMinimal) + "admin:\n  threads: 64\n  request_timeout_ms: 500\n", {});
  EXPECT_EQ(s.admin.threads, 64);
  EXPECT_EQ(s.admin.request_timeout_ms, 500);
  EXPECT_THAT(rejection(std::string(kMinimal) + "admin:\n  threads: 1\n"),
              AllOf(HasSubstr("admin.threads"), HasSubstr("an integer from 2 to 256")));
  EXPECT_THAT(rejection(std::string(kMinimal) + "admin:\n  request_timeout_ms: 50\n"),
              AllOf(HasSubstr("admin.request_timeout_ms"), HasSubstr("an integer from 100 to 60000")));
}

TEST(ConfigLoader, TheExampleFileIsValid) {
  std::ifstream in(std::string(KAFNUS_SOURCE_DIR) + "/config/kafnus.yaml");
  ASSERT_TRUE(in) << "config/kafnus.yaml missing";
  std::stringstream text;
  text << in.rdbuf();
  auto s = load_string(text.str(), {});
  EXPECT_EQ(s.postgres.database, "tests");
}

TEST(ConfigLoader, UnknownKeyIsRejectedWithItsPathAndASuggestion) {
  auto m = rejection(std::string(kMinimal) + "  hots: db.example\n");
  EXPECT_THAT(m, AllOf(HasSubstr("unknown key 'postgres.hots'"), HasSubstr("did you mean 'postgres.host'"),
                       HasSubstr("allowed keys in 'postgres'"), HasSubstr("test.yaml:")));
}

TEST(ConfigLoader, UnknownSectionIsRejected) {
  auto m = rejection(std::string(kMinimal) + "databse:\n  x: 1\n");
  EXPECT_THAT(m, AllOf(HasSubstr("unknown key 'databse'"), HasSubstr("allowed sections")));
}

TEST(ConfigLoader, WrongTypeNamesTheKeyAndWhatIsAllowed) {
  auto m = rejection(std::string(kMinimal) + "  port: five\n");
  EXPECT_THAT(m, AllOf(HasSubstr("postgres.port"), HasSubstr("an integer from 1 to 65535"), HasSubstr("'five'")));
}

TEST(ConfigLoader, OutOfRangeIntegerIsRejected) {
  auto m = rejection(std::string(kMinimal) + "  port: 70000\n");
  EXPECT_THAT(m, AllOf(HasSubstr("postgres.port"), HasSubstr("'70000'")));
}

TEST(ConfigLoader, MissingRequiredValueNamesTheKeyAndTheVariable) {
  auto m = rejection("kafka:\n  brokers: k:9092\n");
  EXPECT_THAT(m, AllOf(HasSubstr("postgres.database is required"), HasSubstr("KAFNUS_POSTGRES_DATABASE")));
}

TEST(ConfigLoader, InvalidEnumerationListsTheAllowedValues) {
  auto m = rejection(std::string(kMinimal) + "  sslmode: sometimes\n");
  EXPECT_THAT(
      m, AllOf(HasSubstr("postgres.sslmode"), HasSubstr("disable, allow, prefer, require, verify-ca, verify-full")));
}

TEST(ConfigLoader, ListWhereAScalarIsGivenIsRejected) {
  auto m = rejection(std::string(kMinimal) + "flows:\n  historic:\n    topics: smc_raw_historic\n");
  EXPECT_THAT(m, AllOf(HasSubstr("flows.historic.topics"), HasSubstr("a list of strings")));
}

TEST(ConfigLoader, UnknownDatamodelForAServiceIsRejected) {
  auto m = rejection(std::string(kMinimal) + "datamodel:\n  services:\n    test: dm-by-magic\n");
  EXPECT_THAT(m, AllOf(HasSubstr("datamodel.services"), HasSubstr("dm-by-magic"),
                       HasSubstr("dm-by-entity-type-database-schema")));
}

TEST(ConfigLoader, ATopicMayFeedSeveralFlows) {
  auto s = load_string(std::string(kMinimal) +
                           "flows:\n  historic:\n    topics: [raw]\n  lastdata:\n    topics: [raw]\n"
                           "  mutable:\n    topics: [raw, other]\n",
                       {});
  EXPECT_EQ(s.flows.historic.topics, std::vector<std::string>{"raw"});
  EXPECT_EQ(s.flows.lastdata.topics, std::vector<std::string>{"raw"});
  EXPECT_EQ(s.flows.mutable_.topics, (std::vector<std::string>{"raw", "other"}));
}

TEST(ConfigLoader, NoTopicAtAllIsRejected) {
  auto m = rejection(std::string(kMinimal) +
                     "flows:\n  historic:\n    topics: []\n  lastdata:\n    topics: []\n  mutable:\n    topics: []\n");
  EXPECT_THAT(m, HasSubstr("no topic is configured"));
}

TEST(ConfigLoader, PropertiesKafnusManagesAreRejected) {
  auto m =
      rejection("kafka:\n  brokers: k:1\n  properties:\n    enable.auto.commit: 'true'\npostgres:\n  database: t\n");
  EXPECT_THAT(m, AllOf(HasSubstr("kafka.properties.enable.auto.commit"), HasSubstr("Kafnus")));
}

TEST(ConfigLoader, BadListenAddressIsRejected) {
  auto m = rejection(std::string(kMinimal) + "admin:\n  listen: localhost\n");
  EXPECT_THAT(m, AllOf(HasSubstr("admin.listen"), HasSubstr("host:port")));
}

TEST(ConfigLoader, EveryProblemIsReportedAtOnce) {
  auto m = rejection("kafka:\n  brokers: k\n  grup_id: x\npostgres:\n  port: -1\n");
  EXPECT_THAT(m, AllOf(HasSubstr("kafka.grup_id"), HasSubstr("postgres.port"), HasSubstr("postgres.database")));
}

TEST(ConfigLoader, InvalidYamlSaysWhere) {
  auto m = rejection("kafka: [unclosed\n");
  EXPECT_THAT(m, AllOf(HasSubstr("test.yaml:"), HasSubstr("not valid YAML")));
}

TEST(ConfigLoader, SizesAcceptUnits) {
  auto s = load_string(std::string(kMinimal) + "batching:\n  max_bytes: 2MiB\n  in_flight_bytes: 512KiB\n", {});
  EXPECT_EQ(s.batching.max_bytes, 2 << 20);
  EXPECT_EQ(s.batching.in_flight_bytes, 512 << 10);
}

TEST(ConfigLoader, EnvironmentOverridesTheFile) {
  environment env{{"KAFNUS_POSTGRES_HOST", "db.internal"},
                  {"KAFNUS_POSTGRES_PORT", "6543"},
                  {"KAFNUS_FLOWS_HISTORIC_TOPICS", "a, b"},
                  {"KAFNUS_DATAMODEL_SERVICES", "TestDataModel=dm-by-entity-type-database-schema"},
                  {"KAFNUS_LOG_LEVEL", "DEBUG"}};
  auto s = load_string(kMinimal, env);
  EXPECT_EQ(s.postgres.host, "db.internal");
  EXPECT_EQ(s.postgres.port, 6543);
  EXPECT_EQ(s.flows.historic.topics, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(s.datamodel.services.at("testdatamodel"), kafnus::config::datamodel::by_entity_type_database_schema);
  EXPECT_EQ(s.log.level, "debug");
}

TEST(ConfigLoader, InvalidEnvironmentValueNamesTheVariable) {
  auto m = rejection(kMinimal, {{"KAFNUS_POSTGRES_PORT", "abc"}});
  EXPECT_THAT(m, AllOf(HasSubstr("environment KAFNUS_POSTGRES_PORT"), HasSubstr("postgres.port")));
}

// Issue 11.7: a bad mapping variable does not hide the problems of the
// variables after it.
TEST(ConfigLoader, EveryEnvironmentVariableIsCheckedAfterABadMapping) {
  for (const char* bad : {"no_equals_sign", "svc=dm-no-such-datamodel"}) {
    auto m = rejection(kMinimal, {{"KAFNUS_DATAMODEL_SERVICES", bad},
                                  {"KAFNUS_POSTGRES_PORT", "abc"},
                                  {"KAFNUS_WRITER_UNKNOWN_COLUMNS", "explode"}});
    EXPECT_THAT(m,
                AllOf(HasSubstr("environment KAFNUS_DATAMODEL_SERVICES"), HasSubstr("environment KAFNUS_POSTGRES_PORT"),
                      HasSubstr("environment KAFNUS_WRITER_UNKNOWN_COLUMNS")))
        << bad;
  }
}

TEST(ConfigLoader, MaxAttributesIsBoundByWhatATableCanHold) {
  EXPECT_EQ(load_string(kMinimal, {}).limits.max_attributes, 1595);
  EXPECT_EQ(load_string(std::string(kMinimal) + "limits:\n  max_attributes: 1595\n", {}).limits.max_attributes, 1595);
  EXPECT_THAT(rejection(std::string(kMinimal) + "limits:\n  max_attributes: 1596\n"),
              AllOf(HasSubstr("limits.max_attributes"), HasSubstr("1595")));
}

TEST(ConfigLoader, UnknownEnvironmentVariableIsAWarning) {
  auto s = load_string(kMinimal, {{"KAFNUS_POSTGRES_HOTS", "x"}});
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_THAT(s.warnings[0], HasSubstr("KAFNUS_POSTGRES_HOTS"));
}

TEST(ConfigLoader, KafkaPropertiesFromTheEnvironment) {
  auto s = load_string(kMinimal, {{"KAFNUS_KAFKA_PROPERTY_SECURITY_PROTOCOL", "SASL_SSL"},
                                  {"KAFNUS_KAFKA_PROPERTY_SASL_PASSWORD", "s3cret"}});
  EXPECT_EQ(s.kafka.properties.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(s.kafka.properties.at("sasl.password"), "s3cret");
  EXPECT_THAT(s.effective_yaml, Not(HasSubstr("s3cret")));
}

TEST(ConfigLoader, PasswordsFromFilesAndMaskedInTheEffectiveConfig) {
  const std::string pg_file = testing::TempDir() + "kafnus_pg_password";
  const std::string kafka_file = testing::TempDir() + "kafnus_kafka_password";
  std::ofstream(pg_file) << "pg-s3cret\n";
  std::ofstream(kafka_file) << "kafka-s3cret\n";
  auto s = load_string("kafka:\n  brokers: k:1\n  property_files:\n    sasl.password: " + kafka_file +
                           "\npostgres:\n  database: tests\n  password_file: " + pg_file + "\n",
                       {{"KAFNUS_ADMIN_TOKEN", "admin-s3cret"}});
  EXPECT_EQ(s.postgres.password, "pg-s3cret");
  EXPECT_EQ(s.kafka.properties.at("sasl.password"), "kafka-s3cret");
  EXPECT_EQ(s.admin.token, "admin-s3cret");
  EXPECT_THAT(s.effective_yaml, AllOf(Not(HasSubstr("pg-s3cret")), Not(HasSubstr("kafka-s3cret")),
                                      Not(HasSubstr("admin-s3cret")), HasSubstr("********")));
  std::remove(pg_file.c_str());
  std::remove(kafka_file.c_str());
}

TEST(ConfigLoader, UnreadablePasswordFileIsRejected) {
  auto m = rejection(std::string(kMinimal) + "  password_file: /nonexistent/kafnus\n");
  EXPECT_THAT(m, AllOf(HasSubstr("postgres.password_file"), HasSubstr("/nonexistent/kafnus")));
}

TEST(ConfigLoader, InlinePasswordIsMasked) {
  auto s = load_string(std::string(kMinimal) + "  password: inline-s3cret\n", {});
  EXPECT_EQ(s.postgres.password, "inline-s3cret");
  EXPECT_THAT(s.effective_yaml, Not(HasSubstr("inline-s3cret")));
}

TEST(ConfigLoader, EffectiveConfigIsValidInputAgain) {
  auto s =
      load_string(std::string(kMinimal) + "datamodel:\n  services:\n    x: dm-by-entity-type-database-schema\n", {});
  auto again = load_string(s.effective_yaml, {});
  EXPECT_EQ(again.effective_yaml, s.effective_yaml);
  EXPECT_EQ(again.datamodel.services.at("x"), kafnus::config::datamodel::by_entity_type_database_schema);
}

TEST(ConfigSchema, EnvironmentNames) {
  EXPECT_EQ(kafnus::config::env_name("postgres.port"), "KAFNUS_POSTGRES_PORT");
  EXPECT_EQ(kafnus::config::env_name("flows.historic.topics"), "KAFNUS_FLOWS_HISTORIC_TOPICS");
}

TEST(ConfigSchema, SecretNames) {
  using kafnus::config::is_secret_name;
  EXPECT_TRUE(is_secret_name("sasl.password"));
  EXPECT_TRUE(is_secret_name("ssl.key.password"));
  EXPECT_TRUE(is_secret_name("sasl.oauthbearer.client.secret"));
  EXPECT_FALSE(is_secret_name("security.protocol"));
  EXPECT_FALSE(is_secret_name("sasl.username"));
}

TEST(ConfigLoader, TopicPatternsAreAcceptedAndAnInvalidOneIsRejectedWithItsKey) {
  auto s = load_string(std::string(kMinimal) + "flows:\n  historic:\n    topics: [\"^smc_.*_historic$\", plain]\n", {},
                       "test.yaml");
  EXPECT_EQ(s.flows.historic.topics, (std::vector<std::string>{"^smc_.*_historic$", "plain"}));
  EXPECT_THAT(rejection(std::string(kMinimal) + "flows:\n  lastdata:\n    topics: [\"^smc_(\"]\n"),
              AllOf(HasSubstr("flows.lastdata.topics"), HasSubstr("^smc_("), HasSubstr("regular expression")));
  EXPECT_THAT(rejection(std::string(kMinimal) + "flows:\n  mutable:\n    topics: [\"^\"]\n"),
              HasSubstr("flows.mutable.topics"));
}

TEST(ConfigLoader, PositionOutOfRangeAndInstanceIdHaveDefaults) {
  auto s = load_string(kMinimal, {}, "test.yaml");
  EXPECT_EQ(s.kafka.position_out_of_range, kafnus::config::out_of_range::earliest);
  EXPECT_EQ(s.kafka.instance_id, "auto");
  EXPECT_THAT(rejection(std::string(kMinimal).replace(std::string(kMinimal).find("kafka:\n") + 7, 0,
                                                      "  position_out_of_range: skip\n")),
              AllOf(HasSubstr("kafka.position_out_of_range"), HasSubstr("earliest"), HasSubstr("fail")));
  auto dynamic = load_string(kMinimal, {{"KAFNUS_KAFKA_INSTANCE_ID", ""}}, "test.yaml");
  EXPECT_EQ(dynamic.kafka.instance_id, "");
}

// ------------------------------------------------------------ name mappings

namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

// The service a record of `service` gets under the loaded rules.
std::string mapped_service_of(const kafnus::config::settings& s, const std::string& service) {
  if (!s.mappings.rules) return service;
  const auto* rule = s.mappings.rules->match_service(service);
  if (!rule) return service;
  return kafnus::ngsi::mapped_service(*rule, service).value_or(service);
}

}  // namespace

TEST(ConfigLoaderMappings, NoneByDefault) {
  auto s = load_string(kMinimal, {});
  EXPECT_EQ(s.mappings.file, "");
  EXPECT_EQ(s.mappings.service_mappings, "[]");
  EXPECT_EQ(s.mappings.rules, nullptr);
}

TEST(ConfigLoaderMappings, InlineRulesInTheYaml) {
  auto s = load_string(std::string(kMinimal) + R"(
mappings:
  serviceMappings:
    - originalService: hotel(\d)
      newService: hotels_$1
      servicePathMappings:
        - originalServicePath: /suites
          entityMappings:
            - originalEntityId: suite.(\d*)
              newEntityId: suite_$1
)",
                       {});
  ASSERT_NE(s.mappings.rules, nullptr);
  EXPECT_EQ(mapped_service_of(s, "hotel1"), "hotels_1");
  EXPECT_EQ(mapped_service_of(s, "other"), "other");
  // Printed back by check-config as YAML, in the same structure.
  EXPECT_THAT(s.effective_yaml, AllOf(HasSubstr("mappings:"), HasSubstr("serviceMappings:"),
                                      HasSubstr("originalService: hotel(\\d)"), HasSubstr("newEntityId: suite_$1")));
}

TEST(ConfigLoaderMappings, TheCygnusFileAsItIs) {
  const auto path = write_temp("kafnus_name_mappings.json", R"js({
   "serviceMappings": [{"originalService": "hotel1", "newService": "hotels",
      "servicePathMappings": [{"originalServicePath": "/suites", "entityMappings": [
         {"originalEntityId": "suite.(\\d*)", "originalEntityType": "room", "newEntityId": "all_suites",
          "newEntityType": "room", "attributeMappings": []}]}]}]})js");
  auto s = load_string(std::string(kMinimal) + "mappings:\n  file: " + path + "\n", {});
  ASSERT_NE(s.mappings.rules, nullptr);
  EXPECT_EQ(s.mappings.file, path);
  EXPECT_EQ(mapped_service_of(s, "hotel1"), "hotels");
  EXPECT_THAT(s.effective_yaml, HasSubstr("file: " + path));
}

TEST(ConfigLoaderMappings, InlineRulesComeBeforeTheFile) {
  const auto path = write_temp("kafnus_name_mappings_order.json",
                               R"({"serviceMappings": [{"originalService": "a|b", "newService": "file"}]})");
  auto s = load_string(std::string(kMinimal) + "mappings:\n  file: " + path +
                           "\n  serviceMappings:\n    - originalService: a\n      newService: inline\n",
                       {});
  EXPECT_EQ(mapped_service_of(s, "a"), "inline");
  EXPECT_EQ(mapped_service_of(s, "b"), "file");
}

TEST(ConfigLoaderMappings, FromTheEnvironmentAsJson) {
  auto s =
      load_string(kMinimal, {{"KAFNUS_MAPPINGS_SERVICEMAPPINGS", R"([{"originalService": "x", "newService": "y"}])"}});
  EXPECT_EQ(mapped_service_of(s, "x"), "y");
  auto none = load_string(kMinimal, {{"KAFNUS_MAPPINGS_SERVICEMAPPINGS", ""}});
  EXPECT_EQ(none.mappings.rules, nullptr);
  EXPECT_THAT(rejection(kMinimal, {{"KAFNUS_MAPPINGS_SERVICEMAPPINGS", "[{"}}),
              HasSubstr("mappings.serviceMappings: not a JSON object"));
}

TEST(ConfigLoaderMappings, ABadRegularExpressionInTheFileNamesFileAndRule) {
  const auto path = write_temp("kafnus_name_mappings_bad.json", R"({"serviceMappings": [{"originalService": "s",
      "servicePathMappings": [{"originalServicePath": "/a", "entityMappings": [{}]},
                              {"originalServicePath": "(", "entityMappings": [{}]}]}]})");
  EXPECT_THAT(rejection(std::string(kMinimal) + "mappings:\n  file: " + path + "\n"),
              HasSubstr("test.yaml: mappings.file " + path +
                        ": serviceMappings[0].servicePathMappings[1].originalServicePath: invalid regular expression "
                        "'('"));
}

TEST(ConfigLoaderMappings, InlineProblemsNameTheRule) {
  EXPECT_THAT(rejection(std::string(kMinimal) + "mappings:\n  serviceMappings:\n    - originalService: a*+\n"),
              HasSubstr("mappings.serviceMappings[0].originalService: regular expression 'a*+' is not supported: a "
                        "possessive quantifier"));
  EXPECT_THAT(rejection(std::string(kMinimal) + "mappings:\n  serviceMappings:\n    - originalServise: a\n"),
              HasSubstr("mappings.serviceMappings[0]: unknown key 'originalServise'"));
  EXPECT_THAT(rejection(std::string(kMinimal) + "mappings:\n  serviceMappings:\n    - servicePathMappings: x\n"),
              HasSubstr("mappings.serviceMappings[0].servicePathMappings: expected a list of service path mappings, "
                        "got a string"));
  EXPECT_THAT(rejection(std::string(kMinimal) + "mappings:\n  serviceMappings:\n    originalService: a\n"),
              HasSubstr("mappings.serviceMappings: expected a list of mappings"));
  EXPECT_THAT(rejection(std::string(kMinimal) + "mappings:\n  servicemappings: []\n"),
              HasSubstr("unknown key 'mappings.servicemappings' (did you mean 'mappings.serviceMappings'?)"));
}

TEST(ConfigLoaderMappings, AnUnreadableOrInvalidFileIsRefused) {
  EXPECT_THAT(rejection(std::string(kMinimal) + "mappings:\n  file: /nonexistent/name_mappings.json\n"),
              HasSubstr("mappings.file: cannot read '/nonexistent/name_mappings.json'"));
  const auto path = write_temp("kafnus_name_mappings_invalid.json", "{\"serviceMappings\": [");
  EXPECT_THAT(rejection(std::string(kMinimal) + "mappings:\n  file: " + path + "\n"),
              HasSubstr("mappings.file " + path + ": not a JSON object"));
}

TEST(ConfigLoaderMappings, RulesThatNeverApplyAreWarnedOf) {
  auto s = load_string(std::string(kMinimal) + R"(
mappings:
  serviceMappings:
    - servicePathMappings:
        - originalServicePath: /a
          newServicePath: /b
)",
                       {});
  ASSERT_EQ(s.warnings.size(), 1u);
  EXPECT_THAT(s.warnings[0], HasSubstr("mappings.serviceMappings[0].servicePathMappings[0]: has no entityMappings"));
}
