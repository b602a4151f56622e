// Planning a transaction: grouping by table and shape, folding rows of one
// key the way the database would, keeping offset order across shapes, and
// the unknown-column policies.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <thread>

#include "postgis/binary_copy.hpp"
#include "postgis/statements.hpp"
#include "postgis/write_plan.hpp"

using namespace kafnus;
using ngsi::value;

namespace {

ngsi::row make_row(ngsi::flow f, const std::string& entity, std::optional<std::int64_t> ti_seconds,
                   const std::vector<ngsi::column>& attrs, const std::string& table = "s_sensor") {
  ngsi::row r;
  r.f = f;
  r.op = f == ngsi::flow::historic ? ngsi::operation::insert : ngsi::operation::upsert;
  r.set_table({"test", table + std::string(ngsi::table_suffix(f))});
  r.set_service("test");
  r.columns.push_back({"entityid", value::text_value(entity)});
  r.columns.push_back({"entitytype", value::text_value("Sensor")});
  r.columns.push_back({"fiwareservicepath", value::text_value("/s")});
  r.columns.push_back({"recvtime", value::timestamp(1'000'000)});
  if (ti_seconds) {
    r.columns.push_back({"timeinstant", value::timestamp(*ti_seconds * 1'000'000)});
    r.timeinstant_us = *ti_seconds * 1'000'000;
  }
  for (const auto& a : attrs) r.columns.push_back(a);
  return r;
}

ngsi::row remove_row(const std::string& entity) {
  ngsi::row r;
  r.f = ngsi::flow::lastdata;
  r.op = ngsi::operation::remove;
  r.set_table({"test", "s_sensor_lastdata"});
  r.set_service("test");
  r.columns.push_back({"entityid", value::text_value(entity)});
  return r;
}

// The base columns as Kafnus's tables declare them (both times with time zone).
std::vector<postgis::column_info> base_columns_with_time_zone() {
  return {{"entityid", "text", false},
          {"entitytype", "text", false},
          {"fiwareservicepath", "text", false},
          {"recvtime", "timestamp with time zone", false},
          {"timeinstant", "timestamp with time zone", false}};
}

postgis::table_schema full_schema() {
  postgis::table_schema s;
  s.exists = true;
  for (const char* c : {"entityid", "entitytype", "fiwareservicepath", "recvtime", "timeinstant", "temperature"}) {
    s.columns.push_back({c, "text", false});
  }
  s.columns.push_back({"payload", "jsonb", true});
  return s;
}

struct planner_fixture {
  postgis::table_schema schema = full_schema();
  postgis::table_schema missing;  // exists = false
  std::vector<ngsi::row> rows;
  postgis::shape_cache* cache = nullptr;

  postgis::write_plan plan(postgis::unknown_column_policy policy = postgis::unknown_column_policy::error) {
    std::vector<postgis::tagged_row> tagged;
    for (std::size_t i = 0; i < rows.size(); ++i) tagged.push_back({&rows[i], i});
    return postgis::build_plan(
        tagged,
        [&](const ngsi::table_ref& t) -> const postgis::table_schema& {
          return t.table.rfind("missing", 0) == 0 ? missing : schema;
        },
        policy, cache);
  }
};

}  // namespace

TEST(WritePlan, RowsOfOneTableAndShapeMakeOneGroup) {
  planner_fixture f;
  for (int i = 0; i < 5; ++i) {
    f.rows.push_back(make_row(ngsi::flow::historic, "E" + std::to_string(i), i, {{"temperature", value::number("1")}}));
  }
  auto p = f.plan();
  ASSERT_EQ(p.groups.size(), 1u);
  EXPECT_EQ(p.groups[0].rows.size(), 5u);
  EXPECT_EQ(p.groups[0].op, ngsi::operation::insert);
}

// Each processor seals its rows with layouts of its own: rows of one shape
// from several processors are still one group, and a row whose layout the
// planner has seen for one shape is still told apart by its kinds.
TEST(WritePlan, RowsSealedOnDifferentThreadsJoinTheirShapesGroup) {
  planner_fixture f;
  for (int i = 0; i < 9; ++i) {
    f.rows.push_back(make_row(ngsi::flow::historic, "E" + std::to_string(i), i, {{"temperature", value::number("1")}}));
  }
  f.rows.push_back(make_row(ngsi::flow::historic, "T", 9, {{"temperature", value::text_value("warm")}}));
  for (int t = 0; t < 3; ++t) {
    std::thread([&f, t] {
      for (std::size_t i = static_cast<std::size_t>(t); i < f.rows.size(); i += 3) f.rows[i].columns.seal();
    }).join();
  }
  ASSERT_NE(f.rows[0].columns.layout(), f.rows[1].columns.layout());
  ASSERT_EQ(f.rows[0].columns.layout(), f.rows[3].columns.layout());
  auto p = f.plan();
  ASSERT_EQ(p.groups.size(), 2u);
  ASSERT_EQ(p.groups[0].rows.size(), 9u);
  for (std::size_t i = 0; i < 9; ++i) EXPECT_EQ(p.groups[0].rows[i].row, &f.rows[i]);
  ASSERT_EQ(p.groups[1].rows.size(), 1u);
  EXPECT_EQ(p.groups[1].rows[0].row, &f.rows[9]);
}

