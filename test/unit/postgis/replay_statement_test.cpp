// The replay shape check: every statement render_statement writes is
// accepted (rows from real notifications through transform(), and random
// rows of every value kind, flow and column subset); anything else — other
// schemas, Kafnus's own tables, deletes, truncated or hostile text — is
// refused with a reason.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "ngsi/transform.hpp"
#include "postgis/error_log.hpp"
#include "postgis/replay_statement.hpp"
#include "postgis/statements.hpp"

using namespace kafnus;
using ngsi::value;
using postgis::check_replay_statement;
using ::testing::HasSubstr;

namespace {

postgis::replay_scope scope(const std::string& schema = "svc") {
  postgis::replay_scope s;
  s.schema = schema;
  s.offsets_schema = "kafnus";
  s.error_log = ngsi::error_log_table(schema);
  return s;
}

ngsi::row make_row(ngsi::flow f, const std::vector<ngsi::column>& attrs, const std::string& schema = "svc") {
  ngsi::row r;
  r.f = f;
  r.op = f == ngsi::flow::historic ? ngsi::operation::insert : ngsi::operation::upsert;
  r.set_table({schema, "s_sensor" + std::string(ngsi::table_suffix(f))});
  r.set_service(schema);
  r.columns.push_back({"entityid", value::text_value("E1")});
  r.columns.push_back({"entitytype", value::text_value("Sensor")});
  r.columns.push_back({"fiwareservicepath", value::text_value("/s")});
  r.columns.push_back({"recvtime", value::timestamp(1'735'689'600'000'000)});
  for (const auto& a : attrs) r.columns.push_back(a);
  return r;
}

void expect_accepted(const std::string& sql, const postgis::replay_scope& s = scope()) {
  const auto v = check_replay_statement(sql, s);
  EXPECT_TRUE(v.accepted) << sql << "\n  refused: " << v.reason << ": " << v.detail;
}

std::string refused(const std::string& sql, const postgis::replay_scope& s = scope()) {
  const auto v = check_replay_statement(sql, s);
  EXPECT_FALSE(v.accepted) << sql;
  return v.reason + ": " + v.detail;
}

// Text with every character that matters to SQL's lexer.
const char* const kNastyTexts[] = {
    "",
    "it's",
    "''",
    "'",
    "back\\slash\\",
    "\\'",
    "'); DROP TABLE svc.t; --",
    "$$ dollar $$",
    "$tag$",
    "/* comment */",
    "-- comment",
    "semi;colon",
    "line\nbreak\r\ttab",
    "\"double\" quotes",
    "E'x'",
    "ñandú 雨 🌧",
    "NULL",
    "::json",
    ") VALUES (",
    " ON CONFLICT (\"entityid\") DO NOTHING",
};

}  // namespace

TEST(ReplayStatement, AcceptsEveryValueKind) {
  for (auto f : ngsi::kAllFlows) {
    for (const char* text : kNastyTexts) {
      auto r =
          make_row(f, {{"timeinstant", value::timestamp(1'735'689'601'000'000)},
                       {"name", value::text_value(text)},
                       {"nothing", value::null()},
                       {"flag", value::boolean(true)},
                       {"off", value::boolean(false)},
                       {"n", value::number("-12.5e+3")},
                       {"big", value::number("9223372036854775807123")},
                       {"doc", value::json(std::string("{\"a\":\"") + text + "\"}")},
                       {"location", value::geometry_from_hex("0101000020E6100000000000000000F03F0000000000000040")}});
      expect_accepted(postgis::render_statement(r));
    }
  }
}

TEST(ReplayStatement, AcceptsUpsertsWithAndWithoutTheFreshnessRule) {
  // lastdata with a timeinstant: the freshness WHERE
  auto with_time = postgis::render_statement(
      make_row(ngsi::flow::lastdata, {{"timeinstant", value::timestamp(0)}, {"t", value::number("1")}}));
  EXPECT_THAT(with_time, HasSubstr("WHERE kafnus_target.\"timeinstant\" IS NULL OR"));
  expect_accepted(with_time);
  // lastdata without one, and with a NULL one: last write wins
  expect_accepted(postgis::render_statement(make_row(ngsi::flow::lastdata, {{"t", value::number("1")}})));
  expect_accepted(postgis::render_statement(
      make_row(ngsi::flow::lastdata, {{"timeinstant", value::null()}, {"t", value::null()}})));
  // mutable: (entityid, timeinstant)
  expect_accepted(postgis::render_statement(
      make_row(ngsi::flow::mutable_, {{"timeinstant", value::timestamp(0)}, {"t", value::number("1")}})));
  // only key columns: DO NOTHING
  auto r = make_row(ngsi::flow::lastdata, {});
  const auto only_key = postgis::render_statement(r, {0});
  EXPECT_THAT(only_key, HasSubstr("DO NOTHING"));
  expect_accepted(only_key);
  // a subset of the columns (what the writer sends when some are unknown)
  expect_accepted(postgis::render_statement(make_row(ngsi::flow::historic, {{"a", value::number("1")}}), {0, 2, 4}));
}

TEST(ReplayStatement, ReportsTheTargetAndTheFlow) {
  const auto v = check_replay_statement(
      postgis::render_statement(make_row(ngsi::flow::mutable_, {{"timeinstant", value::timestamp(0)}})), scope());
  ASSERT_TRUE(v.accepted);
  ASSERT_TRUE(v.table);
  EXPECT_EQ(v.table->schema, "svc");
  EXPECT_EQ(v.table->table, "s_sensor_mutable");
  EXPECT_EQ(v.f, ngsi::flow::mutable_);
}

TEST(ReplayStatement, RoundTripsRandomRows) {
  std::mt19937 rng(20250101);
  auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const char* const numbers[] = {"0", "-0", "1", "-1", "3.14", "1e10", "1E-6", "-2.5E+300", "12345678901234567890"};
  for (int i = 0; i < 3000; ++i) {
    const auto f = ngsi::kAllFlows[pick(3)];
    std::vector<ngsi::column> attrs;
    if (pick(3) != 0)
      attrs.push_back({"timeinstant",
                       pick(4) ? value::timestamp(static_cast<std::int64_t>(pick(1u << 30)) * 1000) : value::null()});
    const auto n = pick(8);
    for (std::size_t c = 0; c < n; ++c) {
      std::string name = "a" + std::to_string(c);
      if (pick(5) == 0) name += kNastyTexts[pick(std::size(kNastyTexts))];
      switch (pick(7)) {
        case 0: attrs.push_back({name, value::null()}); break;
        case 1: attrs.push_back({name, value::boolean(pick(2) == 0)}); break;
        case 2: attrs.push_back({name, value::number(numbers[pick(std::size(numbers))])}); break;
        case 3: attrs.push_back({name, value::text_value(kNastyTexts[pick(std::size(kNastyTexts))])}); break;
        case 4: attrs.push_back({name, value::json("[1,\"x'y\"]")}); break;
        case 5: attrs.push_back({name, value::timestamp(static_cast<std::int64_t>(pick(1u << 31)) * 1000000)}); break;
        default: attrs.push_back({name, value::geometry_from_hex("0101000020E6100000000000000000F03F")}); break;
      }
    }
    auto r = make_row(f, attrs);
    std::vector<std::uint16_t> cols;
    if (pick(3) == 0) {
      for (std::size_t c = 0; c < r.columns.size(); ++c) {
        if (c == 0 || pick(2) == 0) cols.push_back(static_cast<std::uint16_t>(c));
      }
    }
    const auto sql = postgis::render_statement(r, cols);
    const auto v = check_replay_statement(sql, scope());
    ASSERT_TRUE(v.accepted) << sql << "\n  refused: " << v.reason << ": " << v.detail;
    EXPECT_EQ(v.f, f);
  }
}

TEST(ReplayStatement, AcceptsWhatTransformMakesOfRealNotifications) {
  const std::string notification = R"({"subscriptionId":"s","data":[{"id":"Sensor'1","type":"Sensor",
    "TimeInstant":{"type":"DateTime","value":"2025-01-01T00:00:07.123Z"},
    "temperature":{"type":"Number","value":21.5},
    "name":{"type":"Text","value":"it's \"quoted\" \\ back"},
    "active":{"type":"Boolean","value":true},
    "missing":{"type":"Text","value":null},
    "config":{"type":"StructuredValue","value":{"a":[1,2,{"b":"c'd"}]}},
    "seen":{"type":"DateTime","value":"2024-12-31T23:59:59+01:00"},
    "location":{"type":"geo:point","value":"40.4, -3.7"},
    "line":{"type":"geo:line","value":["40.4,-3.7","40.5,-3.8"]},
    "area":{"type":"geo:box","value":["40.4,-3.7","40.5,-3.6"]},
    "shape":{"type":"geo:json","value":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}}]})";
  int statements = 0;
  for (auto f : ngsi::kAllFlows) {
    ngsi::transform_options o;
    o.f = f;
    ngsi::transform_output out;
    ngsi::transform(notification, {{"fiware-service", "Smart"}, {"fiware-servicepath", "/parks"}}, o,
                    1'735'689'600'000'000, out);
    ASSERT_TRUE(out.errors.empty()) << out.errors[0].message;
    for (const auto& r : out.rows) {
      expect_accepted(postgis::render_statement(r), scope("smart"));
      ++statements;
    }
  }
  EXPECT_EQ(statements, 3);
}

TEST(ReplayStatement, AcceptsTheServiceSchemaAndTheNamedOnes) {
  const auto sql = postgis::render_statement(make_row(ngsi::flow::historic, {}, "parks"));
  EXPECT_THAT(refused(sql), HasSubstr("outside the service's schema: schema \"parks\" (--schema parks allows it)"));
  auto s = scope();
  s.more_schemas = {"parks"};
  expect_accepted(sql, s);
}

TEST(ReplayStatement, RefusesKafnusOwnTables) {
  auto s = scope("kafnus");  // a service named like the offsets schema
  s.offsets_schema = "kafnus";
  auto r = make_row(ngsi::flow::historic, {}, "kafnus");
  r.set_table({r.table().schema, "offsets"});
  EXPECT_THAT(refused(postgis::render_statement(r), s), HasSubstr("one of Kafnus's own tables"));
  r.set_table({r.table().schema, "error_log"});
  EXPECT_THAT(refused(postgis::render_statement(r), s), HasSubstr("one of Kafnus's own tables"));
  r.set_table(ngsi::error_log_table("svc"));
  EXPECT_THAT(refused(postgis::render_statement(r)), HasSubstr("one of Kafnus's own tables"));
  // and the offsets schema is never the service's unless the service is named so
  auto other = make_row(ngsi::flow::historic, {}, "kafnus");
  EXPECT_THAT(refused(postgis::render_statement(other)), HasSubstr("outside the service's schema"));
}

TEST(ReplayStatement, RefusesLastdataDeletes) {
  ngsi::row r;
  r.f = ngsi::flow::lastdata;
  r.op = ngsi::operation::remove;
  r.set_table({"svc", "s_sensor_lastdata"});
  r.columns.push_back({"entityid", value::text_value("E1")});
  const auto sql = postgis::render_statement(r);
  ASSERT_EQ(sql.rfind("DELETE FROM", 0), 0u);
  const auto v = check_replay_statement(sql, scope());
  EXPECT_FALSE(v.accepted);
  EXPECT_THAT(v.reason, HasSubstr("lastdata delete"));
  ASSERT_TRUE(v.table);
  EXPECT_EQ(v.table->table, "s_sensor_lastdata");
}

TEST(ReplayStatement, RefusesWhatIsNoStatement) {
  EXPECT_THAT(check_replay_statement(std::nullopt, scope()).reason, HasSubstr("the query is NULL"));
  EXPECT_THAT(refused("-- not a statement: Kafka record t/0@5 (3 bytes): {x"), HasSubstr("a Kafka record"));
  EXPECT_THAT(refused(""), HasSubstr("not a statement Kafnus writes"));
  const auto whole = postgis::render_statement(make_row(ngsi::flow::historic, {{"big", value::text_value("x")}}));
  EXPECT_THAT(refused(postgis::truncate_utf8(whole, whole.size() - 5)), HasSubstr("truncated in the error log"));
}

TEST(ReplayStatement, RefusesHostileVariants) {
  const auto good = postgis::render_statement(
      make_row(ngsi::flow::historic, {{"timeinstant", value::timestamp(0)}, {"t", value::number("1")}}));
  expect_accepted(good);
  const auto values_at = good.find(") VALUES (") + 10;
  auto with_first_value = [&](const std::string& v) {
    // The entityid value ('E1') replaced by `v`.
    return good.substr(0, values_at) + v + good.substr(values_at + 4);
  };
  ASSERT_EQ(with_first_value("'E1'"), good);
  const std::string upsert_head =
      "INSERT INTO \"svc\".\"s_sensor_lastdata\" AS kafnus_target (\"entityid\", \"t\") VALUES ('E1', 1) ON CONFLICT ";
  const std::vector<std::string> hostile = {
      good + ";",
      good + "; DROP TABLE svc.s_sensor",
      good + " -- comment",
      good + " /* comment */",
      "/* c */ " + good,
      " " + good,
      good + " RETURNING *",
      "insert into \"svc\".\"s_sensor\" (\"entityid\") values ('E1')",
      "INSERT INTO svc.s_sensor (\"entityid\") VALUES ('E1')",
      "INSERT INTO \"svc\".\"s_sensor\" (\"entityid\") SELECT 'E1'",
      "INSERT INTO \"svc\".\"s_sensor\" (\"entityid\") VALUES ('E1'), ('E2')",
      "INSERT INTO \"svc\".\"s_sensor\" (\"entityid\", \"x\") VALUES ('E1')",
      "INSERT INTO \"svc\".\"s_sensor\" (\"entityid\") VALUES ('E1', 'E2')",
      "INSERT INTO \"svc\".\"s_sensor\" AS kafnus_target (\"entityid\") VALUES ('E1')",
      "INSERT INTO \"svc\".\"s_sensor\" (\"entityid\") VALUES ('E1') ON CONFLICT (\"entityid\") DO NOTHING",
      upsert_head + "(\"entityid\") DO UPDATE SET \"t\" = (SELECT pg_read_file('/etc/passwd'))",
      upsert_head + "(\"entityid\") DO UPDATE SET \"t\" = EXCLUDED.\"t\" WHERE true",
      upsert_head + "(\"t\") DO UPDATE SET \"entityid\" = EXCLUDED.\"entityid\"",
      "INSERT INTO \"svc\".\"s_sensor\" (\"a\"\") VALUES ('E1')",
      "INSERT INTO \"svc\".\"s_sensor\" (\"entityid\") VALUES ('E1)",
      "INSERT INTO \"svc\".\"s_sensor\" (\"entityid\") VALUES ('E1'')",
      "INSERT INTO \"svc\"\".\"s_sensor\" (\"entityid\") VALUES ('E1')",
      with_first_value("(SELECT 'E1')"),
      with_first_value("pg_read_file('/etc/passwd')"),
      with_first_value("lo_import('/etc/passwd')"),
      with_first_value("E'E1'"),
      with_first_value("U&'E1'"),
      with_first_value("$$E1$$"),
      with_first_value("$t$E1$t$"),
      with_first_value("B'101'"),
      with_first_value("X'1F'"),
      with_first_value("'E1' || 'x'"),
      with_first_value("'E1'::text"),
      with_first_value("'E1'::regclass"),
      with_first_value("'E1'::jsonb"),
      with_first_value("'E1'::timestamptz"),
      with_first_value("'POINT(1 1)'::geometry"),
      with_first_value("ST_GeomFromText('POINT(1 1)')"),
      with_first_value("'E1' "),
      with_first_value("DEFAULT"),
      with_first_value("1+1"),
      with_first_value("--1"),
      with_first_value("1e"),
      with_first_value("0x1F"),
      with_first_value("NaN"),
      with_first_value("'NaN'::float8"),
      with_first_value("current_user"),
      with_first_value("TRUE"),
      with_first_value("null"),
      with_first_value("'E1' /* c */"),
  };
  for (const auto& sql : hostile) {
    const auto v = check_replay_statement(sql, scope());
    EXPECT_FALSE(v.accepted) << sql;
    EXPECT_FALSE(v.reason.empty()) << sql;
  }
}

TEST(ReplayStatement, SaysWhereAStatementStopsBeingKafnus) {
  const auto sql = "INSERT INTO \"svc\".\"s_sensor\" (\"entityid\") VALUES (pg_read_file('x'))";
  EXPECT_THAT(refused(sql), HasSubstr("at byte 50"));
  EXPECT_THAT(refused(sql), HasSubstr("expected a literal Kafnus writes"));
}

TEST(ReplayStatement, FindsTheTargetOfAnyHead) {
  auto t = postgis::statement_target("INSERT INTO \"a\"\"b\".\"c\" whatever");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->schema, "a\"b");
  EXPECT_EQ(t->table, "c");
  EXPECT_TRUE(postgis::statement_target("DELETE FROM \"a\".\"b\" WHERE"));
  EXPECT_FALSE(postgis::statement_target("-- not a statement"));
  EXPECT_FALSE(postgis::statement_target("INSERT INTO a.b"));
}

TEST(ReplayStatement, PrimaryErrorIsTheFirstLineWithoutDetail) {
  EXPECT_EQ(postgis::primary_error("ERROR: duplicate key value violates unique constraint \"pk\" - DETAIL: Key "
                                   "(entityid)=(E1) already exists."),
            "ERROR: duplicate key value violates unique constraint \"pk\"");
  EXPECT_EQ(postgis::primary_error("ERROR: x - HINT: y - DETAIL: z"), "ERROR: x");
  EXPECT_EQ(postgis::primary_error("first\nsecond"), "first");
  EXPECT_EQ(postgis::primary_error("plain"), "plain");
}
