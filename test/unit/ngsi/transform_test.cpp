// transform(): columns of a row, entities of a notification, and the errors
// that keep an entity from being a row.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ngsi_test_support.hpp"

namespace kafnus::ngsi {
namespace {

using testing::attr;
using ::testing::ElementsAre;
using testing::entity;
using ::testing::HasSubstr;
using testing::notification;
using testing::run;
using testing::time_instant;

std::vector<std::string> column_names(const row& r) {
  std::vector<std::string> names;
  for (const auto& c : r.columns) names.emplace_back(c.name);
  return names;
}

TEST(Transform, BaseColumnsThenAttributesInNotificationOrder) {
  const auto out = run(notification({entity("Sensor1", "Sensor",
                                            {attr("zeta", "Number", "1"), time_instant(),
                                             attr("Alpha", "Text", "\"a\""), attr("mIxEd", "Boolean", "true")})}));
  ASSERT_EQ(out.rows.size(), 1u);
  const row& r = out.rows[0];
  EXPECT_THAT(column_names(r), ElementsAre("entityid", "entitytype", "fiwareservicepath", "recvtime", "zeta",
                                           "timeinstant", "alpha", "mixed"));
  EXPECT_EQ(r.columns[0].val, value::text_value("Sensor1"));
  EXPECT_EQ(r.columns[1].val, value::text_value("Sensor"));
  EXPECT_EQ(r.columns[2].val, value::text_value("/simple"));
  EXPECT_EQ(r.columns[3].val, value::timestamp(testing::kNow));
  EXPECT_EQ(r.columns[3].val.text, "2025-06-26 11:00:00.000000+00");
  EXPECT_EQ(r.service(), "test");
  EXPECT_EQ(r.entity_id(), "Sensor1");
}

TEST(Transform, EntityIdAndTypeAreKeptAsSent) {
  const auto out = run(notification({entity("urn:ngsi-ld:Sensor:ABC-1", "StreetLight", {time_instant()})}));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].find("entityid")->val.text, "urn:ngsi-ld:Sensor:ABC-1");
  EXPECT_EQ(out.rows[0].find("entitytype")->val.text, "StreetLight");
  EXPECT_EQ(out.rows[0].table().table, "simple_streetlight");
}

TEST(Transform, RootServicepathColumnIsSlash) {
  const auto out =
      run(notification({entity("S", "Sensor", {time_instant()})}), flow::historic, {{"Fiware-Service", "test"}});
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].find("fiwareservicepath")->val.text, "/");
  EXPECT_EQ(out.rows[0].table(), (table_ref{"test", "_sensor"}));
}

TEST(Transform, IdTypeAndAlterationTypeAreNotAttributes) {
  const auto out = run(notification(
      {entity("S", "T",
              {time_instant(), attr("alterationType", "Text", "\"entityUpdate\""), attr("ID", "Text", "\"x\""),
               attr("Type", "Text", "\"y\""), attr("ALTERATIONTYPE", "Text", "\"z\"")})}));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_THAT(column_names(out.rows[0]),
              ElementsAre("entityid", "entitytype", "fiwareservicepath", "recvtime", "timeinstant"));
}

TEST(Transform, ManyEntitiesManyRows) {
  const auto out = run(notification({entity("A", "Sensor", {time_instant()}), entity("B", "Sensor", {time_instant()}),
                                     entity("C", "Meter", {time_instant()})}));
  ASSERT_EQ(out.rows.size(), 3u);
  EXPECT_EQ(out.entities, 3u);
  EXPECT_EQ(out.rows[0].entity_id(), "A");
  EXPECT_EQ(out.rows[2].table(), (table_ref{"test", "simple_meter"}));
}

TEST(Transform, OutputAccumulatesAcrossRecords) {
  transform_output out;
  transform(notification({entity("A", "T", {time_instant()})}), testing::orion_headers(), {}, testing::kNow, out);
  transform("junk", testing::orion_headers(), {}, testing::kNow, out);
  transform(notification({entity("B", "T", {time_instant()}), entity("C", "T", {})}), testing::orion_headers(), {},
            testing::kNow, out);
  EXPECT_EQ(out.rows.size(), 2u);
  EXPECT_EQ(out.errors.size(), 2u);
  EXPECT_EQ(out.entities, 3u);
}