TEST(WritePlan, TheSameColumnsInAnotherOrderJoinTheGroupEachRowMappedByName) {
  planner_fixture f;
  f.rows.push_back(
      make_row(ngsi::flow::historic, "A", 1, {{"temperature", value::number("1")}, {"payload", value::json("{}")}}));
  f.rows.push_back(
      make_row(ngsi::flow::historic, "B", 2, {{"payload", value::json("[2]")}, {"temperature", value::number("2")}}));
  f.rows.push_back(
      make_row(ngsi::flow::historic, "C", 3, {{"temperature", value::number("3")}, {"payload", value::json("[3]")}}));
  auto p = f.plan();
  ASSERT_EQ(p.groups.size(), 1u);
  const auto& g = p.groups[0];
  ASSERT_EQ(g.rows.size(), 3u);
  auto value_of = [&](std::size_t row, const std::string& column) {
    for (std::size_t i = 0; i < g.columns.size(); ++i) {
      if (g.columns[i].name == column) {
        return std::string(g.rows[row].row->columns[g.rows[row].value_index[i]].val.text);
      }
    }
    return std::string("?");
  };
  EXPECT_EQ(value_of(0, "temperature"), "1");
  EXPECT_EQ(value_of(1, "temperature"), "2");
  EXPECT_EQ(value_of(1, "payload"), "[2]");
  EXPECT_EQ(value_of(2, "payload"), "[3]");
}

TEST(WritePlan, AKeyFoldsAcrossColumnOrdersAndEachTableKeepsItsOwnKeys) {
  planner_fixture f;
  f.rows.push_back(
      make_row(ngsi::flow::lastdata, "S", 10, {{"temperature", value::number("1")}, {"payload", value::json("{}")}}));
  f.rows.push_back(
      make_row(ngsi::flow::lastdata, "S", 20, {{"payload", value::json("[2]")}, {"temperature", value::number("2")}}));
  // The same entity in another table is another key.
  f.rows.push_back(make_row(ngsi::flow::lastdata, "S", 5, {{"temperature", value::number("9")}}, "other"));
  auto p = f.plan();
  ASSERT_EQ(p.groups.size(), 2u);
  ASSERT_EQ(p.groups[0].rows.size(), 1u);
  EXPECT_EQ(p.groups[0].rows[0].row, &f.rows[1]);
  EXPECT_EQ(p.groups[0].folded, 1u);
  EXPECT_EQ(p.groups[1].rows.size(), 1u);
  EXPECT_EQ(p.groups[1].folded, 0u);
}

TEST(WritePlan, LastdataKeepsTheNewestTimeInstantOfAKey) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::lastdata, "S3", 1230, {{"temperature", value::number("25")}}));
  f.rows.push_back(make_row(ngsi::flow::lastdata, "S3", 1210, {{"temperature", value::number("23")}}));
  f.rows.push_back(make_row(ngsi::flow::lastdata, "S3", 1220, {{"temperature", value::number("24")}}));
  auto p = f.plan();
  ASSERT_EQ(p.groups.size(), 1u);
  ASSERT_EQ(p.groups[0].rows.size(), 1u);
  EXPECT_EQ(p.groups[0].rows[0].row, &f.rows[0]);
  EXPECT_EQ(p.groups[0].folded, 2u);
}

TEST(WritePlan, LastdataTiesGoToTheLaterRow) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::lastdata, "S", 100, {{"temperature", value::number("1")}}));
  f.rows.push_back(make_row(ngsi::flow::lastdata, "S", 100, {{"temperature", value::number("2")}}));
  auto p = f.plan();
  ASSERT_EQ(p.groups[0].rows.size(), 1u);
  EXPECT_EQ(p.groups[0].rows[0].row, &f.rows[1]);
}

TEST(WritePlan, MutableLastWriteWinsPerEntityAndTimeInstant) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::mutable_, "S", 1200, {{"temperature", value::number("25")}}));
  f.rows.push_back(make_row(ngsi::flow::mutable_, "S", 1230, {{"temperature", value::number("23")}}));
  f.rows.push_back(make_row(ngsi::flow::mutable_, "S", 1200, {{"temperature", value::number("24")}}));
  auto p = f.plan();
  ASSERT_EQ(p.groups.size(), 1u);
  ASSERT_EQ(p.groups[0].rows.size(), 2u);
  EXPECT_EQ(p.groups[0].rows[0].row, &f.rows[2]);  // 12:00 -> 24, in the slot of the first 12:00
  EXPECT_EQ(p.groups[0].rows[1].row, &f.rows[1]);
}

TEST(WritePlan, HistoricDuplicatesAreKeptForTheDatabaseToJudge) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::historic, "S", 1, {{"temperature", value::number("15")}}));
  f.rows.push_back(make_row(ngsi::flow::historic, "S", 1, {{"temperature", value::number("16")}}));
  auto p = f.plan();
  ASSERT_EQ(p.groups.size(), 1u);
  ASSERT_EQ(p.groups[0].rows.size(), 2u);
  EXPECT_EQ(p.groups[0].rows[0].row, &f.rows[0]);  // the first one is inserted first
}

