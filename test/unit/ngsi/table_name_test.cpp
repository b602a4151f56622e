// Datamodels, sanitized identifiers and the table-name rule.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ngsi/table_name.hpp"

namespace kafnus::ngsi {
namespace {

using ::testing::HasSubstr;

fiware_context context(const std::string& service, const std::string& servicepath, const std::string& dm = "") {
  fiware_context ctx;
  ctx.service = service;
  ctx.servicepath = servicepath;
  ctx.datamodel = dm;
  return ctx;
}

TEST(Sanitize, LowerCasesAndMapsEverythingElseToUnderscore) {
  EXPECT_EQ(sanitize("Sensor"), "sensor");
  EXPECT_EQ(sanitize("Street-Light.v2"), "street_light_v2");
  EXPECT_EQ(sanitize("a b:c"), "a_b_c");
  EXPECT_EQ(sanitize("ok_123"), "ok_123");
}

TEST(Sanitize, StripsOneLeadingAndOneTrailingSlash) {
  EXPECT_EQ(sanitize("/simple"), "simple");
  EXPECT_EQ(sanitize("/simple/"), "simple");
  EXPECT_EQ(sanitize("/a/b"), "a_b");
  EXPECT_EQ(sanitize("//a//"), "_a_");
  EXPECT_EQ(sanitize("/"), "");
  EXPECT_EQ(sanitize("//"), "");
  EXPECT_EQ(sanitize(""), "");
}

TEST(Sanitize, MultiByteCharacterBecomesOneUnderscorePerByte) {
  EXPECT_EQ(sanitize("Caf\xC3\xA9"), "caf__");
  EXPECT_EQ(sanitize("\xF0\x9F\x94\xA5"), "____");
}

TEST(Sanitize, SqlInjectionBecomesHarmlessIdentifier) {
  const auto s = sanitize("x\"; DROP TABLE test.t; --");
  EXPECT_EQ(s, "x___drop_table_test_t____");
  for (char c : s) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << s;
}

TEST(Datamodel, NamesRoundTrip) {
  for (auto dm : {datamodel::by_entity_type_database, datamodel::by_entity_type_database_schema,
                  datamodel::by_fixed_entity_type_database_schema}) {
    EXPECT_EQ(parse_datamodel(to_string(dm)), dm);
  }
  EXPECT_EQ(to_string(datamodel::by_entity_type_database), "dm-by-entity-type-database");
  EXPECT_EQ(to_string(datamodel::by_entity_type_database_schema), "dm-by-entity-type-database-schema");
  EXPECT_EQ(to_string(datamodel::by_fixed_entity_type_database_schema), "dm-by-fixed-entity-type-database-schema");
  EXPECT_FALSE(parse_datamodel("dm-postgis-errors"));
  EXPECT_FALSE(parse_datamodel("DM-BY-ENTITY-TYPE-DATABASE"));
  EXPECT_FALSE(parse_datamodel(""));
}

TEST(ChooseDatamodel, HeaderWinsOverServiceDefaultAndFallback) {
  datamodel_rules rules;
  rules.per_service["testdatamodel"] = datamodel::by_entity_type_database_schema;
  auto dm = choose_datamodel(context("testdatamodel", "/simple", "dm-by-entity-type-database"), rules);
  ASSERT_TRUE(dm);
  EXPECT_EQ(dm.value(), datamodel::by_entity_type_database);
}

TEST(ChooseDatamodel, ServiceDefaultThenFallback) {
  datamodel_rules rules;
  rules.fallback = datamodel::by_fixed_entity_type_database_schema;
  rules.per_service["testdatamodel"] = datamodel::by_entity_type_database_schema;
  EXPECT_EQ(choose_datamodel(context("testdatamodel", "/s"), rules).value(), datamodel::by_entity_type_database_schema);
  EXPECT_EQ(choose_datamodel(context("other", "/s"), rules).value(), datamodel::by_fixed_entity_type_database_schema);
  EXPECT_EQ(choose_datamodel(context("other", "/s"), datamodel_rules{}).value(), datamodel::by_entity_type_database);
}

TEST(ChooseDatamodel, UnknownHeaderNamesValueAndAllowedOnes) {
  auto dm = choose_datamodel(context("test", "/s", "dm-by-magic"), datamodel_rules{});
  ASSERT_FALSE(dm);
  EXPECT_THAT(dm.err().message, HasSubstr("'dm-by-magic'"));
  EXPECT_THAT(dm.err().message, HasSubstr("fiware-datamodel"));
  EXPECT_THAT(dm.err().message, HasSubstr("dm-by-entity-type-database,"));
  EXPECT_THAT(dm.err().message, HasSubstr("dm-by-entity-type-database-schema"));
  EXPECT_THAT(dm.err().message, HasSubstr("dm-by-fixed-entity-type-database-schema"));
}

TEST(ChooseDatamodel, UnknownHeaderIsQuotedShort) {
  auto dm = choose_datamodel(context("test", "/s", std::string(5000, 'x')), datamodel_rules{});
  ASSERT_FALSE(dm);
  EXPECT_LT(dm.err().message.size(), 300u);
}

TEST(TableFor, ByEntityTypeDatabase) {
  const auto ctx = context("test", "/simple");
  EXPECT_EQ(table_for(datamodel::by_entity_type_database, ctx, "Sensor", flow::historic).value(),
            (table_ref{"test", "simple_sensor"}));
  EXPECT_EQ(table_for(datamodel::by_entity_type_database, ctx, "Sensor", flow::lastdata).value(),
            (table_ref{"test", "simple_sensor_lastdata"}));
  EXPECT_EQ(table_for(datamodel::by_entity_type_database, ctx, "Sensor", flow::mutable_).value(),
            (table_ref{"test", "simple_sensor_mutable"}));
}

TEST(TableFor, RootServicepathGivesUnderscoreType) {
  const auto ctx = context("test", "/");
  EXPECT_EQ(table_for(datamodel::by_entity_type_database, ctx, "Sensor", flow::historic).value(),
            (table_ref{"test", "_sensor"}));
  EXPECT_EQ(table_for(datamodel::by_entity_type_database, ctx, "Sensor", flow::lastdata).value(),
            (table_ref{"test", "_sensor_lastdata"}));
}

TEST(TableFor, ByEntityTypeDatabaseSchema) {
  const auto ctx = context("test", "/simple");
  EXPECT_EQ(table_for(datamodel::by_entity_type_database_schema, ctx, "Sensor", flow::historic).value(),
            (table_ref{"simple", "simple_sensor"}));
  EXPECT_EQ(table_for(datamodel::by_entity_type_database_schema, ctx, "Sensor", flow::mutable_).value(),
            (table_ref{"simple", "simple_sensor_mutable"}));
}

TEST(TableFor, ByFixedEntityTypeDatabaseSchema) {
  const auto ctx = context("test", "/simple");
  EXPECT_EQ(table_for(datamodel::by_fixed_entity_type_database_schema, ctx, "Sensor", flow::historic).value(),
            (table_ref{"simple", "sensor"}));
  EXPECT_EQ(table_for(datamodel::by_fixed_entity_type_database_schema, ctx, "Sensor", flow::lastdata).value(),
            (table_ref{"simple", "sensor_lastdata"}));
}

TEST(TableFor, NestedServicepath) {
  const auto ctx = context("city", "/parking/north");
  EXPECT_EQ(table_for(datamodel::by_entity_type_database, ctx, "Zone", flow::historic).value(),
            (table_ref{"city", "parking_north_zone"}));
  EXPECT_EQ(table_for(datamodel::by_entity_type_database_schema, ctx, "Zone", flow::historic).value(),
            (table_ref{"parking_north", "parking_north_zone"}));
}

TEST(TableFor, SchemaDatamodelsNeedAServicepath) {
  for (auto dm : {datamodel::by_entity_type_database_schema, datamodel::by_fixed_entity_type_database_schema}) {
    for (const std::string sp : {"/", "//"}) {
      auto t = table_for(dm, context("test", sp), "Sensor", flow::historic);
      ASSERT_FALSE(t) << sp;
      EXPECT_THAT(t.err().message, HasSubstr("Required header missing or empty: fiware-servicepath"));
      EXPECT_THAT(t.err().message, HasSubstr(std::string(to_string(dm))));
    }
  }
}

TEST(TableFor, EmptyTypeIsAnError) {
  auto t = table_for(datamodel::by_entity_type_database, context("test", "/s"), "", flow::historic);
  ASSERT_FALSE(t);
  EXPECT_THAT(t.err().message, HasSubstr("entity type is empty"));
}

TEST(TableFor, ServiceThatSanitizesToNothingIsAnError) {
  auto t = table_for(datamodel::by_entity_type_database, context("/", "/s"), "T", flow::historic);
  ASSERT_FALSE(t);
  EXPECT_THAT(t.err().message, HasSubstr("empty schema name"));
}

TEST(TableFor, SixtyThreeBytesFitSixtyFourDoNot) {
  const auto ctx = context("test", "/");
  const std::string type62(62, 't');  // "_" + 62 = 63
  auto ok = table_for(datamodel::by_entity_type_database, ctx, type62, flow::historic);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok.value().table.size(), 63u);
  auto too_long = table_for(datamodel::by_entity_type_database, ctx, type62 + "t", flow::historic);
  ASSERT_FALSE(too_long);
  EXPECT_THAT(too_long.err().message, HasSubstr("64 bytes"));
  EXPECT_THAT(too_long.err().message, HasSubstr("63"));
}

TEST(TableFor, FlowSuffixCountsTowardsTheLimit) {
  const auto ctx = context("test", "/");
  const std::string type(55, 't');  // "_" + 55 = 56; + "_lastdata" = 65
  EXPECT_TRUE(table_for(datamodel::by_entity_type_database, ctx, type, flow::historic));
  EXPECT_FALSE(table_for(datamodel::by_entity_type_database, ctx, type, flow::lastdata));
}

TEST(TableFor, OverlongSchemaIsAnError) {
  auto t = table_for(datamodel::by_entity_type_database, context(std::string(64, 's'), "/p"), "T", flow::historic);
  ASSERT_FALSE(t);
  EXPECT_THAT(t.err().message, HasSubstr("schema name"));
  auto t2 = table_for(datamodel::by_fixed_entity_type_database_schema, context("s", "/" + std::string(64, 'p')), "T",
                      flow::historic);
  ASSERT_FALSE(t2);
  EXPECT_THAT(t2.err().message, HasSubstr("fiware-servicepath"));
}

TEST(TableFor, HostileNamesOnlyEverGiveIdentifierBytes) {
  const auto ctx = context("x'; drop schema public cascade; --", "/\"; delete from t; --");
  auto t = table_for(datamodel::by_entity_type_database, ctx, "T\"); DROP TABLE x; --", flow::historic);
  ASSERT_TRUE(t);
  for (const auto& name : {t.value().schema, t.value().table}) {
    for (char c : name) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') << name;
  }
}

TEST(ErrorLogTable, IsServiceDotServiceErrorLog) {
  EXPECT_EQ(error_log_table("test"), (table_ref{"test", "test_error_log"}));
  EXPECT_EQ(error_log_table("Smart-City"), (table_ref{"smart_city", "smart_city_error_log"}));
}

TEST(ErrorLogTable, NeverEmptyNorOverlong) {
  EXPECT_EQ(error_log_table(""), (table_ref{"default", "default_error_log"}));
  EXPECT_EQ(error_log_table("/"), (table_ref{"default", "default_error_log"}));
  const auto t = error_log_table(std::string(100, 's'));
  EXPECT_EQ(t.schema.size(), 63u);
  EXPECT_EQ(t.table.size(), 63u);
  EXPECT_EQ(t.table.substr(53), "_error_log");
}

TEST(Flow, NamesSuffixesAndParsing) {
  EXPECT_EQ(to_string(flow::historic), "historic");
  EXPECT_EQ(to_string(flow::lastdata), "lastdata");
  EXPECT_EQ(to_string(flow::mutable_), "mutable");
  EXPECT_EQ(table_suffix(flow::historic), "");
  EXPECT_EQ(table_suffix(flow::lastdata), "_lastdata");
  EXPECT_EQ(table_suffix(flow::mutable_), "_mutable");
  for (auto f : kAllFlows) EXPECT_EQ(parse_flow(to_string(f)), f);
  EXPECT_FALSE(parse_flow("Historic"));
  EXPECT_FALSE(parse_flow("errors"));
}

}  // namespace
}  // namespace kafnus::ngsi