TEST(Transform, OneBadEntityDoesNotCostTheOthers) {
  const auto out = run(notification({entity("Good1", "T", {time_instant()}), "\"not an entity\"",
                                     entity("Bad", "T", {time_instant(), attr("d", "DateTime", "\"2025-02-30\"")}),
                                     R"({"type":"T"})", entity("Good2", "T", {time_instant()}), "42",
                                     R"({"id":"NoType"})", entity("Good3", "T", {time_instant()})}));
  ASSERT_EQ(out.rows.size(), 3u);
  EXPECT_EQ(out.rows[0].entity_id(), "Good1");
  EXPECT_EQ(out.rows[1].entity_id(), "Good2");
  EXPECT_EQ(out.rows[2].entity_id(), "Good3");
  EXPECT_EQ(out.errors.size(), 5u);
  EXPECT_EQ(out.entities, 8u);
  for (const auto& e : out.errors) EXPECT_EQ(e.service, "test");
}

TEST(Transform, EntityThatIsNotAnObject) {
  const auto out = run(notification({entity("A", "T", {time_instant()}), "[1,2]"}));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("data[1] is an array, expected an entity object"));
  EXPECT_FALSE(out.errors[0].candidate);
}

TEST(Transform, EntityWithoutUsableIdOrType) {
  struct sample {
    const char* json;
    const char* says;
  };
  for (const auto& s : std::vector<sample>{{R"({"type":"T"})", "has no \"id\""},
                                           {R"({"id":5,"type":"T"})", "\"id\" that is a number"},
                                           {R"({"id":"","type":"T"})", "empty \"id\""},
                                           {R"({"id":null,"type":"T"})", "\"id\" that is null"},
                                           {R"({"id":"a\u0000b","type":"T"})", "NUL"},
                                           {R"({"id":"E"})", "entity 'E' (data[0]) has no \"type\""},
                                           {R"({"id":"E","type":""})", "empty \"type\""},
                                           {R"({"id":"E","type":["T"]})", "\"type\" that is an array"}}) {
    const auto out = run(notification({s.json}));
    ASSERT_EQ(out.errors.size(), 1u) << s.json;
    EXPECT_THAT(out.errors[0].message, HasSubstr(s.says)) << s.json;
    EXPECT_FALSE(out.errors[0].candidate);
    EXPECT_TRUE(out.rows.empty());
  }
}

// The id and type are the first members of those names wherever they are
// (Orion writes them first); "ID" is an attribute-like member, not the id.
TEST(Transform, TheFirstIdAndTypeNameTheEntityWhereverTheyAre) {
  for (const std::string members : {R"("type":"T","id":"A")", R"("id":"A","type":"T","id":"B","type":"U")",
                                    R"("ID":"B","x":{"type":"Number","value":1},"type":"T","id":"A")"}) {
    const std::string json = "{" + members + "," + time_instant() + "}";
    const auto out = run(notification({json}));
    ASSERT_EQ(out.rows.size(), 1u) << json << (out.errors.empty() ? "" : out.errors[0].message);
    EXPECT_EQ(out.rows[0].entity_id(), "A") << json;
    EXPECT_EQ(out.rows[0].find("entitytype")->val.text, "T") << json;
  }
}

TEST(Transform, AttributeThatIsNotAnObjectIsAnEntityError) {
  const auto out = run(
      notification({entity("E1", "T", {time_instant(), R"("temperature":25)"}), entity("E2", "T", {time_instant()})}));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].entity_id(), "E2");
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message,
              HasSubstr("entity 'E1' (type 'T'): attribute 'temperature' is a number, expected an object"));
  ASSERT_TRUE(out.errors[0].candidate);
  EXPECT_FALSE(out.errors[0].candidate->find("temperature").has_value());
  EXPECT_TRUE(out.errors[0].candidate->find("timeinstant").has_value());
}

TEST(Transform, AttributeTypeThatIsNotAString) {
  const auto out = run(notification({entity("E1", "T", {time_instant(), R"("a":{"type":3,"value":1})"})}));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("attribute 'a' has a \"type\" that is a number"));
}