TEST(WritePlan, AKeyReturningWithAnotherShapeStartsANewSegmentInOrder) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::lastdata, "S1", 1, {{"temperature", value::number("21")}}));
  f.rows.push_back(remove_row("S1"));
  f.rows.push_back(make_row(ngsi::flow::lastdata, "S1", 3, {{"temperature", value::number("22")}}));
  auto p = f.plan();
  ASSERT_EQ(p.groups.size(), 3u);
  EXPECT_EQ(p.groups[0].op, ngsi::operation::upsert);
  EXPECT_EQ(p.groups[1].op, ngsi::operation::remove);
  EXPECT_EQ(p.groups[2].op, ngsi::operation::upsert);
  EXPECT_EQ(p.groups[2].rows[0].row, &f.rows[2]);
}

TEST(WritePlan, ANullValueIsItsOwnShape) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::historic, "A", 1, {{"temperature", value::number("1")}}));
  f.rows.push_back(make_row(ngsi::flow::historic, "B", 1, {{"temperature", value::null()}}));
  auto p = f.plan();
  ASSERT_EQ(p.groups.size(), 2u);
  // The NULL column is selected as an untyped NULL, so it fits any column type.
  const auto sql = postgis::group_statement(p.groups[1]);
  EXPECT_NE(sql.find("NULL"), std::string::npos) << sql;
}

TEST(WritePlan, AMissingTableRejectsItsRowsWithPostgresWording) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::historic, "A", 1, {}, "missing_table"));
  auto p = f.plan();
  EXPECT_TRUE(p.groups.empty());
  ASSERT_EQ(p.rejected.size(), 1u);
  EXPECT_EQ(p.rejected[0].error, "ERROR: relation \"test.missing_table\" does not exist");
}

TEST(WritePlan, BaseColumnsTheTableLacksAreLeftOut) {
  planner_fixture f;
  f.schema.columns.erase(f.schema.columns.begin() + 3);  // no recvtime column
  f.rows.push_back(make_row(ngsi::flow::historic, "A", 1, {}));
  auto p = f.plan();
  ASSERT_EQ(p.groups.size(), 1u);
  for (const auto& c : p.groups[0].columns) EXPECT_NE(c.name, "recvtime");
}

TEST(WritePlan, UnknownAttributesFollowThePolicy) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::historic, "A", 1, {{"humidity", value::number("3")}}));
  auto error = f.plan(postgis::unknown_column_policy::error);
  ASSERT_EQ(error.groups.size(), 1u);
  bool kept = false;
  for (const auto& c : error.groups[0].columns) kept = kept || (c.name == "humidity" && !c.target_exists);
  EXPECT_TRUE(kept) << "policy error: the database reports the missing column";

  auto drop = f.plan(postgis::unknown_column_policy::drop);
  EXPECT_EQ(drop.dropped_attributes[0], 1u);
  for (const auto& c : drop.groups[0].columns) EXPECT_NE(c.name, "humidity");

  std::vector<postgis::tagged_row> tagged{{&f.rows[0], 0}};
  auto add = postgis::missing_columns(tagged,
                                      [&](const ngsi::table_ref&) -> const postgis::table_schema& { return f.schema; });
  ASSERT_EQ(add.size(), 1u);
  EXPECT_EQ(add[0].column, "humidity");
  EXPECT_EQ(add[0].type, "double precision");
}

// The rows of one transaction, planned with a cache the way the writer
// plans transaction after transaction.
std::vector<std::string> column_names(const postgis::write_plan& p) {
  std::vector<std::string> out;
  for (const auto& g : p.groups) {
    for (const auto& c : g.columns) out.push_back(c.name + (c.target_exists ? "" : "?"));
  }
  return out;
}

TEST(ShapeCache, AShapeIsPlannedOnceForTheSameSchemaAndTheCachedPlanIsTheSame) {
  postgis::shape_cache cache;
  planner_fixture f;
  f.schema.id = 7;
  f.cache = &cache;
  f.rows.push_back(make_row(ngsi::flow::historic, "A", 1, {{"temperature", value::number("1")}}));
  f.rows.push_back(make_row(ngsi::flow::historic, "B", 1, {{"payload", value::json("{}")}}));
  const auto first = f.plan();
  EXPECT_EQ(cache.size(), 2u);
  const auto again = f.plan();
  EXPECT_EQ(cache.size(), 2u) << "the second transaction found both shapes";
  EXPECT_EQ(column_names(again), column_names(first));
  ASSERT_EQ(again.groups.size(), 2u);
  bool json = false;
  for (const auto& c : again.groups[1].columns) json = json || (c.name == "payload" && c.target_is_json);
  EXPECT_TRUE(json) << "what the schema says of a column comes with the cached shape";
  EXPECT_EQ(again.groups[0].rows[0].row, &f.rows[0]) << "the plan points to this transaction's rows";
}

