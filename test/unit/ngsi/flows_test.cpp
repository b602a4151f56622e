// The flow rules: historic inserts, mutable and lastdata upsert, TimeInstant
// requirements, lastdata deletes.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ngsi_test_support.hpp"

namespace kafnus::ngsi {
namespace {

using testing::attr;
using testing::entity;
using ::testing::HasSubstr;
using testing::notification;
using testing::run;
using testing::time_instant;

const std::string kTemp = attr("temperature", "Float", "25.0");
const std::string kUpdate = attr("alterationType", "Text", "\"entityUpdate\"");
const std::string kDelete = attr("alterationType", "Text", "\"entityDelete\"");
constexpr std::int64_t k11 = 1750935600000000;  // 2025-06-26T11:00:00Z

TEST(Flows, HistoricInsertsIntoTheTypeTable) {
  const auto out = run(notification({entity("Sensor1", "Sensor", {time_instant(), kTemp})}), flow::historic);
  ASSERT_EQ(out.rows.size(), 1u);
  const row& r = out.rows[0];
  EXPECT_EQ(r.f, flow::historic);
  EXPECT_EQ(r.op, operation::insert);
  EXPECT_EQ(r.table(), (table_ref{"test", "simple_sensor"}));
  EXPECT_EQ(r.timeinstant_us, k11);
}

TEST(Flows, MutableUpserts) {
  const auto out = run(notification({entity("Sensor1", "Sensor", {time_instant(), kTemp})}), flow::mutable_);
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].f, flow::mutable_);
  EXPECT_EQ(out.rows[0].op, operation::upsert);
  EXPECT_EQ(out.rows[0].table(), (table_ref{"test", "simple_sensor_mutable"}));
  EXPECT_EQ(out.rows[0].timeinstant_us, k11);
}

TEST(Flows, LastdataUpserts) {
  const auto out = run(notification({entity("Sensor1", "Sensor", {time_instant(), kTemp, kUpdate})}), flow::lastdata);
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].f, flow::lastdata);
  EXPECT_EQ(out.rows[0].op, operation::upsert);
  EXPECT_EQ(out.rows[0].table(), (table_ref{"test", "simple_sensor_lastdata"}));
  EXPECT_EQ(out.rows[0].timeinstant_us, k11);
  EXPECT_FALSE(out.rows[0].find("alterationtype").has_value());
}

TEST(Flows, HistoricAndMutableNeedATimeInstant) {
  for (auto f : {flow::historic, flow::mutable_}) {
    const auto out =
        run(notification({entity("FLOW0", "AZUL", {kTemp})}), f, testing::orion_headers("test", "/notimeinstant"));
    EXPECT_TRUE(out.rows.empty());
    ASSERT_EQ(out.errors.size(), 1u);
    const auto& e = out.errors[0];
    EXPECT_THAT(e.message, HasSubstr("entity 'FLOW0' (type 'AZUL') has no TimeInstant"));
    EXPECT_THAT(e.message, HasSubstr("the " + std::string(to_string(f)) + " flow needs it"));
    EXPECT_THAT(e.message, HasSubstr("(entityid, timeinstant)"));
    EXPECT_EQ(e.service, "test");
    // The row it would have been, for the error log.
    ASSERT_TRUE(e.candidate);
    EXPECT_EQ(e.candidate->table().table, f == flow::historic ? "notimeinstant_azul" : "notimeinstant_azul_mutable");
    EXPECT_EQ(e.candidate->entity_id(), "FLOW0");
    ASSERT_TRUE(e.candidate->find("temperature").has_value());
    EXPECT_EQ(e.candidate->find("temperature")->val, value::number("25.0"));
    EXPECT_FALSE(e.candidate->timeinstant_us);
  }
}

TEST(Flows, NullTimeInstantIsMissingToo) {
  const auto out = run(notification({entity("E", "T", {attr("TimeInstant", "DateTime", "null"), kTemp})}));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("has a null TimeInstant"));
}