TEST(Transform, AttributeNamesThatFoldToTheSameColumn) {
  const auto out = run(
      notification({entity("E1", "T", {time_instant(), attr("Temp", "Number", "1"), attr("temp", "Number", "2")})}));
  EXPECT_TRUE(out.rows.empty());
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("attributes 'Temp' and 'temp' both map to column 'temp'"));
  ASSERT_TRUE(out.errors[0].candidate);
  EXPECT_FALSE(out.errors[0].candidate->find("temp").has_value());
}

TEST(Transform, ExactDuplicateAttributeNames) {
  const auto out =
      run(notification({entity("E1", "T", {time_instant(), attr("x", "Number", "1"), attr("x", "Number", "2")})}));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("both map to column 'x'"));
}

TEST(Transform, DuplicateNamesAmongManyAttributes) {
  std::vector<std::string> attrs = {time_instant()};
  for (int i = 0; i < 100; ++i) attrs.push_back(attr("a" + std::to_string(i), "Number", std::to_string(i)));
  attrs.push_back(attr("A57", "Number", "0"));
  const auto out = run(notification({entity("E1", "T", attrs)}));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("'a57' and 'A57' both map to column 'a57'"));
}

// Every position of a clash among a few attributes (the scan that compares
// four names' hashes at a time), and the first pair by its first attribute
// is the one the error names.
TEST(Transform, AClashIsFoundAtEveryPositionAndTheFirstIsNamed) {
  for (int n : {3, 6, 9, 15}) {
    for (int i = 0; i < n; ++i) {
      for (int j = i + 1; j < n; ++j) {
        std::vector<std::string> attrs = {time_instant()};
        for (int k = 0; k < n; ++k) {
          attrs.push_back(attr(k == j ? "X" + std::to_string(i) : "x" + std::to_string(k), "Number", "1"));
        }
        const auto out = run(notification({entity("E1", "T", attrs)}));
        ASSERT_EQ(out.errors.size(), 1u) << n << " " << i << " " << j;
        EXPECT_THAT(out.errors[0].message,
                    HasSubstr("attributes 'x" + std::to_string(i) + "' and 'X" + std::to_string(i) +
                              "' both map to column 'x" + std::to_string(i) + "'"))
            << n << " " << i << " " << j;
      }
    }
  }
  std::vector<std::string> attrs = {time_instant()};
  for (const char* name : {"a", "b", "c", "C", "d", "e", "f", "B"}) attrs.push_back(attr(name, "Number", "1"));
  const auto out = run(notification({entity("E1", "T", attrs)}));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("attributes 'b' and 'B' both map to column 'b'"));
}

// The one-pass check before that scan keeps its hashes in a table where 0
// marks a free slot: a column whose hash's low 32 bits are 0 is counted
// apart, and two of them still clash.
TEST(Transform, AClashOfAColumnWhoseHashEndsInZeroIsFound) {
  const std::string zero = "z1fbfc04f";  // found by search; the check below says if the hash changed
  ASSERT_EQ(static_cast<std::uint32_t>(column_builder::name_hash(zero)), 0u)
      << "find another name whose hash's low 32 bits are 0";
  const auto clash = run(notification({entity(
      "E1", "T",
      {time_instant(), attr(zero, "Number", "1"), attr("a", "Number", "2"), attr("Z1FBFC04F", "Number", "3")})}));
  ASSERT_EQ(clash.errors.size(), 1u);
  EXPECT_THAT(clash.errors[0].message, HasSubstr("attributes 'z1fbfc04f' and 'Z1FBFC04F' both map to column"));
  const auto alone =
      run(notification({entity("E1", "T", {time_instant(), attr(zero, "Number", "1"), attr("a", "Number", "2")})}));
  EXPECT_TRUE(alone.errors.empty());
  EXPECT_EQ(alone.rows.size(), 1u);
}

TEST(Transform, AttributesCollidingWithBaseColumns) {
  for (const char* name : {"recvTime", "entityId", "EntityType", "fiwareServicePath", "RECVTIME"}) {
    const auto out = run(notification({entity("E1", "T", {time_instant(), attr(name, "Text", "\"x\"")})}));
    EXPECT_TRUE(out.rows.empty()) << name;
    ASSERT_EQ(out.errors.size(), 1u) << name;
    EXPECT_THAT(out.errors[0].message, HasSubstr("attribute '" + std::string(name) + "' collides with column"));
    EXPECT_THAT(out.errors[0].message, HasSubstr("Kafnus fills itself"));
  }
}