TEST(ShapeCache, ANewReadingOfTheSchemaIsPlannedAgain) {
  postgis::shape_cache cache;
  planner_fixture f;
  f.cache = &cache;
  f.schema.id = 1;
  f.rows.push_back(make_row(ngsi::flow::historic, "A", 1, {{"humidity", value::number("3")}}));
  auto before = f.plan(postgis::unknown_column_policy::drop);
  EXPECT_EQ(before.dropped_attributes[0], 1u);
  // The column was added (by an operator, or by the "add" policy): the
  // schema read again has another id.
  f.schema.columns.push_back({"humidity", "double precision", false});
  f.schema.id = 2;
  auto after = f.plan(postgis::unknown_column_policy::drop);
  EXPECT_EQ(after.dropped_attributes[0], 0u);
  const auto names = column_names(after);
  EXPECT_NE(std::find(names.begin(), names.end(), "humidity"), names.end());
  EXPECT_EQ(cache.size(), 1u) << "the entry of the older schema was replaced";
  // The policy is part of what was planned.
  auto error = f.plan(postgis::unknown_column_policy::error);
  EXPECT_EQ(error.dropped_attributes[0], 0u);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(ShapeCache, ASchemaWithoutIdIsNeverCachedAndAFullCacheStartsOver) {
  postgis::shape_cache cache(2);
  planner_fixture f;
  f.cache = &cache;
  f.rows.push_back(make_row(ngsi::flow::historic, "A", 1, {{"temperature", value::number("1")}}));
  f.plan();
  EXPECT_EQ(cache.size(), 0u) << "schema id 0: not read through the schema cache";
  f.schema.id = 3;
  f.rows.push_back(make_row(ngsi::flow::historic, "B", 1, {{"payload", value::json("{}")}}));
  f.rows.push_back(make_row(ngsi::flow::lastdata, "C", 1, {{"payload", value::json("{}")}}));
  const auto p = f.plan();
  EXPECT_EQ(cache.size(), 1u) << "the third shape found the cache full";
  EXPECT_EQ(p.groups.size(), 3u);
}

TEST(Statements, HistoricInsertSelectsTheStagedRange) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::historic, "A", 1, {{"temperature", value::number("1")}}));
  auto p = f.plan();
  const auto sql = postgis::group_statement(p.groups[0]);
  EXPECT_EQ(sql.rfind("INSERT INTO \"test\".\"s_sensor\" (", 0), 0u) << sql;
  // The scan ends at the range's last row (staged rows lie in _seq order).
  EXPECT_NE(sql.find("WHERE _seq >= $1 AND _seq < $2 LIMIT ($2 - $1)"), std::string::npos) << sql;
  EXPECT_EQ(sql.find("ON CONFLICT"), std::string::npos) << sql;
  const auto literal = postgis::group_statement(p.groups[0], 40, 47);
  EXPECT_NE(literal.find("WHERE _seq >= 40 AND _seq < 47 LIMIT 7"), std::string::npos) << literal;
}

TEST(Statements, LastdataUpsertHasTheFreshnessRule) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::lastdata, "A", 1, {{"temperature", value::number("1")}}));
  auto sql = postgis::group_statement(f.plan().groups[0]);
  EXPECT_NE(sql.find("ON CONFLICT (\"entityid\") DO UPDATE SET"), std::string::npos) << sql;
  EXPECT_NE(sql.find("\"temperature\" = EXCLUDED.\"temperature\""), std::string::npos) << sql;
  EXPECT_NE(sql.find("WHERE kafnus_target.\"timeinstant\" IS NULL OR EXCLUDED.\"timeinstant\" >= "
                     "kafnus_target.\"timeinstant\""),
            std::string::npos)
      << sql;
}

TEST(Statements, LastdataWithoutTimeInstantUpsertsUnconditionally) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::lastdata, "A", std::nullopt, {{"temperature", value::number("1")}}));
  auto sql = postgis::group_statement(f.plan().groups[0]);
  EXPECT_NE(sql.find("ON CONFLICT (\"entityid\") DO UPDATE"), std::string::npos);
  EXPECT_EQ(sql.find("EXCLUDED.\"timeinstant\" >="), std::string::npos) << sql;
}

TEST(Statements, MutableUpsertsOnEntityAndTimeInstant) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::mutable_, "A", 1, {{"temperature", value::number("1")}}));
  auto sql = postgis::group_statement(f.plan().groups[0]);
  EXPECT_NE(sql.find("ON CONFLICT (\"entityid\", \"timeinstant\") DO UPDATE SET"), std::string::npos) << sql;
  EXPECT_EQ(sql.find("EXCLUDED.\"timeinstant\" >="), std::string::npos) << sql;
}

TEST(Statements, DeleteSelectsEntityIdsFromTheStage) {
  planner_fixture f;
  f.rows.push_back(remove_row("S1"));
  auto sql = postgis::group_statement(f.plan().groups[0]);
  EXPECT_EQ(sql.rfind("DELETE FROM \"test\".\"s_sensor_lastdata\" WHERE \"entityid\" IN (SELECT c0 FROM", 0), 0u)
      << sql;
}

TEST(Statements, TextIntoAJsonColumnIsCastLikeTheJdbcSinkDid) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::historic, "A", 1, {{"payload", value::text_value("{\"a\":1}")}}));
  auto sql = postgis::group_statement(f.plan().groups[0]);
  EXPECT_NE(sql.find("::jsonb"), std::string::npos) << sql;
}

TEST(Statements, RenderedStatementQuotesIdentifiersAndValues) {
  auto r = make_row(ngsi::flow::historic, "it's", 1, {{"temperature", value::number("25.5")}});
  r.set_table({"te\"st", "s_sensor"});
  const auto sql = postgis::render_statement(r);
  EXPECT_EQ(sql.rfind("INSERT INTO \"te\"\"st\".\"s_sensor\" (\"entityid\"", 0), 0u) << sql;
  EXPECT_NE(sql.find("'it''s'"), std::string::npos) << sql;
  EXPECT_NE(sql.find("25.5"), std::string::npos) << sql;
  EXPECT_NE(sql.find("::timestamptz"), std::string::npos) << sql;
}

