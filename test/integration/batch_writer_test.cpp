// The writer's transaction on the real PostGIS: positions move with the rows
// (compare-and-set), bad rows are isolated, everything else is written.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include "postgis/batch_writer.hpp"
#include "postgis/offsets_store.hpp"
#include "test/support/pg_client.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;
using namespace kafnus;
using ngsi::value;
using testing::HasSubstr;

namespace {

struct writer_fixture {
  std::string schema = kt::unique_name("bw");
  std::string kafnus_schema = schema + "_k";
  kt::pg_client pg;
  pqxx::connection conn{kt::pg_connection_string()};
  postgis::table_schema_cache cache;
  std::vector<ngsi::row> rows;

  writer_fixture() {
    pqxx::nontransaction(conn).exec("SET TimeZone = 'UTC'");
    pg.exec("CREATE SCHEMA " + schema);
    pg.exec("CREATE TABLE " + schema +
            ".t (entityid text NOT NULL, entitytype text, fiwareservicepath text, recvtime timestamptz, "
            "timeinstant timestamptz, temperature double precision, flag boolean, doc jsonb, "
            "location geometry(Point, 4326), PRIMARY KEY (timeinstant, entityid))");
    pg.exec("CREATE TABLE " + schema +
            ".t_lastdata (entityid text PRIMARY KEY, entitytype text, fiwareservicepath text, recvtime timestamptz, "
            "timeinstant timestamptz, temperature double precision)");
    postgis::ensure_kafnus_tables(conn, kafnus_schema);
  }
  ~writer_fixture() {
    try {
      pg.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE; DROP SCHEMA IF EXISTS " + kafnus_schema + " CASCADE");
    } catch (const std::exception&) {
    }
  }