TEST(Transform, EmptyAttributeName) {
  const auto out = run(notification({entity("E1", "T", {time_instant(), attr("", "Text", "\"x\"")})}));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("empty name"));
}

TEST(Transform, OnlyTheFirstProblemIsToldWithACountOfTheRest) {
  const auto out = run(notification({entity("E1", "T",
                                            {time_instant(), attr("a", "DateTime", "\"x\""),
                                             attr("b", "DateTime", "\"y\""), attr("c", "geo:point", "\"z\"")})}));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("attribute 'a'"));
  EXPECT_THAT(out.errors[0].message, HasSubstr("(and 2 more problem(s) in this entity)"));
}

TEST(Transform, MoreAttributesThanTheLimit) {
  transform_options o;
  o.lim.max_attributes = 3;
  std::vector<std::string> attrs = {time_instant(), attr("a", "Number", "1"), attr("b", "Number", "2")};
  EXPECT_EQ(run(notification({entity("E1", "T", attrs)}), o).rows.size(), 1u);
  attrs.push_back(attr("c", "Number", "3"));
  const auto out = run(notification({entity("E1", "T", attrs)}), o);
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("has 4 attributes, more than limits.max_attributes (3)"));
}

TEST(Transform, ReservedMembersDoNotCountAsAttributes) {
  transform_options o;
  o.lim.max_attributes = 1;
  const auto out =
      run(notification({entity("E1", "T", {time_instant(), attr("alterationType", "Text", "\"entityUpdate\"")})}), o);
  EXPECT_EQ(out.rows.size(), 1u);
  // In any case, and only those names: "ID", "Type" and "ALTERATIONTYPE" are
  // not columns; "ids", "typ" and "alterationTypes" are.
  const auto mixed = run(notification(
      {entity("E1", "T",
              {time_instant(), R"("ID":"x")", R"("Type":"y")", attr("ALTERATIONTYPE", "Text", "\"entityUpdate\""),
               attr("ids", "Number", "1"), attr("typ", "Number", "2"), attr("alterationTypes", "Number", "3")})}));
  ASSERT_EQ(mixed.rows.size(), 1u) << (mixed.errors.empty() ? "" : mixed.errors[0].message);
  for (const char* kept : {"ids", "typ", "alterationtypes"}) EXPECT_TRUE(mixed.rows[0].find(kept)) << kept;
  for (const char* gone : {"id", "type", "alterationtype"}) EXPECT_FALSE(mixed.rows[0].find(gone)) << gone;
}

TEST(Transform, TableErrorsAreEntityErrorsWithoutCandidate) {
  const auto out = run(
      notification({entity("E1", std::string(70, 'T'), {time_instant()}), entity("E2", "Short", {time_instant()})}));
  ASSERT_EQ(out.rows.size(), 1u);
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("entity 'E1'"));
  EXPECT_THAT(out.errors[0].message, HasSubstr("PostgreSQL identifiers hold at most 63 bytes"));
  EXPECT_FALSE(out.errors[0].candidate);
}

TEST(Transform, DatamodelsFromHeaderServiceRuleAndFallback) {
  transform_options o;
  o.datamodels.per_service["testdatamodel"] = datamodel::by_entity_type_database_schema;
  const std::string n = notification({entity("S", "Sensor", {time_instant()})});
  EXPECT_EQ(run(n, o, testing::orion_headers("testdatamodel", "/simple")).rows.at(0).table(),
            (table_ref{"simple", "simple_sensor"}));
  EXPECT_EQ(run(n, o, testing::orion_headers("test", "/simple")).rows.at(0).table(),
            (table_ref{"test", "simple_sensor"}));
  auto h = testing::orion_headers("testdatamodel", "/simple");
  h.emplace_back("fiware-datamodel", "dm-by-entity-type-database");
  EXPECT_EQ(run(n, o, h).rows.at(0).table(), (table_ref{"testdatamodel", "simple_sensor"}));
  h.back().second = "dm-by-fixed-entity-type-database-schema";
  EXPECT_EQ(run(n, o, h).rows.at(0).table(), (table_ref{"simple", "sensor"}));
}