TEST(Statements, RenderedRemoveIsADelete) {
  EXPECT_EQ(postgis::render_statement(remove_row("S1")),
            "DELETE FROM \"test\".\"s_sensor_lastdata\" WHERE \"entityid\" = 'S1'");
}

TEST(Statements, StageLinesEscapeCopySpecials) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::historic, "a\tb\\c\nd", 1, {}));
  auto p = f.plan();
  std::string line;
  postgis::append_stage_line(line, p.groups[0], p.groups[0].rows[0], 7);
  EXPECT_EQ(line.rfind("7\t", 0), 0u);
  EXPECT_NE(line.find("a\\tb\\\\c\\nd"), std::string::npos) << line;
  EXPECT_EQ(line.back(), '\n');
}

TEST(Statements, StageNamesAreStableAndShort) {
  using k = ngsi::value_kind;
  EXPECT_EQ(postgis::stage_name({k::text, k::number, k::timestamp}), "kafnus_stage_tns");
  std::vector<k> many(100, k::json);
  const auto name = postgis::stage_name(many);
  EXPECT_LE(name.size(), 63u);
  EXPECT_EQ(name, postgis::stage_name(many));
}

TEST(Statements, DirectCopyOnlyWhenNoValueNeedsConverting) {
  planner_fixture f;
  f.schema.columns.push_back({"count", "bigint", false});
  f.schema.columns.push_back({"seen", "timestamp without time zone", false});
  for (auto& c : f.schema.columns) {
    if (c.name == "temperature") c.type = "double precision";
    if (c.name == "timeinstant" || c.name == "recvtime") c.type = "timestamp with time zone";
  }
  f.rows.push_back(
      make_row(ngsi::flow::historic, "A", 1, {{"temperature", value::number("21.5")}, {"count", value::number("7")}}));
  EXPECT_TRUE(postgis::direct_copy_allowed(f.plan().groups[0]));

  // 1.5 into bigint: the staged cast rounds it, a direct COPY would fail.
  f.rows[0] =
      make_row(ngsi::flow::historic, "A", 1, {{"temperature", value::number("21.5")}, {"count", value::number("1.5")}});
  EXPECT_FALSE(postgis::direct_copy_allowed(f.plan().groups[0]));

  // Text into a JSON column is cast through the staging table.
  f.rows.clear();
  f.rows.push_back(make_row(ngsi::flow::historic, "A", 1, {{"payload", value::text_value("{}")}}));
  EXPECT_FALSE(postgis::direct_copy_allowed(f.plan().groups[0]));

  // Upserts always go through the staging table.
  f.rows.clear();
  f.rows.push_back(make_row(ngsi::flow::mutable_, "A", 1, {{"temperature", value::number("1")}}));
  EXPECT_FALSE(postgis::direct_copy_allowed(f.plan().groups[0]));
}

// What a group's direct writes depend on in its columns alone is worked
// out once per shape: the same answers as a group that has to work them
// out at every use (one built otherwise).
TEST(Statements, APlannedGroupKnowsItsDirectReadsAndInsertKey) {
  planner_fixture f;
  f.schema.columns.push_back({"count", "bigint", false});
  for (auto& c : f.schema.columns) {
    if (c.name == "temperature") c.type = "double precision";
    if (c.name == "timeinstant" || c.name == "recvtime") c.type = "timestamp with time zone";
  }
  auto worked_out_at_use = [](postgis::statement_group g) {
    std::vector<postgis::group_column> columns = g.columns;
    for (auto& c : columns) c.direct = postgis::direct_read::unknown;
    g.columns = postgis::shared_vector<postgis::group_column>(std::move(columns));
    g.insert_key.reset();
    return g;
  };
  for (const char* count : {"7", "1.5"}) {
    f.rows.clear();
    f.rows.push_back(make_row(ngsi::flow::historic, "A", 1,
                              {{"temperature", value::number("21.5")}, {"count", value::number(count)}}));
    const auto p = f.plan();
    const auto& g = p.groups[0];
    for (const auto& c : g.columns) {
      EXPECT_EQ(c.direct, postgis::direct_read_of(c)) << c.name;
      EXPECT_NE(c.direct, postgis::direct_read::unknown) << c.name;
      if (c.name == "count") {
        EXPECT_EQ(c.direct, postgis::direct_read::integer_literals);
      }
      if (c.name == "temperature") {
        EXPECT_EQ(c.direct, postgis::direct_read::same);
      }
    }
    EXPECT_EQ(postgis::direct_copy_allowed(g), std::string(count) == "7");
    EXPECT_EQ(postgis::direct_copy_allowed(worked_out_at_use(g)), postgis::direct_copy_allowed(g));
    ASSERT_TRUE(g.insert_key);
    EXPECT_EQ(*g.insert_key, postgis::insert_statement_key(g));
  }
  // Another type for a column: another key (another prepared statement).
  const auto before = *f.plan().groups[0].insert_key;
  for (auto& c : f.schema.columns) {
    if (c.name == "count") c.type = "integer";
  }
  EXPECT_NE(*f.plan().groups[0].insert_key, before);
}

TEST(Statements, DirectLinesWriteNullsAsCopyNulls) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::historic, "A\tB", 1, {{"temperature", value::null()}}));
  auto p = f.plan();
  std::string line;
  postgis::append_direct_line(line, p.groups[0], p.groups[0].rows[0]);
  EXPECT_NE(line.find("A\\tB"), std::string::npos) << line;
  EXPECT_NE(line.find("\\N"), std::string::npos) << line;
  EXPECT_EQ(postgis::direct_copy_columns(p.groups[0]).front(), "\"entityid\"");
}