TEST(Flows, LastdataTimeInstantIsOptional) {
  const auto out = run(notification({entity("FLOW0", "AZUL", {kTemp})}), flow::lastdata);
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_TRUE(out.errors.empty());
  EXPECT_FALSE(out.rows[0].timeinstant_us);
  EXPECT_FALSE(out.rows[0].find(kTimeInstant).has_value());
}

// Issue 16.10: a lastdata TimeInstant that is an explicit null is treated as
// a missing one (conformance 004_lastdata/003): no column, so the upsert
// neither clears the stored TimeInstant nor skips the freshness rule only
// to overwrite a newer row with NULL.
TEST(Flows, LastdataNullTimeInstantIsAMissingOne) {
  for (const char* type : {"DateTime", "ISO8601", "Text"}) {
    const auto out = run(notification({entity("E", "T", {attr("TimeInstant", type, "null"), kTemp})}), flow::lastdata);
    ASSERT_EQ(out.rows.size(), 1u) << type;
    EXPECT_TRUE(out.errors.empty());
    EXPECT_FALSE(out.rows[0].find(kTimeInstant).has_value()) << type;
    EXPECT_FALSE(out.rows[0].timeinstant_us.has_value());
    EXPECT_TRUE(out.rows[0].find("temperature").has_value());
  }
}

TEST(Flows, TimeInstantIsATimestampWhateverItsType) {
  for (const char* type : {"DateTime", "Text", "ISO8601", "", "Number", "geo:point"}) {
    const auto out =
        run(notification({entity("E", "T", {attr("TimeInstant", type, "\"2025-06-26T13:00:00+02:00\"")})}));
    ASSERT_EQ(out.rows.size(), 1u) << type << ": " << (out.errors.empty() ? "" : out.errors[0].message);
    const auto c = out.rows[0].find(kTimeInstant);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->val.kind, value_kind::timestamp) << type;
    EXPECT_EQ(c->val.text, "2025-06-26 11:00:00.000000+00");
    EXPECT_EQ(out.rows[0].timeinstant_us, k11);
  }
}

TEST(Flows, TimeInstantMatchesInAnyCase) {
  const auto out = run(notification({entity("E", "T", {attr("timeinstant", "DateTime", "\"2025-06-26T11:00:00Z\"")})}));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].timeinstant_us, k11);
  const auto upper = run(notification({entity("E", "T", {attr("TIMEINSTANT", "Text", "\"2025-06-26T11:00:00Z\"")})}));
  ASSERT_EQ(upper.rows.size(), 1u);
  EXPECT_EQ(upper.rows[0].timeinstant_us, k11);
}

TEST(Flows, UnparseableTimeInstantIsAnErrorNamingIt) {
  for (auto f : kAllFlows) {
    for (const char* bad : {"\"null\"", "\"2025-06-26T25:00:00Z\"", "\"yesterday\"", "1750935600000", "true",
                            "{\"a\":1}", "[\"2025-06-26\"]"}) {
      const auto out = run(notification({entity("E", "T", {attr("TimeInstant", "Text", bad), kTemp})}), f);
      EXPECT_TRUE(out.rows.empty()) << bad;
      ASSERT_EQ(out.errors.size(), 1u) << bad;
      EXPECT_THAT(out.errors[0].message, HasSubstr("TimeInstant")) << bad;
      EXPECT_TRUE(out.errors[0].candidate) << bad;
    }
  }
}

TEST(Flows, LastdataDeleteRemovesByEntityIdOnly) {
  const auto out = run(notification({entity("Sensor1", "Sensor", {time_instant(), kTemp, kDelete})}), flow::lastdata,
                       testing::orion_headers("test", "/delete"));
  ASSERT_EQ(out.rows.size(), 1u);
  const row& r = out.rows[0];
  EXPECT_EQ(r.op, operation::remove);
  EXPECT_EQ(r.table(), (table_ref{"test", "delete_sensor_lastdata"}));
  ASSERT_EQ(r.columns.size(), 1u);
  EXPECT_EQ(r.columns[0].name, "entityid");
  EXPECT_EQ(r.columns[0].val, value::text_value("Sensor1"));
  EXPECT_EQ(r.entity_id(), "Sensor1");
}