// An entity's table is named again whenever what names it changes from the
// entity before on the thread (which is otherwise remembered): its type, the
// service, the servicepath, the flow, the datamodel; and after an entity
// whose table could not be named.
TEST(Transform, EachEntityGetsTheTableOfWhatItCarries) {
  const auto tables = [](const transform_output& out) {
    std::vector<std::string> names;
    for (const auto& r : out.rows) names.push_back(r.table().schema + "." + r.table().table);
    return names;
  };
  EXPECT_THAT(tables(run(notification({entity("A", "Sensor", {time_instant()}), entity("B", "Light", {time_instant()}),
                                       entity("C", "Sensor", {time_instant()})}))),
              ElementsAre("test.simple_sensor", "test.simple_light", "test.simple_sensor"));
  const std::string n = notification({entity("S", "Sensor", {time_instant()})});
  EXPECT_THAT(tables(run(n, flow::historic, testing::orion_headers("test", "/simple"))),
              ElementsAre("test.simple_sensor"));
  EXPECT_THAT(tables(run(n, flow::historic, testing::orion_headers("test", "/other"))),
              ElementsAre("test.other_sensor"));
  EXPECT_THAT(tables(run(n, flow::historic, testing::orion_headers("test2", "/other"))),
              ElementsAre("test2.other_sensor"));
  EXPECT_THAT(tables(run(n, flow::lastdata, testing::orion_headers("test2", "/other"))),
              ElementsAre("test2.other_sensor_lastdata"));
  auto h = testing::orion_headers("test2", "/other");
  h.emplace_back("fiware-datamodel", "dm-by-entity-type-database-schema");
  EXPECT_THAT(tables(run(n, flow::lastdata, h)), ElementsAre("other.other_sensor_lastdata"));
  const auto too_long = run(n, flow::lastdata, testing::orion_headers(std::string(70, 's'), "/other"));
  EXPECT_TRUE(too_long.rows.empty());
  ASSERT_EQ(too_long.errors.size(), 1u);
  EXPECT_THAT(tables(run(n, flow::lastdata, testing::orion_headers("test2", "/other"))),
              ElementsAre("test2.other_sensor_lastdata"));
}

TEST(Transform, SchemaDatamodelWithoutServicepathIsAnErrorPerEntity) {
  const header_list h = {{"Fiware-Service", "test"}, {"fiware-datamodel", "dm-by-entity-type-database-schema"}};
  const auto out = run(notification({entity("Sensor1", "Sensor", {time_instant()})}), flow::historic, h);
  EXPECT_TRUE(out.rows.empty());
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("Required header missing or empty: fiware-servicepath"));
  EXPECT_EQ(out.errors[0].service, "test");
}

TEST(Transform, RowByteSizeAndFind) {
  const auto out = run(notification(
      {entity("E1", "T", {time_instant(), attr("blob", "Text", testing::json_string(std::string(1000, 'x')))})}));
  ASSERT_EQ(out.rows.size(), 1u);
  const row& r = out.rows[0];
  EXPECT_GT(r.byte_size(), 1000u);
  EXPECT_LT(r.byte_size(), 2000u);
  EXPECT_EQ(r.find("blob")->val.text.size(), 1000u);
  EXPECT_FALSE(r.find("missing").has_value());
  row empty;
  EXPECT_FALSE(empty.find("entityid").has_value());
  EXPECT_GE(empty.byte_size(), sizeof(row));
}