// Issue 15: a few rows go as an INSERT … VALUES with the batch's other
// statements instead of a COPY each; every value a quoted literal.
TEST(Statements, AFewRowsAreInsertedAsQuotedLiterals) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::historic, "it's", 1, {{"temperature", value::null()}}));
  f.rows.push_back(make_row(ngsi::flow::historic, "'); DROP TABLE x; --", 2, {{"temperature", value::number("2")}}));
  auto p = f.plan();
  ASSERT_EQ(p.groups.size(), 2u) << "a NULL is its own shape";
  const auto first = postgis::direct_insert_statement(p.groups[0]);
  EXPECT_EQ(first,
            "INSERT INTO \"test\".\"s_sensor\" (\"entityid\", \"entitytype\", \"fiwareservicepath\", \"recvtime\", "
            "\"temperature\", \"timeinstant\") VALUES ('it''s', 'Sensor', '/s', '1970-01-01 00:00:01.000000+00', "
            "NULL, '1970-01-01 00:00:01.000000+00')");
  const auto second = postgis::direct_insert_statement(p.groups[1]);
  EXPECT_NE(second.find(" VALUES ('''); DROP TABLE x; --', 'Sensor', '/s', '1970-01-01 00:00:01.000000+00', '2', "
                        "'1970-01-01 00:00:02.000000+00')"),
            std::string::npos)
      << second;

  std::string staged = postgis::stage_insert_head(p.groups[1].stage_kinds);
  postgis::append_stage_values(staged, p.groups[1], p.groups[1].rows[0], 7);
  staged += ", ";
  postgis::append_stage_values(staged, p.groups[1], p.groups[1].rows[0], 8);
  const std::string values =
      "'''); DROP TABLE x; --', 'Sensor', '/s', '1970-01-01 00:00:01.000000+00', '2', '1970-01-01 00:00:02.000000+00')";
  EXPECT_EQ(staged, "INSERT INTO pg_temp." + postgis::stage_name(p.groups[1].stage_kinds) +
                        " (_seq, c0, c1, c2, c3, c4, c5) VALUES (7, " + values + ", (8, " + values);
}

// Issue 16.8: a view takes INSERT but not COPY: its groups are staged.
TEST(Statements, AViewIsNeverCopiedInto) {
  planner_fixture f;
  for (auto& c : f.schema.columns) {
    if (c.name == "timeinstant" || c.name == "recvtime") c.type = "timestamp with time zone";
  }
  f.rows.push_back(make_row(ngsi::flow::historic, "A", 1, {{"temperature", value::text_value("x")}}));
  EXPECT_TRUE(postgis::direct_copy_allowed(f.plan().groups[0]));
  f.schema.kind = postgis::relation_kind::view;
  EXPECT_FALSE(postgis::direct_copy_allowed(f.plan().groups[0]));
  f.schema.kind = postgis::relation_kind::partitioned_table;
  EXPECT_TRUE(postgis::direct_copy_allowed(f.plan().groups[0]));
}

// Issue 16.10: a number into a text column is staged as text, so it is
// stored as written ("1E5"), as a direct COPY stores it; into a JSON column
// it stays a number (to_jsonb of a double).
TEST(WritePlan, ANumberIntoATextColumnIsStagedAsText) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::lastdata, "A", 1, {{"temperature", value::number("1E5")}}));
  auto p = f.plan();
  ASSERT_EQ(p.groups.size(), 1u);
  const auto& g = p.groups[0];
  for (const auto& c : g.columns) {
    if (c.name != "temperature") continue;
    EXPECT_EQ(c.kind, ngsi::value_kind::number);
    EXPECT_EQ(g.stage_kinds.at(static_cast<std::size_t>(c.stage_index)), ngsi::value_kind::text);
  }
  std::string line;
  postgis::append_stage_line(line, g, g.rows[0], 0);
  EXPECT_NE(line.find("\t1E5"), std::string::npos) << line;
  f.rows[0] = make_row(ngsi::flow::lastdata, "A", 1, {{"payload", value::number("1E5")}});  // jsonb
  p = f.plan();
  for (const auto& c : p.groups[0].columns) {
    if (c.name == "payload") {
      EXPECT_EQ(p.groups[0].stage_kinds.at(static_cast<std::size_t>(c.stage_index)), ngsi::value_kind::number);
    }
  }
}

// Issue 11.7: each folded row is known, so it is counted for its own service.
TEST(WritePlan, FoldedRowsAreKeptForCounting) {
  planner_fixture f;
  f.rows.push_back(make_row(ngsi::flow::lastdata, "A", 5, {}));
  f.rows.back().set_service("one");
  f.rows.push_back(make_row(ngsi::flow::lastdata, "A", 3, {}));  // older: loses, folded itself
  f.rows.back().set_service("two");
  f.rows.push_back(make_row(ngsi::flow::lastdata, "A", 7, {}));  // newer: wins, folds the first
  f.rows.back().set_service("three");
  auto p = f.plan();
  ASSERT_EQ(p.groups.size(), 1u);
  EXPECT_EQ(p.groups[0].rows[0].row->service(), "three");
  ASSERT_EQ(p.groups[0].folded_rows.size(), 2u);
  EXPECT_EQ(p.groups[0].folded, 2u);
  EXPECT_EQ(p.groups[0].folded_rows[0]->service(), "two");
  EXPECT_EQ(p.groups[0].folded_rows[1]->service(), "one");
}