  ngsi::row& add(ngsi::flow f, const std::string& id, std::int64_t ti_s, std::vector<ngsi::column> attrs) {
    ngsi::row r;
    r.f = f;
    r.op = f == ngsi::flow::historic ? ngsi::operation::insert : ngsi::operation::upsert;
    r.table = {schema, f == ngsi::flow::historic ? "t" : "t_lastdata"};
    r.service = schema;
    r.entity_id = id;
    r.columns = {{"entityid", value::text_value(id)},
                 {"entitytype", value::text_value("T")},
                 {"fiwareservicepath", value::text_value("/")},
                 {"recvtime", value::timestamp(1'700'000'000'000'000)},
                 {"timeinstant", value::timestamp(ti_s * 1'000'000)}};
    r.timeinstant_us = ti_s * 1'000'000;
    for (auto& a : attrs) r.columns.push_back(std::move(a));
    rows.push_back(std::move(r));
    return rows.back();
  }

  postgis::write_result write(std::int64_t expected, std::int64_t next, const std::string& topic = "topic") {
    postgis::batch_writer w(conn, kafnus_schema, "group", postgis::unknown_column_policy::error, cache);
    postgis::write_request req;
    req.sources.push_back({topic, 0, expected, next});
    for (const auto& r : rows) req.rows.push_back({&r, 0});
    return w.write(req);
  }
};

}  // namespace

TEST(BatchWriter, WritesRowsAndMovesThePositionTogether) {
  writer_fixture f;
  f.add(ngsi::flow::historic, "A", 1, {{"temperature", value::number("21.5")}, {"flag", value::boolean(true)},
                                       {"doc", value::json("{\"a\":[1,2]}")},
                                       {"location", value::geometry("0101000020E6100000000000000000F03F0000000000000040")}});
  f.add(ngsi::flow::historic, "B", 2, {{"temperature", value::null()}});
  auto r = f.write(-1, 10);
  ASSERT_EQ(r.sources.size(), 1u);
  EXPECT_EQ(r.sources[0], postgis::position_outcome::advanced);
  EXPECT_EQ(f.pg.count(f.schema + ".t"), 2);
  EXPECT_EQ(f.pg.scalar("SELECT ST_AsText(location) FROM " + f.schema + ".t WHERE entityid = 'A'"), "POINT(1 2)");
  EXPECT_EQ(f.pg.scalar("SELECT doc->>'a' FROM " + f.schema + ".t WHERE entityid = 'A'"), "[1, 2]");
  EXPECT_EQ(f.pg.scalar("SELECT next_offset FROM " + f.kafnus_schema + ".offsets"), "10");
}

TEST(BatchWriter, ARetryOfACommittedTransactionWritesNothingTwice) {
  writer_fixture f;
  f.add(ngsi::flow::historic, "A", 1, {});
  EXPECT_EQ(f.write(-1, 5).sources[0], postgis::position_outcome::advanced);
  // The same request again (its commit acknowledgement was lost).
  EXPECT_EQ(f.write(-1, 5).sources[0], postgis::position_outcome::already_committed);
  EXPECT_EQ(f.pg.count(f.schema + ".t"), 1);
}

TEST(BatchWriter, AnotherOwnersPositionIsAConflictAndNothingIsWritten) {
  writer_fixture f;
  f.add(ngsi::flow::historic, "A", 1, {});
  EXPECT_EQ(f.write(-1, 5).sources[0], postgis::position_outcome::advanced);
  f.rows.clear();
  f.add(ngsi::flow::historic, "B", 2, {});
  EXPECT_EQ(f.write(3, 8).sources[0], postgis::position_outcome::conflict);
  EXPECT_EQ(f.pg.count(f.schema + ".t", "entityid = 'B'"), 0);
  EXPECT_EQ(f.pg.scalar("SELECT next_offset FROM " + f.kafnus_schema + ".offsets"), "5");
}

TEST(BatchWriter, BadRowsAreIsolatedAndLoggedTheRestIsWritten) {
  writer_fixture f;
  for (int i = 0; i < 10; ++i) f.add(ngsi::flow::historic, "E" + std::to_string(i), i, {});
  f.add(ngsi::flow::historic, "E3", 3, {});  // duplicate key of the fourth row
  auto& bad = f.add(ngsi::flow::historic, "X", 99, {{"flag", value::number("3")}});  // number into boolean
  (void)bad;
  auto r = f.write(-1, 12);
  EXPECT_TRUE(r.isolated);
  EXPECT_EQ(f.pg.count(f.schema + ".t"), 10);
  const auto log = f.schema + "." + f.schema + "_error_log";
  EXPECT_EQ(f.pg.count(log), 2);
  EXPECT_THAT(f.pg.scalar("SELECT string_agg(error, ' | ') FROM " + log),
              testing::AllOf(HasSubstr("duplicate key value violates unique constraint"),
                             HasSubstr("column \"flag\" is of type boolean but expression is of type numeric")));
  EXPECT_THAT(f.pg.scalar("SELECT string_agg(query, ' | ') FROM " + log), HasSubstr("INSERT INTO \"" + f.schema));
}

TEST(BatchWriter, LastdataFreshnessRuleAgainstStoredRows) {
  writer_fixture f;
  f.add(ngsi::flow::lastdata, "S", 1230, {{"temperature", value::number("25")}});
  f.write(-1, 1);
  f.rows.clear();
  f.add(ngsi::flow::lastdata, "S", 1210, {{"temperature", value::number("23")}});  // older: ignored
  f.write(1, 2);
  EXPECT_EQ(f.pg.scalar("SELECT temperature FROM " + f.schema + ".t_lastdata"), "25");
  f.rows.clear();
  f.add(ngsi::flow::lastdata, "S", 1230, {{"temperature", value::number("26")}});  // equal: wins
  f.write(2, 3);
  EXPECT_EQ(f.pg.scalar("SELECT temperature FROM " + f.schema + ".t_lastdata"), "26");
}

TEST(BatchWriter, AChangedTableIsReadAgain) {
  writer_fixture f;
  f.add(ngsi::flow::historic, "A", 1, {{"temperature", value::number("1")}});
  f.write(-1, 1);
  f.pg.exec("ALTER TABLE " + f.schema + ".t ALTER COLUMN temperature TYPE text");
  f.pg.exec("ALTER TABLE " + f.schema + ".t ADD COLUMN extra text");
  f.rows.clear();
  f.add(ngsi::flow::historic, "B", 2, {{"temperature", value::text_value("warm")}, {"extra", value::text_value("x")}});
  f.write(1, 2);
  EXPECT_EQ(f.pg.scalar("SELECT temperature || extra FROM " + f.schema + ".t WHERE entityid = 'B'"), "warmx");
}

TEST(BatchWriter, ErrorLogOfAServiceWithoutSchemaGoesToTheFallback) {
  writer_fixture f;
  postgis::batch_writer w(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::error, f.cache);
  postgis::write_request req;
  req.sources.push_back({"topic", 0, -1, 1});
  req.errors.push_back({postgis::error_log_entry{"no_such_service_xyz", 1'700'000'000'000'000, "bad", "-- q"}, 0});
  auto r = w.write(req);
  EXPECT_EQ(r.error_log_fallback, 1u);
  EXPECT_EQ(f.pg.count(f.kafnus_schema + ".error_log", "service = 'no_such_service_xyz'"), 1);
  EXPECT_FALSE(f.pg.table_exists("no_such_service_xyz", "no_such_service_xyz_error_log"));
}

TEST(BatchWriter, TheDirectCopyAndTheStagedPathStoreTheSameValues) {
  writer_fixture f;
  f.pg.exec("ALTER TABLE " + f.schema + ".t ADD COLUMN n bigint");
  f.add(ngsi::flow::historic, "direct", 1, {{"n", value::number("2")}, {"temperature", value::number("0.1")}});
  f.write(-1, 1);  // every value is an integer literal: COPY straight into the table
  f.rows.clear();
  f.add(ngsi::flow::historic, "staged", 2, {{"n", value::number("1.5")}, {"temperature", value::number("0.1")}});
  f.write(1, 2);  // 1.5 must be rounded by the cast: through the staging table
  EXPECT_EQ(f.pg.scalar("SELECT n FROM " + f.schema + ".t WHERE entityid = 'direct'"), "2");
  EXPECT_EQ(f.pg.scalar("SELECT n FROM " + f.schema + ".t WHERE entityid = 'staged'"), "2");
  EXPECT_EQ(f.pg.scalar("SELECT count(DISTINCT temperature) FROM " + f.schema + ".t"), "1");
}

TEST(OffsetsStore, PositionsOfManyPartitionsMoveInOneStatementWithTheSameOutcomes) {
  writer_fixture f;
  const auto offsets = f.kafnus_schema + ".offsets";
  {
    pqxx::work tx(f.conn);
    auto first = postgis::advance_positions(tx, f.kafnus_schema, "g",
                                            {{"a", 0, -1, 10}, {"a", 1, -1, 20}, {"b", 0, -1, 30}});
    tx.commit();
    EXPECT_EQ(first, std::vector<postgis::position_outcome>(3, postgis::position_outcome::advanced));
  }
  f.pg.exec("INSERT INTO " + offsets + " (consumer_group, topic, kafka_partition, next_offset) VALUES ('g', 'c', 0, 7)");
  {
    pqxx::work tx(f.conn);
    auto r = postgis::advance_positions(tx, f.kafnus_schema, "g",
                                        {{"a", 0, 10, 15},     // known, as expected: moves
                                         {"a", 1, 5, 25},      // someone else moved it: conflict
                                         {"b", 0, 25, 30},     // already at next: committed before
                                         {"c", 0, -1, 9},      // inserted meanwhile by another owner
                                         {"d", 3, -1, 4}});    // new: inserted
    tx.commit();
    using o = postgis::position_outcome;
    EXPECT_EQ(r, (std::vector<o>{o::advanced, o::conflict, o::already_committed, o::conflict, o::advanced}));
  }
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(topic || kafka_partition || '=' || next_offset, ',' ORDER BY topic, "
                        "kafka_partition) FROM " + offsets + " WHERE consumer_group = 'g'"),
            "a0=15,a1=20,b0=30,c0=7,d3=4");
  {
    // Two updates of one partition apply in order, as one by one.
    pqxx::work tx(f.conn);
    auto r = postgis::advance_positions(tx, f.kafnus_schema, "g", {{"a", 0, 15, 16}, {"a", 0, 16, 17}});
    tx.commit();
    EXPECT_EQ(r, std::vector<postgis::position_outcome>(2, postgis::position_outcome::advanced));
  }
  EXPECT_EQ(f.pg.scalar("SELECT next_offset FROM " + offsets + " WHERE topic = 'a' AND kafka_partition = 0"), "17");
}