TEST(Transform, RowsOfOneTableShareOneTargetAndEachNamesItsOwn) {
  const auto out = run(notification({entity("A1", "Alpha", {time_instant()}), entity("A2", "Alpha", {time_instant()}),
                                     entity("B1", "Beta", {time_instant()}), entity("A3", "Alpha", {time_instant()})}));
  ASSERT_EQ(out.rows.size(), 4u);
  EXPECT_EQ(out.rows[0].target(), out.rows[1].target());  // one allocation for both, not one each
  EXPECT_NE(out.rows[1].target(), out.rows[2].target());
  EXPECT_EQ(out.rows[0].table(), (table_ref{"test", "simple_alpha"}));
  EXPECT_EQ(out.rows[2].table(), (table_ref{"test", "simple_beta"}));
  EXPECT_EQ(out.rows[3].table(), (table_ref{"test", "simple_alpha"}));
  EXPECT_EQ(out.rows[3].target(), out.rows[0].target());  // Alpha again after Beta: still the same one
  for (const auto& r : out.rows) EXPECT_EQ(r.service(), "test");
  // The same type under another service: another table, and that service.
  const auto other = run(notification({entity("A1", "Alpha", {time_instant()})}), flow::historic,
                         testing::orion_headers("other", "/simple"));
  ASSERT_EQ(other.rows.size(), 1u);
  EXPECT_EQ(other.rows[0].table(), (table_ref{"other", "simple_alpha"}));
  EXPECT_EQ(other.rows[0].service(), "other");
  // A shared target counts in no row's size; a row's own counts in its.
  row alone = out.rows[0];
  const std::size_t shared_size = alone.byte_size();
  alone.set_service("a_service_name_longer_than_fifteen_bytes");
  EXPECT_GT(alone.byte_size(), shared_size + sizeof(row_target) + 39);
}

TEST(Transform, MoreTablesThanATargetCacheHoldsAreEachNamedRight) {
  // A thread keeps up to 1,024 targets, then starts again: rows made before
  // keep theirs, and every table is still named after its own entity.
  std::vector<row> rows;
  for (int i = 0; i < 2500; ++i) {
    const std::string type = "T" + std::to_string(i % 1300);
    auto out = run(notification({entity("E", type, {time_instant()})}), flow::historic,
                   testing::orion_headers(i % 2 == 0 ? "even" : "odd", "/p"));
    ASSERT_EQ(out.rows.size(), 1u);
    rows.push_back(std::move(out.rows[0]));
  }
  for (int i = 0; i < 2500; ++i) {
    const std::string service = i % 2 == 0 ? "even" : "odd";
    ASSERT_EQ(rows[i].table(), (table_ref{service, "p_t" + std::to_string(i % 1300)})) << i;
    ASSERT_EQ(rows[i].service(), service) << i;
  }
}

TEST(Transform, SettingARowsTableKeepsItsServiceAndTheOtherWayRound) {
  row r;
  EXPECT_EQ(r.table(), table_ref{});
  EXPECT_EQ(r.service(), "");
  r.set_table({"s", "t"});
  r.set_service("svc");
  EXPECT_EQ(r.table(), (table_ref{"s", "t"}));
  r.set_table({"s", "u"});
  EXPECT_EQ(r.service(), "svc");
  const row copy = r;
  r.set_service("other");
  EXPECT_EQ(r.table(), (table_ref{"s", "u"}));
  EXPECT_EQ(copy.service(), "svc");  // a copy keeps what it had
}
TEST(Transform, TheStreetlightEntityOfTheConformanceCase) {
  const std::string payload =
      R"({"subscriptionId": "000000000000000000000004", "data": [{"id": "ENT-LUM-001", "type": "Streetlight",
    "TimeInstant": {"type": "DateTime", "value": "2025-01-01T05:15:00.000Z", "metadata": {}},
    "location": {"type": "geo:json", "value": {"type": "Point", "coordinates": [-1.350063, 1.054448]}, "metadata": {}},
    "address": {"type": "Text", "value": "Calle X, X. XXXX X, X", "metadata": {}},
    "illuminanceLevel": {"type": "Number", "value": 0.5, "metadata": {}},
    "enableHistoricCommand": {"type": "Boolean", "value": true, "metadata": {}},
    "variables": {"type": "jsonb", "value": {"duration": "20 days"}, "metadata": {}},
    "fixtureConfiguration": {"type": "json", "value": {"modes": ["high-efficiency", "dynamic-color"], "sensors": {"motion": true, "ambient_light": false}, "zigbee_channel": 25}, "metadata": {}},
    "wattageConsumption": {"type": "Number", "value": 198900.0, "metadata": {}},
    "dimmingLevels": {"type": "json", "value": [10, 25, 50, 75, 100], "metadata": {}}}]})";
  const auto out = run(payload, flow::historic, testing::orion_headers("test", "/lighting"));
  ASSERT_EQ(out.rows.size(), 1u) << (out.errors.empty() ? "" : out.errors[0].message);
  const row& r = out.rows[0];
  EXPECT_EQ(r.table(), (table_ref{"test", "lighting_streetlight"}));
  EXPECT_EQ(r.find("timeinstant")->val.text, "2025-01-01 05:15:00.000000+00");
  EXPECT_EQ(r.find("location")->val.kind, value_kind::geometry);
  EXPECT_EQ(r.find("address")->val, value::text_value("Calle X, X. XXXX X, X"));
  EXPECT_EQ(r.find("illuminancelevel")->val, value::number("0.5"));
  EXPECT_EQ(r.find("enablehistoriccommand")->val, value::boolean(true));
  EXPECT_EQ(r.find("variables")->val, value::json(R"({"duration":"20 days"})"));
  EXPECT_EQ(
      r.find("fixtureconfiguration")->val,
      value::json(
          R"({"modes":["high-efficiency","dynamic-color"],"sensors":{"motion":true,"ambient_light":false},"zigbee_channel":25})"));
  EXPECT_EQ(r.find("wattageconsumption")->val, value::number("198900.0"));
  EXPECT_EQ(r.find("dimminglevels")->val, value::json("[10,25,50,75,100]"));
}

}  // namespace
}  // namespace kafnus::ngsi