// Issue 15: the data of a binary COPY, byte by byte: the header, each value
// in its column type's binary form, the trailer; and what is left to COPY
// text (a type without a binary writer, a value beyond its type's range).
// PostgreSQL's reading of these bytes is held to its reading of the texts by
// integration.BatchWriter.ABinaryCopyStoresWhatACopyTextStores.
TEST(BinaryCopy, EachValueIsWrittenAsItsColumnTypeReceivesIt) {
  planner_fixture f;
  f.schema.columns = {{"entityid", "text", false},
                      {"entitytype", "character varying(10)", false},
                      {"fiwareservicepath", "text", false},
                      {"recvtime", "timestamp with time zone", false},
                      {"timeinstant", "timestamp without time zone", false},
                      {"temperature", "double precision", false},
                      {"n", "integer", false},
                      {"on", "boolean", false},
                      {"payload", "jsonb", true},
                      {"location", "geometry(Point,4326)", false},
                      {"place", "text", false},
                      {"amount", "numeric(12,2)", false},
                      {"small", "numeric", false},
                      {"none", "integer[]", false}};
  f.rows.push_back(make_row(ngsi::flow::historic, "E\t\\", 946'684'800,
                            {{"temperature", value::number("1.5")},
                             {"n", value::number("-2")},
                             {"on", value::boolean(true)},
                             {"payload", value::json("{}")},
                             {"location", value::geometry_from_hex("01Ff")},
                             {"place", value::geometry_from_hex("01Ff")},
                             {"amount", value::number("-1.5E3")},
                             {"small", value::number("0.000123")},
                             {"none", value::null()}}));
  auto p = f.plan();
  ASSERT_EQ(p.groups.size(), 1u);
  const auto& g = p.groups[0];
  const auto formats = postgis::binary_formats(g);
  ASSERT_TRUE(formats.has_value());
  const auto data = postgis::binary_copy_data(g, *formats);
  ASSERT_TRUE(data.has_value());

  const auto bytes = [](std::initializer_list<int> b) {
    std::string s;
    for (int c : b) s += static_cast<char>(c);
    return s;
  };
  const auto field = [&](const std::string& v) {
    const auto n = v.size();
    return bytes({0, 0, static_cast<int>(n >> 8), static_cast<int>(n & 0xFF)}) + v;
  };
  std::map<std::string, std::string> expected{
      {"entityid", field("E\t\\")},
      {"entitytype", field("Sensor")},
      {"fiwareservicepath", field("/s")},
      // 1970-01-01 00:00:01 and 2000-01-01 00:00:00: microseconds since 2000
      {"recvtime", field(bytes({0xFF, 0xFC, 0xA2, 0xFE, 0xC4, 0xD7, 0x62, 0x40}))},
      {"timeinstant", field(bytes({0, 0, 0, 0, 0, 0, 0, 0}))},
      {"temperature", field(bytes({0x3F, 0xF8, 0, 0, 0, 0, 0, 0}))},
      {"n", field(bytes({0xFF, 0xFF, 0xFF, 0xFE}))},
      {"on", field(bytes({1}))},
      {"payload", field("\1{}")},
      {"location", field(bytes({0x01, 0xFF}))},
      {"place", field("01FF")},  // a text column stores a geometry's EWKB as hex, as COPY text does
      // numeric: base-10,000 digits, weight of the first, sign, digits after the point as written
      {"amount", field(bytes({0, 1, 0, 0, 0x40, 0, 0, 0, 0x05, 0xDC}))},          // -1500
      {"small", field(bytes({0, 2, 0xFF, 0xFF, 0, 0, 0, 6, 0, 1, 0x08, 0xFC}))},  // 0.0001 + 0.00002300
      {"none", bytes({0xFF, 0xFF, 0xFF, 0xFF})},                                  // NULL
  };
  std::string want = std::string("PGCOPY\n\377\r\n\0", 11) + bytes({0, 0, 0, 0, 0, 0, 0, 0});
  want += bytes({0, static_cast<int>(g.columns.size())});
  for (const auto& c : g.columns) want += expected.at(c.name);
  want += bytes({0xFF, 0xFF});
  EXPECT_EQ(*data, want);

  // Left to COPY text, where PostgreSQL judges them as before.
  const auto data_of = [&](const std::string& number) {
    f.rows[0] =
        make_row(ngsi::flow::historic, "E", 1, {{"temperature", value::number(number)}, {"n", value::number("1")}});
    auto q = f.plan();
    return postgis::binary_copy_data(q.groups[0], *postgis::binary_formats(q.groups[0]));
  };
  EXPECT_TRUE(data_of("1e308").has_value());
  EXPECT_FALSE(data_of("1e309").has_value()) << "beyond a double: PostgreSQL says out of range";
  EXPECT_FALSE(data_of("-1e400").has_value());
  EXPECT_FALSE(data_of("1e-400").has_value()) << "underflows to 0: PostgreSQL says out of range";
  EXPECT_TRUE(data_of("0e-400").has_value()) << "a zero is a zero";
  f.rows[0] = make_row(ngsi::flow::historic, "E", 1, {{"n", value::number("2147483648")}});
  auto q = f.plan();
  EXPECT_FALSE(postgis::binary_copy_data(q.groups[0], *postgis::binary_formats(q.groups[0])).has_value())
      << "beyond an integer";
  f.rows[0] = make_row(ngsi::flow::historic, "E", 1, {{"none", value::number("1")}});
  q = f.plan();
  EXPECT_FALSE(postgis::binary_formats(q.groups[0]).has_value()) << "an array has no binary writer here";
}