TEST(Flows, EveryDeleteOfANotificationIsARemove) {
  const auto out = run(notification({entity("A", "Sensor", {time_instant(), kDelete}),
                                     entity("B", "Sensor", {time_instant(), kTemp, kUpdate}),
                                     entity("C", "Sensor", {attr("AlterationType", "Text", "\"ENTITYDELETE\"")}),
                                     entity("D", "Sensor", {R"("alterationType":"entityDelete")"})}),
                       flow::lastdata);
  ASSERT_EQ(out.rows.size(), 4u) << (out.errors.empty() ? "" : out.errors[0].message);
  EXPECT_EQ(out.rows[0].op, operation::remove);
  EXPECT_EQ(out.rows[1].op, operation::upsert);
  EXPECT_EQ(out.rows[2].op, operation::remove);
  EXPECT_EQ(out.rows[3].op, operation::remove);
}

TEST(Flows, DeleteIgnoresProblemsOfTheOtherAttributes) {
  const auto out =
      run(notification({entity("A", "Sensor", {attr("when", "DateTime", "\"not a date\""), kDelete})}), flow::lastdata);
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].op, operation::remove);
}

TEST(Flows, DeletesOnlyMatterToLastdata) {
  for (auto f : {flow::historic, flow::mutable_}) {
    const auto out = run(notification({entity("A", "Sensor", {time_instant(), kTemp, kDelete})}), f);
    ASSERT_EQ(out.rows.size(), 1u);
    EXPECT_NE(out.rows[0].op, operation::remove);
    EXPECT_FALSE(out.rows[0].find("alterationtype").has_value());
  }
}

TEST(Flows, OtherAlterationTypesAreUpserts) {
  for (const char* a : {"entityCreate", "entityUpdate", "entityChange", "deleteEntity", ""}) {
    const auto out =
        run(notification(
                {entity("A", "Sensor", {time_instant(), attr("alterationType", "Text", testing::json_string(a))})}),
            flow::lastdata);
    ASSERT_EQ(out.rows.size(), 1u) << a;
    EXPECT_EQ(out.rows[0].op, operation::upsert) << a;
  }
}

TEST(Flows, DeleteStillNeedsARoutableTable) {
  const auto out = run(notification({entity("A", "Sensor", {kDelete})}), flow::lastdata,
                       {{"fiware-service", "test"}, {"fiware-datamodel", "dm-by-entity-type-database-schema"}});
  EXPECT_TRUE(out.rows.empty());
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("fiware-servicepath"));
}

}  // namespace
}  // namespace kafnus::ngsi

TEST(FlowRules, KeyFreshnessAndDeletesAreThereOnce) {
  using kafnus::ngsi::flow;
  EXPECT_TRUE(kafnus::ngsi::keyed_by_time(flow::historic));
  EXPECT_TRUE(kafnus::ngsi::keyed_by_time(flow::mutable_));
  EXPECT_FALSE(kafnus::ngsi::keyed_by_time(flow::lastdata));
  EXPECT_EQ(kafnus::ngsi::key_columns(flow::lastdata), (std::vector<std::string_view>{"entityid"}));
  EXPECT_EQ(kafnus::ngsi::key_columns(flow::mutable_), (std::vector<std::string_view>{"entityid", "timeinstant"}));
  EXPECT_TRUE(kafnus::ngsi::replaces(flow::lastdata, 10, 10)) << "not older: replaces";
  EXPECT_FALSE(kafnus::ngsi::replaces(flow::lastdata, 10, 9)) << "older: kept out";
  EXPECT_TRUE(kafnus::ngsi::replaces(flow::lastdata, 10, std::nullopt)) << "no TimeInstant is never older";
  EXPECT_TRUE(kafnus::ngsi::replaces(flow::mutable_, 10, 9)) << "mutable: last write wins";
  EXPECT_TRUE(kafnus::ngsi::deletes_on_entity_delete(flow::lastdata));
  EXPECT_FALSE(kafnus::ngsi::deletes_on_entity_delete(flow::historic));
}