namespace kafnus::ngsi {
namespace {

// The rows and errors of each flow of transform_flows, split by its calls.
std::vector<transform_output> by_flow(const std::string& payload, const header_list& headers) {
  const auto historic = testing::options_for(flow::historic);
  const auto lastdata = testing::options_for(flow::lastdata);
  const auto mutable_ = testing::options_for(flow::mutable_);
  transform_output all;
  std::vector<transform_output> split;
  std::size_t rows = 0, errors = 0, entities = 0;
  transform_flows(payload, headers, {&historic, &lastdata, &mutable_}, testing::kNow, all, [&](std::size_t k) {
    EXPECT_EQ(k, split.size()) << "flows are reported in order, once each";
    transform_output o;
    o.rows.assign(all.rows.begin() + static_cast<std::ptrdiff_t>(rows), all.rows.end());
    o.errors.assign(all.errors.begin() + static_cast<std::ptrdiff_t>(errors), all.errors.end());
    o.entities = all.entities - entities;
    rows = all.rows.size();
    errors = all.errors.size();
    entities = all.entities;
    split.push_back(std::move(o));
  });
  return split;
}

std::string texts(const transform_output& o) {
  std::string s;
  for (const auto& r : o.rows) {
    s += r.table().schema + "." + r.table().table + ":";
    for (const auto& c : r.columns) s += std::string(c.name) + "=" + std::string(c.val.text) + ",";
    s += "\n";
  }
  for (const auto& e : o.errors) s += "error " + e.service + ": " + e.message + "\n";
  return s + "entities " + std::to_string(o.entities);
}

TEST(TransformFlows, ARecordReadOnceGivesEachFlowWhatItsOwnTransformGives) {
  const std::vector<std::string> payloads = {
      notification({entity("S1", "Sensor", {time_instant(), attr("t", "Number", "21.5")}),
                    entity("S2", "Sensor", {attr("t", "Number", "3")})}),  // no TimeInstant: historic and mutable fail
      "not json at all",
      notification({}),
  };
  for (const auto& payload : payloads) {
    const auto split = by_flow(payload, testing::orion_headers());
    ASSERT_EQ(split.size(), 3u) << payload;
    const flow flows[] = {flow::historic, flow::lastdata, flow::mutable_};
    for (std::size_t k = 0; k < 3; ++k) {
      EXPECT_EQ(texts(split[k]), texts(run(payload, flows[k]))) << payload << " flow " << k;
    }
  }
  // A header no flow can store: the same error once per flow.
  const auto bad = by_flow(notification({}), testing::orion_headers("test", std::string("/a\0b", 4)));
  ASSERT_EQ(bad.size(), 3u);
  for (const auto& o : bad) EXPECT_EQ(o.errors.size(), 1u);
}

}  // namespace
}  // namespace kafnus::ngsi