// A row's room in the COPY data is bounded without visiting its values
// (16 bytes each and twice the row's buffer): values that write the most
// for their text (short numerics with their 8-byte header, geometries as
// hex into text columns), row after row, are all written, each field where
// its length says (under ASan, one byte past the room is an error).
TEST(BinaryCopy, ValuesThatTakeTheMostForTheirTextFitTheRoomOfTheirRow) {
  planner_fixture f;
  f.schema.columns = base_columns_with_time_zone();
  std::vector<ngsi::column> columns;
  for (int i = 0; i < 40; ++i) {
    const std::string n = "n" + std::to_string(i);
    const std::string g = "g" + std::to_string(i);
    f.schema.columns.push_back({n, "numeric", false});
    f.schema.columns.push_back({g, "text", false});
    columns.push_back({n, value::number(i % 2 ? "1" : "0.000000000001")});
    columns.push_back({g, value::geometry_from_hex(std::string(std::size_t{2} * (100 + 50 * (i % 3)), 'F'))});
  }
  for (int r = 0; r < 300; ++r) f.rows.push_back(make_row(ngsi::flow::historic, "E", r, columns));
  auto p = f.plan();
  ASSERT_EQ(p.groups.size(), 1u);
  const auto& g = p.groups[0];
  const auto data = postgis::binary_copy_data(g, *postgis::binary_formats(g));
  ASSERT_TRUE(data.has_value());
  const auto be = [&](std::size_t at, int bytes) {
    std::uint32_t v = 0;
    for (int k = 0; k < bytes; ++k) v = v << 8 | static_cast<unsigned char>((*data)[at + static_cast<std::size_t>(k)]);
    return v;
  };
  std::size_t at = 19;  // the header
  std::size_t rows = 0;
  while (at + 2 <= data->size() && be(at, 2) != 0xFFFF) {
    ASSERT_EQ(be(at, 2), g.columns.size()) << "row " << rows;
    at += 2;
    for (std::size_t c = 0; c < g.columns.size(); ++c) {
      ASSERT_LE(at + 4, data->size());
      at += 4 + be(at, 4);
    }
    ++rows;
  }
  EXPECT_EQ(rows, 300u);
  EXPECT_EQ(at + 2, data->size()) << "the trailer ends the data";
}

// The double of a plain decimal is read by a fast path (one exact division)
// or by std::from_chars; both must give strtod's correctly rounded double
// (what float8in stores) for every text, on either side of the fast path's
// limits (15 significant digits, 22 after the point).
TEST(BinaryCopy, DoublesAreReadAsStrtodReadsThem) {
  planner_fixture f;
  f.schema.columns = base_columns_with_time_zone();
  f.schema.columns.push_back({"temperature", "double precision", false});
  std::mt19937_64 random(15);
  std::vector<std::string> texts{"0",
                                 "-0",
                                 "-0.000",
                                 "1",
                                 "0.1",
                                 "0.3",
                                 "123456789012345",
                                 "1234567890123456",
                                 "0.0000000000000000000001",
                                 "0.00000000000000000000001",
                                 "9007199254740993",
                                 "4000.1234",
                                 "-1.5E3",
                                 "1e22",
                                 "1e23",
                                 "2.2250738585072014e-308"};
  for (int i = 0; i < 20000; ++i) {
    std::string t = random() % 2 ? "-" : "";
    const int digits = 1 + static_cast<int>(random() % 19);
    for (int d = 0; d < digits; ++d) t += static_cast<char>('0' + random() % 10);
    const auto point = random() % (digits + 2);
    if (point > 0 && point < static_cast<unsigned>(digits) && t[t[0] == '-'] != '0') t.insert(t.size() - point, ".");
    texts.push_back(t);
  }
  for (const auto& t : texts) {
    f.rows.assign(1, make_row(ngsi::flow::historic, "E", 1, {{"temperature", value::number(t)}}));
    auto p = f.plan();
    const auto& g = p.groups[0];
    const auto data = postgis::binary_copy_data(g, *postgis::binary_formats(g));
    ASSERT_TRUE(data.has_value()) << t;
    // The fields of the one row, after the 19-byte header and the field count.
    std::size_t at = 21;
    std::string field;
    for (const auto& c : g.columns) {
      const auto len = static_cast<std::size_t>(static_cast<unsigned char>((*data)[at + 2]) << 8 |
                                                static_cast<unsigned char>((*data)[at + 3]));
      if (c.name == "temperature") field = data->substr(at + 4, len);
      at += 4 + len;
    }
    ASSERT_EQ(field.size(), 8u) << t;
    std::uint64_t bits = 0;
    for (char b : field) bits = bits << 8 | static_cast<unsigned char>(b);
    const double expected = std::strtod(t.c_str(), nullptr);
    std::uint64_t expected_bits = 0;
    std::memcpy(&expected_bits, &expected, sizeof expected_bits);
    EXPECT_EQ(bits, expected_bits) << t;
  }
}
