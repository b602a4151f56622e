// The writer's transaction on the real PostGIS: positions move with the rows
// (compare-and-set), bad rows are isolated, everything else is written.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <iterator>
#include <set>

#include <pqxx/pqxx>

#include "ngsi/transform.hpp"
#include "postgis/batch_writer.hpp"
#include "postgis/offsets_store.hpp"
#include "postgis/sql.hpp"
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
  postgis::session conn{kt::pg_connection_string()};  // binary COPY on the direct path, as in the daemon
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

  ngsi::row& add(ngsi::flow f, const std::string& id, std::int64_t ti_s, const std::vector<ngsi::column>& attrs) {
    ngsi::row r;
    r.f = f;
    r.op = f == ngsi::flow::historic ? ngsi::operation::insert : ngsi::operation::upsert;
    r.set_table({schema, f == ngsi::flow::historic ? "t" : "t_lastdata"});
    r.set_service(schema);
    r.columns = {{"entityid", value::text_value(id)},
                 {"entitytype", value::text_value("T")},
                 {"fiwareservicepath", value::text_value("/")},
                 {"recvtime", value::timestamp(1'700'000'000'000'000)},
                 {"timeinstant", value::timestamp(ti_s * 1'000'000)}};
    r.timeinstant_us = ti_s * 1'000'000;
    for (const auto& a : attrs) r.columns.push_back(a);
    rows.push_back(std::move(r));
    return rows.back();
  }

  postgis::write_result write(std::int64_t expected, std::int64_t next, const std::string& topic = "topic") {
    return write_as(conn, postgis::unknown_column_policy::error, expected, next, topic);
  }

  // On a session (binary COPY) or a plain libpqxx connection (COPY text).
  template <typename Connection>
  postgis::write_result write_as(Connection& c, postgis::unknown_column_policy policy, std::int64_t expected,
                                 std::int64_t next, const std::string& topic = "topic") {
    postgis::batch_writer w(c, kafnus_schema, "group", policy, cache);
    return write_by(w, expected, next, topic);
  }

  // By writer `w`, which may live on (its prepared statements with it).
  postgis::write_result write_by(postgis::batch_writer& w, std::int64_t expected, std::int64_t next,
                                 const std::string& topic = "topic") {
    postgis::write_request req;
    req.sources.push_back({topic, 0, expected, next});
    for (const auto& r : rows) req.rows.push_back({&r, 0});
    return w.write(req);
  }

  // Writes the rows on the fixture's session with binary COPY on or off.
  postgis::write_result write_with_binary_copy(bool binary, std::int64_t expected, std::int64_t next) {
    postgis::batch_writer w(conn, kafnus_schema, "group", postgis::unknown_column_policy::error, cache);
    w.set_binary_copy(binary);
    return write_by(w, expected, next);
  }

  // Writes the rows add_rows("text-") makes by COPY text, then the same
  // rows as add_rows("binary-") makes them by binary COPY (n of each):
  // every row must store the same `columns` both ways.
  void expect_binary_stores_what_text_stores(const std::function<void(const std::string&)>& add_rows,
                                             const std::string& table, std::size_t n, const std::string& columns) {
    add_rows("text-");
    auto r = write_with_binary_copy(false, -1, 1);
    EXPECT_FALSE(r.isolated);
    EXPECT_EQ(r.rows_rejected(), 0u) << errors();
    add_rows("binary-");
    r = write_with_binary_copy(true, 1, 2);
    EXPECT_FALSE(r.isolated);
    EXPECT_EQ(r.rows_rejected(), 0u) << errors();
    for (std::size_t k = 0; k < n; ++k) {
      const auto row_of = [&](const std::string& prefix) {
        return pg.scalar("SELECT (" + columns + ")::text FROM " + table + " WHERE entityid = '" + prefix +
                         std::to_string(k) + "'");
      };
      EXPECT_EQ(row_of("binary-"), row_of("text-")) << "row " << k;
    }
    EXPECT_EQ(pg.count(table), static_cast<long long>(2 * n));
  }

  // A trigger on each of `tables` (which have a text column `via`) that
  // stores there what `expression` says of the statement writing the row
  // (by default its first word: COPY, INSERT, PREPARE, EXECUTE).
  // The first word of the statement that wrote the row: an optimistic
  // transaction's head (BEGIN and the positions' EXECUTE, batch_writer.hpp)
  // is skipped when the statement came in the same query.
  void record_statement(const std::vector<std::string>& tables, const std::string& events = "INSERT",
                        const std::string& expression =
                            "split_part(regexp_replace(current_query(), "
                            "'^BEGIN;\\s*EXECUTE kafnus_s[0-9]+\\([^;]*;\\s*', ''), "
                            "' ', 1)") {
    pg.exec("CREATE OR REPLACE FUNCTION " + schema +
            ".via() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.via := " + expression + "; RETURN NEW; END $$");
    for (const auto& t : tables) {
      pg.exec("CREATE TRIGGER via BEFORE " + events + " ON " + t + " FOR EACH ROW EXECUTE FUNCTION " + schema +
              ".via()");
    }
  }

  std::string error_log() const { return schema + "." + schema + "_error_log"; }
  // The error-log entries' messages, for a failure's explanation.
  std::string errors() { return pg.scalar("SELECT coalesce(string_agg(error, ' | '), '') FROM " + error_log()); }
};

// A login role for least-privilege tests (trust authentication), dropped
// with everything it owns or was granted at the end.
struct login_role {
  std::string name = kt::unique_name("role");
  kt::pg_client pg;
  login_role() { pg.exec("CREATE ROLE " + name + " LOGIN"); }
  ~login_role() {
    try {
      pg.exec("DROP OWNED BY " + name + " CASCADE; DROP ROLE IF EXISTS " + name);
    } catch (const std::exception&) {
    }
  }
  // The privileges a writer needs on Kafnus's own tables and a service's
  // schema (its error log included), but none on the target tables.
  void grant_writer_basics(const std::string& kafnus_schema, const std::string& service_schema) {
    pg.exec("GRANT USAGE ON SCHEMA " + kafnus_schema + " TO " + name + "; GRANT SELECT, INSERT, UPDATE ON " +
            kafnus_schema + ".offsets, " + kafnus_schema + ".error_log TO " + name +
            "; GRANT USAGE, CREATE ON SCHEMA " + service_schema + " TO " + name);
  }
  std::string connection_string() const { return kt::pg_connection_string() + " user=" + name; }
};

}  // namespace

TEST(BatchWriter, WritesRowsAndMovesThePositionTogether) {
  writer_fixture f;
  f.add(ngsi::flow::historic, "A", 1,
        {{"temperature", value::number("21.5")},
         {"flag", value::boolean(true)},
         {"doc", value::json("{\"a\":[1,2]}")},
         {"location", value::geometry_from_hex("0101000020E6100000000000000000F03F0000000000000040")}});
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
  f.add(ngsi::flow::historic, "E3", 3, {});                                          // duplicate key of the fourth row
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
  req.errors.push_back({ngsi::error_entry{"no_such_service_xyz", 1'700'000'000'000'000, "bad", "-- q"}, 0});
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

// Issue 15: a group of a few rows is sent as an INSERT … VALUES of literals
// with the batch's other statements, not by COPY; both store the same
// values, on the direct path (historic) and through a staging table
// (lastdata). A trigger records which statement inserted each row.
TEST(BatchWriter, AFewRowsInsertedInlineStoreWhatACopyStores) {
  writer_fixture f;
  const auto t = f.schema + ".t";
  const auto tl = f.schema + ".t_lastdata";
  f.pg.exec("ALTER TABLE " + t + " ADD COLUMN note text, ADD COLUMN n bigint, ADD COLUMN via text");
  f.pg.exec("ALTER TABLE " + tl +
            " ADD COLUMN note text, ADD COLUMN n bigint, ADD COLUMN flag boolean, ADD COLUMN doc jsonb, "
            "ADD COLUMN location geometry(Point, 4326)");
  f.record_statement({t});
  const auto values = [] {
    return std::vector<ngsi::column>{
        {"note", value::text_value("it's \\N a\\tback\\\\slash\ttab\nline\r 'quoted'' ü 😀 ; --")},
        {"temperature", value::number("-1.5E3")},
        {"n", value::number("-9007199254740992")},
        {"flag", value::boolean(false)},
        {"doc", value::json(R"({"a":[1,"'\\"],"b":"\t"})")},
        {"location", value::geometry_from_hex("0101000020E6100000000000000000F03F0000000000000040")}};
  };
  auto write_with = [&](std::size_t inline_rows, const std::string& id, std::int64_t expected, std::int64_t next) {
    f.rows.clear();
    f.add(ngsi::flow::historic, id, 1, values());
    f.add(ngsi::flow::lastdata, id, 1, values());
    postgis::batch_writer w(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::error, f.cache);
    w.set_inline_rows(inline_rows);
    postgis::write_request req;
    req.sources.push_back({"topic", 0, expected, next});
    for (const auto& r : f.rows) req.rows.push_back({&r, 0});
    return w.write(req);
  };
  auto r = write_with(0, "copied", -1, 1);
  EXPECT_FALSE(r.isolated);
  EXPECT_EQ(r.rows_rejected(), 0u);
  r = write_with(postgis::batch_writer::kInlineRows, "inline", 1, 2);
  EXPECT_FALSE(r.isolated);
  EXPECT_EQ(r.rows_rejected(), 0u);

  EXPECT_EQ(f.pg.scalar("SELECT via FROM " + t + " WHERE entityid = 'copied'"), "COPY");
  EXPECT_EQ(f.pg.scalar("SELECT via FROM " + t + " WHERE entityid = 'inline'"), "INSERT")
      << "the INSERT went with the batch's other statements";
  const std::string columns = "note, temperature, n, flag, doc, location, timeinstant, recvtime, entitytype";
  for (const auto& table : {t, tl}) {
    EXPECT_EQ(f.pg.scalar("SELECT count(DISTINCT (" + columns + ")::text) FROM " + table), "1") << table;
    EXPECT_EQ(f.pg.count(table), 2) << table;
  }
  EXPECT_EQ(f.pg.scalar("SELECT note FROM " + t + " WHERE entityid = 'inline'"),
            "it's \\N a\\tback\\\\slash\ttab\nline\r 'quoted'' ü 😀 ; --");
  EXPECT_EQ(f.pg.scalar("SELECT doc->>'a' FROM " + tl + " WHERE entityid = 'inline'"), R"([1, "'\\"])");
  EXPECT_EQ(f.pg.scalar("SELECT ST_AsText(location) FROM " + tl + " WHERE entityid = 'inline'"), "POINT(1 2)");

  // One row more than kInlineRows: COPY again.
  f.rows.clear();
  for (std::size_t i = 0; i <= postgis::batch_writer::kInlineRows; ++i) {
    f.add(ngsi::flow::historic, "many", static_cast<std::int64_t>(10 + i), values());
  }
  postgis::batch_writer w(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::error, f.cache);
  EXPECT_FALSE(f.write_by(w, 2, 3).isolated);
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(DISTINCT via, ',') FROM " + t + " WHERE entityid = 'many'"), "COPY");
  EXPECT_EQ(f.pg.count(t, "entityid = 'many'"), static_cast<long long>(postgis::batch_writer::kInlineRows + 1));

  // A direct group's shape seen again, by the same writer, goes as EXECUTEs
  // of its prepared one-row INSERT (prepared by the second transaction
  // that meets it), and stores the same values.
  for (int i = 1; i <= 3; ++i) {
    f.rows.clear();
    f.add(ngsi::flow::historic, "again-" + std::to_string(i) + "a", 1, values());
    f.add(ngsi::flow::historic, "again-" + std::to_string(i) + "b", 1, values());
    const auto written = f.write_by(w, 2 + i, 3 + i);
    EXPECT_FALSE(written.isolated);
    EXPECT_EQ(written.rows_rejected(), 0u);
    EXPECT_EQ(w.prepared_inserts(), i == 1 ? 0u : 1u) << "prepared when seen in a second transaction";
  }
  // Prepared by a query of its own before the second transaction's batch.
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(via, ',' ORDER BY entityid) FROM " + t + " WHERE entityid LIKE 'again-%'"),
            "INSERT,INSERT,EXECUTE,EXECUTE,EXECUTE,EXECUTE");
  // PostgreSQL keeps the whole query string a PREPARE came in, and copies it
  // at every EXECUTE: the PREPARE alone, not a batch of statements.
  const auto texts = pqxx::nontransaction(f.conn).exec(
      "SELECT count(*), count(*) FILTER (WHERE statement LIKE '%EXECUTE%' OR statement LIKE '%INSERT%INSERT%') "
      "FROM pg_prepared_statements WHERE name LIKE 'kafnus_i%'");
  EXPECT_EQ(texts[0][0].as<int>(), 1);
  EXPECT_EQ(texts[0][1].as<int>(), 0) << "a prepared INSERT's text holds other statements";
  EXPECT_EQ(f.pg.scalar("SELECT count(DISTINCT (" + columns + ")::text) FROM " + t +
                        " WHERE entityid IN ('copied', 'inline') OR entityid LIKE 'again-%'"),
            "1");
}

// Issue 15: a prepared INSERT keeps the parameter types of its columns as
// they were; once the writer reads the table's schema again, a column whose
// type changed gets a statement prepared for the new type, so its values are
// read by the new type's input function (not cast from the old type's).
TEST(BatchWriter, APreparedInsertFollowsAColumnWhoseTypeChanged) {
  writer_fixture f;
  const auto t = f.schema + ".t";
  f.pg.exec("ALTER TABLE " + t + " ADD COLUMN r real");
  postgis::batch_writer w(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::error, f.cache);
  auto write = [&](int i) {
    f.rows.clear();
    f.add(ngsi::flow::historic, "e" + std::to_string(i), i, {{"r", value::number("0.1")}});
    const auto r = f.write_by(w, i == 1 ? -1 : i, i + 1);
    EXPECT_FALSE(r.isolated);
    EXPECT_EQ(r.rows_rejected(), 0u);
  };
  write(1);
  write(2);
  ASSERT_EQ(w.prepared_inserts(), 1u);
  f.pg.exec("ALTER TABLE " + t + " ALTER COLUMN r TYPE double precision");
  f.cache.invalidate({f.schema, "t"});  // as when the cached schema expires
  write(3);
  EXPECT_EQ(w.prepared_inserts(), 1u) << "the new types' statement is prepared when seen again";
  write(4);
  EXPECT_EQ(w.prepared_inserts(), 2u);
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(entityid || '=' || r, ',' ORDER BY entityid) FROM " + t +
                        " WHERE entityid IN ('e3', 'e4')"),
            "e3=0.1,e4=0.1");
}

// Issue 15: a one-row INSERT is prepared by a query of its own when its
// shape comes back; a transaction that fails afterwards does not undo it
// (PREPARE is not transactional), and the writer EXECUTEs it from then on.
TEST(BatchWriter, APreparedInsertOutlivesAFailedTransaction) {
  writer_fixture f;
  f.pg.exec("CREATE TABLE " + f.schema + ".bad (LIKE " + f.schema + ".t, CHECK (temperature < 100))");
  f.pg.exec("ALTER TABLE " + f.schema + ".t ADD COLUMN via text");
  f.record_statement({f.schema + ".t"});
  postgis::batch_writer w(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::error, f.cache);
  auto write = [&](int i, bool with_bad_row) {
    f.rows.clear();
    if (with_bad_row)
      f.add(ngsi::flow::historic, "bad", i, {{"temperature", value::number("500")}}).set_table({f.schema, "bad"});
    f.add(ngsi::flow::historic, "e" + std::to_string(i), i, {{"temperature", value::number("1")}});
    return f.write_by(w, i == 1 ? -1 : i, i + 1);
  };
  EXPECT_FALSE(write(1, false).isolated);
  const auto failed = write(2, true);  // e2's statement is prepared, then the bad row fails the batch
  EXPECT_TRUE(failed.isolated);
  EXPECT_EQ(failed.rows_rejected(), 1u);
  EXPECT_EQ(w.prepared_inserts(), 1u);
  EXPECT_FALSE(write(3, false).isolated);
  EXPECT_FALSE(write(4, false).isolated);
  EXPECT_EQ(w.prepared_inserts(), 1u);
  EXPECT_EQ(f.pg.count(f.schema + ".t", "entityid LIKE 'e%'"), 4);
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(via, ',' ORDER BY entityid) FROM " + f.schema +
                        ".t WHERE entityid IN ('e3', 'e4')"),
            "EXECUTE,EXECUTE");
}

// Issue 15: a few rows of an upsert group (lastdata, mutable) go straight
// into their table as INSERT … ON CONFLICT — literal the first time a shape
// is seen, then EXECUTEs of its prepared one-row statement — and no staging
// table is made, so the commit has none to empty. They store what the
// staged upsert stores, and the freshness rule holds on both paths.
TEST(BatchWriter, AFewUpsertedRowsGoStraightIntoTheirTable) {
  writer_fixture f;
  const auto tl = f.schema + ".t_lastdata";
  const auto tm = f.schema + ".t_mutable";
  f.pg.exec("ALTER TABLE " + tl + " ADD COLUMN note text, ADD COLUMN doc jsonb, ADD COLUMN via text");
  f.pg.exec("CREATE TABLE " + tm + " (LIKE " + tl + ", PRIMARY KEY (entityid, timeinstant))");
  f.pg.exec("ALTER TABLE " + tm + " ALTER COLUMN entityid SET NOT NULL");
  f.record_statement({tl, tm}, "INSERT OR UPDATE");
  const std::vector<ngsi::column> values{{"note", value::text_value("it's \\N a\ttab\nline 'q'' 😀")},
                                         {"temperature", value::number("-1.5E3")},
                                         {"doc", value::json(R"({"a":[1,"'\\"]})")}};
  auto add = [&](const std::string& id, std::int64_t ti, double temperature) {
    auto v = values;
    v[1] = {"temperature", value::number(std::to_string(temperature))};
    f.add(ngsi::flow::lastdata, id, ti, v);
    f.add(ngsi::flow::mutable_, id, ti, v).set_table({f.schema, "t_mutable"});
  };
  postgis::batch_writer w(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::error, f.cache);
  for (int i = 1; i <= 3; ++i) {
    f.rows.clear();
    add("e" + std::to_string(i), 10, 1);
    const auto r = f.write_by(w, i == 1 ? -1 : i, i + 1);
    EXPECT_FALSE(r.isolated);
    EXPECT_EQ(r.rows_rejected(), 0u) << f.errors();
  }
  EXPECT_EQ(w.staging_tables(), 0u) << "no staging table made";
  EXPECT_EQ(w.prepared_inserts(), 2u) << "one statement per table, prepared when seen in a second transaction";
  for (const auto& t : {tl, tm}) {
    EXPECT_EQ(f.pg.scalar("SELECT string_agg(via, ',' ORDER BY entityid) FROM " + t), "INSERT,EXECUTE,EXECUTE") << t;
  }
  // Again, newer: lastdata's row is updated, mutable gets a row for the new
  // TimeInstant; then older: lastdata keeps the newer row (freshness).
  f.rows.clear();
  add("e1", 20, 2);
  EXPECT_EQ(f.write_by(w, 4, 5).rows_rejected(), 0u);
  f.rows.clear();
  add("e1", 15, 3);
  EXPECT_EQ(f.write_by(w, 5, 6).rows_rejected(), 0u);
  EXPECT_EQ(f.pg.scalar("SELECT temperature || '@' || extract(epoch FROM timeinstant)::bigint FROM " + tl +
                        " WHERE entityid = 'e1'"),
            "2@20");
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(temperature::text, ',' ORDER BY timeinstant) FROM " + tm +
                        " WHERE entityid = 'e1'"),
            "1,3,2");
  // A row's value again for a stored key: mutable overwrites it (last write wins).
  f.rows.clear();
  add("e1", 15, 4);
  EXPECT_EQ(f.write_by(w, 6, 7).rows_rejected(), 0u);
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(temperature::text, ',' ORDER BY timeinstant) FROM " + tm +
                        " WHERE entityid = 'e1'"),
            "1,4,2");
  EXPECT_EQ(w.staging_tables(), 0u);

  // The staged path stores the same values.
  postgis::batch_writer staged(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::error, f.cache);
  staged.set_inline_rows(0);
  f.rows.clear();
  add("staged", 10, 1);
  EXPECT_EQ(f.write_by(staged, 7, 8).rows_rejected(), 0u);
  EXPECT_GT(staged.staging_tables(), 0u);
  for (const auto& t : {tl, tm}) {
    EXPECT_EQ(f.pg.scalar("SELECT count(DISTINCT (note, temperature, doc, timeinstant, recvtime, entitytype)::text) "
                          "FROM " +
                          t + " WHERE entityid IN ('staged', 'e2', 'e3')"),
              "1")
        << t;
  }
  EXPECT_EQ(f.pg.scalar("SELECT note FROM " + tl + " WHERE entityid = 'e3'"), "it's \\N a\ttab\nline 'q'' 😀");
}

// Issue 15: a direct group (historic) goes by binary COPY on a session, each
// value in its column type's binary form; what it stores is what COPY text
// stores, for every type it writes, hostile texts, NULLs, numbers at the
// edges of their types and instants before 1970 and 2000. A trigger records
// which COPY inserted each row.
TEST(BatchWriter, ABinaryCopyStoresWhatACopyTextStores) {
  writer_fixture f;
  const auto t = f.schema + ".types";
  f.pg.exec("CREATE TABLE " + t +
            " (entityid text NOT NULL, entitytype varchar(20), fiwareservicepath character(3), "
            "recvtime timestamp without time zone, timeinstant timestamptz, temperature double precision, r real, "
            "n bigint, i integer, s smallint, flag boolean, doc jsonb, j json, location geometry(Point, 4326), "
            "g geometry, gt text, note text, nothing text, via text, PRIMARY KEY (timeinstant, entityid))");
  f.record_statement({t}, "INSERT", "current_query()");
  const std::vector<std::vector<std::string>> numbers{
      // temperature, r, n, i, s
      {"-1.5E3", "3.4028235e38", "-9223372036854775808", "2147483647", "-32768"},
      {"0.1", "0.1", "9223372036854775807", "-2147483648", "32767"},
      {"-0", "-0", "0", "0", "0"},
      {"9007199254740993", "16777217", "-1", "-1", "-1"},
      {"1.7976931348623157e308", "1e-06", "42", "7", "3"},
      {"4000.1234", "1E+2", "9007199254740993", "100", "-100"},
  };
  const std::int64_t instants[] = {-1'262'304'000, 0, 946'684'799, 946'684'800, 1'700'000'000, 4'102'444'800};
  auto add_rows = [&](const std::string& prefix) {
    f.rows.clear();
    for (std::size_t k = 0; k < numbers.size(); ++k) {
      const auto& n = numbers[k];
      auto& r = f.add(
          ngsi::flow::historic, prefix + std::to_string(k), instants[k],
          {{"temperature", value::number(n[0])},
           {"r", value::number(n[1])},
           {"n", value::number(n[2])},
           {"i", value::number(n[3])},
           {"s", value::number(n[4])},
           {"flag", value::boolean(k % 2 == 0)},
           {"doc", value::json(R"({"a":[1,"'\\"],"b":"\t","c":{"d":null}})")},
           {"j", value::json("[1,2.50,\"x\"]")},
           {"location", value::geometry_from_hex("0101000020E6100000000000000000F03F0000000000000040")},
           {"g", value::geometry_from_hex("0103000020E6100000010000000400000065FCFB8C0B070EC06BD44334BA274440309E4143"
                                          "FF040EC06BD44334BA274440309E4143FF040EC04E7ADFF8DA27444065FCFB8C0B070EC0"
                                          "6BD44334BA274440")},
           {"gt", value::geometry_from_hex("0101000020e6100000000000000000f03f0000000000000040")},
           {"note", value::text_value("it's \\N a\\tback\\\\slash\ttab\nline\r 'q'' ü 😀 ; --\\.")},
           {"nothing", value{}}});
      r.set_table({f.schema, "types"});
    }
  };
  f.expect_binary_stores_what_text_stores(
      add_rows, t, numbers.size(),
      "entitytype, fiwareservicepath, recvtime, timeinstant, temperature, r, n, i, s, flag, doc, j, location, g, gt, "
      "note, nothing");

  const auto via = [&](const std::string& prefix) {
    return f.pg.scalar("SELECT string_agg(DISTINCT via, ',') FROM " + t + " WHERE entityid LIKE '" + prefix + "%'");
  };
  EXPECT_THAT(via("text-"), testing::AllOf(testing::StartsWith("COPY "), testing::EndsWith(") FROM STDIN")));
  EXPECT_THAT(via("binary-"),
              testing::AllOf(testing::StartsWith("COPY "), testing::EndsWith(") FROM STDIN (FORMAT binary)")));
  EXPECT_EQ(f.pg.scalar("SELECT timeinstant FROM " + t + " WHERE entityid = 'binary-0'"), "1930-01-01 00:00:00+00");
  EXPECT_EQ(f.pg.scalar("SELECT n FROM " + t + " WHERE entityid = 'binary-0'"), "-9223372036854775808");
  EXPECT_EQ(f.pg.scalar("SELECT temperature FROM " + t + " WHERE entityid = 'binary-3'"), "9.007199254740992e+15");
  EXPECT_EQ(f.pg.scalar("SELECT note FROM " + t + " WHERE entityid = 'binary-0'"),
            "it's \\N a\\tback\\\\slash\ttab\nline\r 'q'' ü 😀 ; --\\.");
  EXPECT_EQ(f.pg.scalar("SELECT doc->'c' FROM " + t + " WHERE entityid = 'binary-0'"), R"({"d": null})");
  EXPECT_EQ(f.pg.scalar("SELECT j FROM " + t + " WHERE entityid = 'binary-1'"), "[1,2.50,\"x\"]");
  // A geometry into a text column: its EWKB as upper-case hex, by either COPY.
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(DISTINCT gt, ',') FROM " + t),
            "0101000020E6100000000000000000F03F0000000000000040");
  EXPECT_EQ(f.pg.scalar("SELECT ST_AsText(location) FROM " + t + " WHERE entityid = 'binary-0'"), "POINT(1 2)");
  EXPECT_EQ(f.pg.scalar("SELECT fiwareservicepath FROM " + t + " WHERE entityid = 'binary-0'"), "/  ");
}

// Issue 15: lastdata and mutable stage their rows by binary COPY too; a
// staged number is numeric, written as base-10,000 digits. What the upsert
// then stores is what COPY text staging stores: numbers into double
// precision, numeric and numeric(10,2) columns and into a text column (as
// written), at every scale and exponent.
TEST(BatchWriter, AStagedBinaryCopyStoresWhatCopyTextStores) {
  writer_fixture f;
  const auto t = f.schema + ".t_lastdata";
  f.pg.exec("ALTER TABLE " + t +
            " ADD COLUMN amount numeric, ADD COLUMN price numeric(10,2), ADD COLUMN label text, "
            "ADD COLUMN flag boolean, ADD COLUMN doc jsonb, ADD COLUMN j json, "
            "ADD COLUMN location geometry(Point, 4326), ADD COLUMN note text");
  const std::vector<std::string> numbers{"-1.5E3",
                                         "0.1",
                                         "-0",
                                         "-0.00",
                                         "0.000123",
                                         "1e-06",
                                         "123456789012345678901234567890.123456789",
                                         "9007199254740993",
                                         "1E+2",
                                         "2.50",
                                         "1.005",
                                         "-2.345",
                                         "10000",
                                         "99990000.0001e-4",
                                         "1e300",
                                         "7E-300"};
  auto add_rows = [&](const std::string& prefix) {
    f.rows.clear();
    for (std::size_t k = 0; k < numbers.size(); ++k) {
      const auto& n = numbers[k];
      const bool small = k != 6 && k != 7 && k != 14 && k != 15;  // fits numeric(10,2)
      f.add(ngsi::flow::lastdata, prefix + std::to_string(k), static_cast<std::int64_t>(k) - 5,
            {{"temperature", value::number(n)},
             {"amount", value::number(n)},
             {"price", value::number(small ? n : "1")},
             {"label", value::number(n)},
             {"flag", value::boolean(k % 2 == 0)},
             {"doc", value::json(R"({"a":[1,"'\\"],"b":"\t"})")},
             {"j", value::json("[1,2.50]")},
             {"location", value::geometry_from_hex("0101000020E6100000000000000000F03F0000000000000040")},
             {"note", value::text_value("it's \\N a\ttab\nline ü 😀 \\.")}});
    }
  };
  f.expect_binary_stores_what_text_stores(add_rows, t, numbers.size(),
                                          "entitytype, fiwareservicepath, recvtime, timeinstant, temperature, amount, "
                                          "price, label, flag, doc, j, location, note");
  const auto amount = [&](std::size_t k) {
    return f.pg.scalar("SELECT amount || ' ' || price || ' ' || label FROM " + t + " WHERE entityid = 'binary-" +
                       std::to_string(k) + "'");
  };
  EXPECT_EQ(amount(0), "-1500 -1500.00 -1.5E3");
  EXPECT_EQ(amount(3), "0.00 0.00 -0.00");
  EXPECT_EQ(amount(4), "0.000123 0.00 0.000123");
  EXPECT_EQ(amount(6), "123456789012345678901234567890.123456789 1.00 123456789012345678901234567890.123456789");
  EXPECT_EQ(amount(10), "1.005 1.01 1.005");
  EXPECT_EQ(amount(13), "9999.00000001 9999.00 99990000.0001e-4");
}

// A value the binary writer cannot write exactly (a number beyond its
// column type's range) sends its group as COPY text, where PostgreSQL
// rejects that row alone, as before: never an infinity, a zero or a wrapped
// integer stored. (Every type a group can go straight into has a writer:
// numeric too.)
TEST(BatchWriter, WhatABinaryCopyCannotWriteGoesAsCopyText) {
  writer_fixture f;
  const auto t = f.schema + ".t";
  const auto num = f.schema + ".num";
  f.pg.exec("ALTER TABLE " + t + " ADD COLUMN i integer, ADD COLUMN via text");
  f.pg.exec("CREATE TABLE " + num + " (LIKE " + t + ")");
  f.pg.exec("ALTER TABLE " + num + " ALTER COLUMN temperature TYPE numeric, ADD PRIMARY KEY (timeinstant, entityid)");
  f.record_statement({t, num}, "INSERT",
                     "CASE WHEN current_query() LIKE '%(FORMAT binary)' THEN 'binary' ELSE "
                     "split_part(current_query(), ' ', 1) END");
  for (int k = 0; k < 5; ++k) {
    f.add(ngsi::flow::historic, "num" + std::to_string(k), 40 + k, {{"temperature", value::number("0.1")}})
        .set_table({f.schema, "num"});
  }
  for (int k = 0; k < 5; ++k)
    f.add(ngsi::flow::historic, "bin" + std::to_string(k), 50 + k, {{"i", value::number("1")}});
  auto r = f.write(-1, 1);
  EXPECT_FALSE(r.isolated);
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(DISTINCT via, ',') || ' ' || sum(temperature) FROM " + num), "binary 0.5");
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(DISTINCT via, ',') FROM " + t), "binary");

  f.rows.clear();
  const char* temperatures[] = {"1.5", "1e400", "2.5", "1e-400", "3.5", "4.5"};
  for (int k = 0; k < 6; ++k) {
    f.add(ngsi::flow::historic, "e" + std::to_string(k), k + 1, {{"temperature", value::number(temperatures[k])}});
  }
  f.add(ngsi::flow::historic, "wide", 20, {{"i", value::number("2147483648")}});
  for (int k = 0; k < 5; ++k)
    f.add(ngsi::flow::historic, "ok" + std::to_string(k), 30 + k, {{"i", value::number("1")}});
  r = f.write(1, 2);
  EXPECT_EQ(r.rows_rejected(), 3u);
  EXPECT_EQ(f.pg.count(t, "entityid NOT LIKE 'bin%'"), 4 + 5);
  EXPECT_EQ(f.pg.scalar("SELECT sum(temperature) FROM " + t), "12");
  EXPECT_EQ(f.pg.scalar("SELECT sum(i) FROM " + t), "10");
  EXPECT_EQ(f.pg.count(f.error_log(), "error LIKE '%out of range%'"), 3);
}

// The same outcomes from the statement of literals and from the prepared one
// (what the batch writer uses: one EXECUTE, a single partition included),
// whose topics go as an array literal.
TEST(OffsetsStore, PositionsOfManyPartitionsMoveInOneStatementWithTheSameOutcomes) {
  writer_fixture f;
  const auto offsets = f.kafnus_schema + ".offsets";
  using o = postgis::position_outcome;
  for (const std::string group : {"g", "prepared"}) {
    SCOPED_TRACE(group);
    std::string name;
    if (group == "prepared") {
      name = "kafnus_test_positions";
      pqxx::nontransaction(f.conn).exec("PREPARE " + name + " AS " +
                                        postgis::prepared_positions_statement(f.kafnus_schema, group));
    }
    const std::string odd = "it's \"odd\", {really} \\ odd";
    auto advance = [&](const std::vector<postgis::position_update>& updates) {
      pqxx::work tx(f.conn);
      auto r = postgis::advance_positions(tx, f.kafnus_schema, group, updates, {}, name);
      tx.commit();
      return r;
    };
    EXPECT_EQ(advance({{"a", 0, -1, 10}, {"a", 1, -1, 20}, {"b", 0, -1, 30}, {odd, 2, -1, 40}}),
              std::vector<o>(4, o::advanced));
    f.pg.exec("INSERT INTO " + offsets + " (consumer_group, topic, kafka_partition, next_offset) VALUES (" +
              postgis::quote_literal(group) + ", 'c', 0, 7)");
    EXPECT_EQ(advance({{"a", 0, 10, 15},   // known, as expected: moves
                       {"a", 1, 5, 25},    // someone else moved it: conflict
                       {"b", 0, 25, 30},   // already at next: committed before
                       {"c", 0, -1, 9},    // inserted meanwhile by another owner
                       {"d", 3, -1, 4}}),  // new: inserted
              (std::vector<o>{o::advanced, o::conflict, o::already_committed, o::conflict, o::advanced}));
    EXPECT_EQ(advance({{"d", 3, 3, 5}}), std::vector<o>{o::conflict});
    EXPECT_EQ(advance({{odd, 2, 40, 41}}), std::vector<o>{o::advanced});
    EXPECT_EQ(f.pg.scalar("SELECT string_agg(topic || kafka_partition || '=' || next_offset, ',' ORDER BY topic, "
                          "kafka_partition) FROM " +
                          offsets + " WHERE consumer_group = " + postgis::quote_literal(group)),
              "a0=15,a1=20,b0=30,c0=7,d3=4," + odd + "2=41");
    // Two updates of one partition apply in order, as one by one.
    EXPECT_EQ(advance({{"a", 0, 15, 16}, {"a", 0, 16, 17}}), std::vector<o>(2, o::advanced));
    EXPECT_EQ(f.pg.scalar("SELECT next_offset FROM " + offsets + " WHERE topic = 'a' AND kafka_partition = 0 AND " +
                          "consumer_group = " + postgis::quote_literal(group)),
              "17");
  }
}

// Issue 16.3: a missing GRANT on one table costs only that table's rows. libpqxx
// 6.4 throws insufficient_privilege without its SQLSTATE; it is still a data
// problem, not a transient one, on the direct COPY path (historic) and on the
// staged path (lastdata upsert without UPDATE).
TEST(BatchWriter, ATableWithoutInsertGrantCostsOnlyItsRows) {
  writer_fixture f;
  f.pg.exec("CREATE TABLE " + f.schema + ".other (LIKE " + f.schema + ".t)");
  login_role role;
  role.grant_writer_basics(f.kafnus_schema, f.schema);
  role.pg.exec("GRANT SELECT ON " + f.schema + ".t TO " + role.name + "; GRANT SELECT, INSERT ON " + f.schema +
               ".t_lastdata TO " + role.name + "; GRANT SELECT, INSERT ON " + f.schema + ".other TO " + role.name);
  for (int i = 0; i < 3; ++i) f.add(ngsi::flow::historic, "H" + std::to_string(i), i, {});
  for (int i = 0; i < 2; ++i) f.add(ngsi::flow::lastdata, "L" + std::to_string(i), i, {});
  for (int i = 0; i < 4; ++i)
    f.add(ngsi::flow::historic, "O" + std::to_string(i), i, {}).set_table({f.schema, "other"});
  postgis::session as_role(role.connection_string());
  pqxx::nontransaction(as_role).exec("SET TimeZone = 'UTC'");
  const auto r = f.write_as(as_role, postgis::unknown_column_policy::error, -1, 9);
  EXPECT_EQ(r.sources[0], postgis::position_outcome::advanced);
  EXPECT_EQ(f.pg.count(f.schema + ".other"), 4);
  EXPECT_EQ(f.pg.count(f.schema + ".t"), 0);
  EXPECT_EQ(f.pg.count(f.error_log()), 5);
  EXPECT_EQ(f.pg.count(f.error_log(), "error LIKE '%permission denied for table t'"), 3);
  EXPECT_EQ(f.pg.count(f.error_log(), "error LIKE '%permission denied for table t\\_lastdata'"), 2);
}

// Issue 16.5: "unknown_columns: add" without owning the table: the row that
// needs the column goes to the error log with PostgreSQL's message; the rest
// is written.
TEST(BatchWriter, AddingAColumnWithoutOwnershipCostsOnlyThatRow) {
  writer_fixture f;
  login_role role;
  role.grant_writer_basics(f.kafnus_schema, f.schema);
  role.pg.exec("GRANT SELECT, INSERT ON " + f.schema + ".t TO " + role.name);
  f.add(ngsi::flow::historic, "plain", 1, {{"temperature", value::number("1")}});
  f.add(ngsi::flow::historic, "new_attribute", 2, {{"extra", value::text_value("x")}});
  f.add(ngsi::flow::historic, "plain2", 3, {});
  postgis::session as_role(role.connection_string());
  const auto r = f.write_as(as_role, postgis::unknown_column_policy::add, -1, 3);
  EXPECT_EQ(r.sources[0], postgis::position_outcome::advanced);
  EXPECT_EQ(f.pg.count(f.schema + ".t"), 2);
  EXPECT_EQ(f.pg.count(f.schema + ".t", "entityid = 'new_attribute'"), 0);
  ASSERT_EQ(f.pg.count(f.error_log()), 1);
  EXPECT_THAT(f.pg.scalar("SELECT error || ' / ' || query FROM " + f.error_log()),
              testing::AllOf(HasSubstr("must be owner of table t"), HasSubstr("'new_attribute'")));
  EXPECT_EQ(r.added_columns, 0u);
}

// Issue 16.5: a table already at PostgreSQL's 1,600 columns cannot get
// another one: that row only goes to the error log.
TEST(BatchWriter, AddingAColumnToAFullTableCostsOnlyThatRow) {
  writer_fixture f;
  std::string cols;
  for (int i = 0; i < 1591; ++i) cols += std::string(i ? ", " : "") + "ADD COLUMN a" + std::to_string(i) + " boolean";
  f.pg.exec("ALTER TABLE " + f.schema + ".t " + cols);
  EXPECT_EQ(
      f.pg.scalar("SELECT count(*) FROM pg_attribute WHERE attrelid = '" + f.schema + ".t'::regclass AND attnum > 0"),
      "1600");
  f.add(ngsi::flow::historic, "fits", 1, {{"a7", value::boolean(true)}});
  f.add(ngsi::flow::historic, "one_too_many", 2, {{"extra", value::text_value("x")}});
  const auto r = f.write_as(f.conn, postgis::unknown_column_policy::add, -1, 2);
  EXPECT_EQ(r.sources[0], postgis::position_outcome::advanced);
  EXPECT_EQ(f.pg.count(f.schema + ".t", "entityid = 'fits'"), 1);
  ASSERT_EQ(f.pg.count(f.error_log()), 1);
  EXPECT_THAT(f.pg.scalar("SELECT error FROM " + f.error_log()), HasSubstr("at most 1600 columns"));
}

// Issue 16.4: a row wider than a staging table can be (1,600 columns) fails
// CREATE TEMP TABLE; that is isolated like any other data error.
TEST(BatchWriter, ARowTooWideForAStagingTableCostsOnlyItself) {
  writer_fixture f;
  std::vector<ngsi::column> many;
  many.reserve(1600);
  for (int i = 0; i < 1600; ++i) many.push_back({"w" + std::to_string(i), value::number("1")});
  f.add(ngsi::flow::lastdata, "wide", 1, many);
  f.add(ngsi::flow::lastdata, "narrow", 1, {{"temperature", value::number("5")}});
  f.add(ngsi::flow::historic, "historic", 1, {{"temperature", value::number("5")}});
  const auto r = f.write(-1, 3);
  EXPECT_EQ(r.sources[0], postgis::position_outcome::advanced);
  EXPECT_EQ(f.pg.count(f.schema + ".t_lastdata", "entityid = 'narrow'"), 1);
  EXPECT_EQ(f.pg.count(f.schema + ".t"), 1);
  ASSERT_EQ(f.pg.count(f.error_log()), 1);
  EXPECT_THAT(f.pg.scalar("SELECT error FROM " + f.error_log()), HasSubstr("at most 1600 columns"));
}

// Issue 16.8: a view is not COPied into (PostgreSQL refuses) but staged and
// inserted at once: one attempt, nothing isolated.
TEST(BatchWriter, AViewTargetIsWrittenAtOnceWithoutIsolating) {
  writer_fixture f;
  f.pg.exec("CREATE VIEW " + f.schema + ".v AS SELECT * FROM " + f.schema + ".t");
  for (int i = 0; i < 3; ++i) f.add(ngsi::flow::historic, "V" + std::to_string(i), i, {}).set_table({f.schema, "v"});
  const auto r = f.write(-1, 3);
  EXPECT_EQ(f.pg.count(f.schema + ".t"), 3);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_FALSE(r.isolated);
  EXPECT_EQ(r.error_log_rows, 0u);
}

// Issue 16.10: a number into a text column is stored as written, whether
// the group is COPied straight into the table or goes through staging.
TEST(BatchWriter, ANumberIntoATextColumnIsStoredAsWrittenOnEveryPath) {
  writer_fixture f;
  f.pg.exec("ALTER TABLE " + f.schema + ".t ADD COLUMN note text, ADD COLUMN n bigint");
  f.pg.exec("ALTER TABLE " + f.schema + ".t_lastdata ADD COLUMN note text");
  f.add(ngsi::flow::historic, "direct", 1, {{"note", value::number("1E5")}});
  f.add(ngsi::flow::historic, "staged", 2, {{"note", value::number("1E5")}, {"n", value::number("1.5")}});
  f.add(ngsi::flow::lastdata, "upsert", 3, {{"note", value::number("1E5")}});
  f.write(-1, 3);
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(DISTINCT note, ',') FROM " + f.schema + ".t"), "1E5");
  EXPECT_EQ(f.pg.count(f.schema + ".t"), 2);
  EXPECT_EQ(f.pg.scalar("SELECT note FROM " + f.schema + ".t_lastdata"), "1E5");
}

// Issue 11.7: rows folded within a batch are credited to their own service.
TEST(BatchWriter, FoldedRowsAreCreditedToTheirOwnService) {
  writer_fixture f;
  f.add(ngsi::flow::lastdata, "S", 1, {}).set_service("svc_a");
  f.add(ngsi::flow::lastdata, "S", 2, {}).set_service("svc_b");
  f.add(ngsi::flow::lastdata, "S", 3, {}).set_service("svc_b");
  const auto r = f.write(-1, 3);
  using fs = postgis::flow_service;
  EXPECT_EQ(r.written.at(fs{ngsi::flow::lastdata, "svc_a"}), 1);
  EXPECT_EQ(r.written.at(fs{ngsi::flow::lastdata, "svc_b"}), 2);
}

// Issue 16.10: a lastdata entity whose TimeInstant is an explicit null is
// treated as one without TimeInstant: it neither clears the stored
// TimeInstant nor loses to the freshness rule differently.
TEST(BatchWriter, ALastdataNullTimeInstantIsTreatedAsMissing) {
  writer_fixture f;
  f.pg.exec("CREATE TABLE " + f.schema + "._sensor_lastdata (LIKE " + f.schema + ".t_lastdata INCLUDING ALL)");
  auto write_notification = [&](const std::string& json, std::int64_t expected, std::int64_t next) {
    ngsi::transform_options o;
    o.f = ngsi::flow::lastdata;
    ngsi::transform_output out;
    ngsi::transform(json, {{"fiware-service", f.schema}}, o, 1'700'000'000'000'000, out);
    EXPECT_TRUE(out.errors.empty()) << out.errors.front().message;
    f.rows = std::move(out.rows);
    f.write(expected, next);
  };
  write_notification(
      R"({"data":[{"id":"S","type":"Sensor","TimeInstant":{"type":"DateTime","value":"2025-01-01T00:00:10Z"},"temperature":{"type":"Number","value":1}}]})",
      -1, 1);
  write_notification(
      R"({"data":[{"id":"S","type":"Sensor","TimeInstant":{"type":"DateTime","value":null},"temperature":{"type":"Number","value":2}}]})",
      1, 2);
  f.rows.clear();
  const auto table = f.schema + "._sensor_lastdata";
  EXPECT_EQ(f.pg.scalar("SELECT timeinstant FROM " + table), "2025-01-01 00:00:10+00");
  // As without TimeInstant: the attributes are written.
  EXPECT_EQ(f.pg.scalar("SELECT temperature FROM " + table), "2");
}

// Issue 11.7: error-log entries are counted when written, for their own
// flow and service: not those of a source that conflicted (never written).
TEST(BatchWriter, ErrorLogEntriesAreCountedOnlyWhenWritten) {
  writer_fixture f;
  f.pg.exec("INSERT INTO " + f.kafnus_schema +
            ".offsets (consumer_group, topic, kafka_partition, next_offset) VALUES ('group', 'taken', 0, 50)");
  postgis::batch_writer w(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::error, f.cache);
  postgis::write_request req;
  req.sources.push_back({"topic", 0, -1, 1});
  req.sources.push_back({"taken", 0, 10, 11});  // another owner moved it to 50: conflict
  req.errors.push_back(
      {ngsi::error_entry{f.schema, 1'700'000'000'000'000, "bad one", "-- q"}, 0, ngsi::flow::lastdata});
  req.errors.push_back(
      {ngsi::error_entry{f.schema, 1'700'000'000'000'000, "bad two", "-- q"}, 1, ngsi::flow::historic});
  const auto r = w.write(req);
  EXPECT_EQ(r.sources[1], postgis::position_outcome::conflict);
  EXPECT_EQ(f.pg.count(f.error_log()), 1);
  EXPECT_EQ(r.error_log_rows, 1u);
  using fs = postgis::flow_service;
  EXPECT_EQ(r.logged, (std::map<fs, std::int64_t>{{fs{ngsi::flow::lastdata, f.schema}, 1}}));
}

// An error-log entry no table can take (the role may not create the
// service's error log nor insert into the fallback) is counted as lost; the
// rows and positions are still committed.
TEST(BatchWriter, AnErrorLogNobodyCanWriteDoesNotStopTheRows) {
  writer_fixture f;
  login_role role;
  role.pg.exec("GRANT USAGE ON SCHEMA " + f.kafnus_schema + " TO " + role.name + "; GRANT SELECT, INSERT, UPDATE ON " +
               f.kafnus_schema + ".offsets TO " + role.name + "; GRANT USAGE ON SCHEMA " + f.schema + " TO " +
               role.name + "; GRANT SELECT, INSERT ON " + f.schema + ".t TO " + role.name);
  f.add(ngsi::flow::historic, "good", 1, {});
  f.add(ngsi::flow::historic, "bad", 2, {{"flag", value::number("3")}});  // number into boolean
  postgis::session as_role(role.connection_string());
  const auto r = f.write_as(as_role, postgis::unknown_column_policy::error, -1, 2);
  EXPECT_EQ(r.sources[0], postgis::position_outcome::advanced);
  EXPECT_EQ(f.pg.count(f.schema + ".t"), 1);
  EXPECT_EQ(r.error_log_lost, 1u);
  EXPECT_THAT(r.error_log_lost_reason, HasSubstr("permission denied"));
  EXPECT_EQ(r.error_log_rows, 0u);
  EXPECT_TRUE(r.logged.empty());
}

// A deferred constraint fails the COMMIT, not a statement: the batch is
// isolated with constraints checked at their statement.
TEST(BatchWriter, ADeferredConstraintIsIsolatedLikeAnyOther) {
  writer_fixture f;
  f.pg.exec("CREATE TABLE " + f.schema +
            ".d (entityid text, entitytype text, fiwareservicepath text, "
            "recvtime timestamptz, timeinstant timestamptz, "
            "CONSTRAINT d_once UNIQUE (entityid) DEFERRABLE INITIALLY DEFERRED)");
  f.add(ngsi::flow::historic, "A", 1, {}).set_table({f.schema, "d"});
  f.add(ngsi::flow::historic, "B", 2, {}).set_table({f.schema, "d"});
  f.add(ngsi::flow::historic, "A", 3, {}).set_table({f.schema, "d"});
  const auto r = f.write(-1, 3);
  EXPECT_TRUE(r.isolated);
  EXPECT_EQ(f.pg.count(f.schema + ".d"), 2);
  ASSERT_EQ(f.pg.count(f.error_log()), 1);
  EXPECT_THAT(f.pg.scalar("SELECT error FROM " + f.error_log()), HasSubstr("d_once"));
}

// Shapes for the bounds below: columns x0…x39 (text) and y0…y7 (boolean)
// on the lastdata table; shape i (i < 320) has i % 40 texts, i / 40
// booleans and a number, so each is a staging table and a statement of its
// own.
void add_shape_columns(writer_fixture& f) {
  std::string columns;
  for (int k = 0; k < 40; ++k)
    columns += std::string(columns.empty() ? "" : ", ") + "ADD COLUMN x" + std::to_string(k) + " text";
  for (int k = 0; k < 8; ++k) columns += ", ADD COLUMN y" + std::to_string(k) + " boolean";
  f.pg.exec("ALTER TABLE " + f.schema + ".t_lastdata " + columns);
}

void add_shape(writer_fixture& f, std::size_t i, std::int64_t ti = 1) {
  std::vector<ngsi::column> attrs;
  for (std::size_t k = 0; k < i % 40; ++k) attrs.push_back({"x" + std::to_string(k), value::text_value("t")});
  for (std::size_t k = 0; k < i / 40; ++k) attrs.push_back({"y" + std::to_string(k), value::boolean(true)});
  attrs.push_back({"temperature", value::number("1")});
  f.add(ngsi::flow::lastdata, "E" + std::to_string(i), ti, attrs);
}

// The names of the group statements prepared on the writer's session.
std::set<std::string> prepared_group_statements(writer_fixture& f) {
  std::set<std::string> names;
  for (const auto& row :
       pqxx::nontransaction(f.conn).exec("SELECT name FROM pg_prepared_statements WHERE name LIKE 'kafnus_g%'")) {
    names.insert(row[0].as<std::string>());
  }
  return names;
}

// Issue 16.7: staging tables are one per row shape, and shapes come from
// message content: a session keeps at most kMaxStagingTables of them.
TEST(BatchWriter, StagingTablesOfASessionAreBounded) {
  writer_fixture f;
  postgis::batch_writer w(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::error, f.cache);
  w.set_inline_rows(0);  // a group of a few rows would go straight into its table
  const std::size_t shapes = postgis::batch_writer::kMaxStagingTables + 40;
  add_shape_columns(f);
  for (std::size_t i = 0; i < shapes; ++i) add_shape(f, i);
  const auto r = f.write_by(w, -1, 1);
  EXPECT_FALSE(r.isolated) << "the statements beyond the bound run unprepared";
  EXPECT_EQ(r.rows_rejected(), 0u);
  EXPECT_EQ(f.pg.count(f.schema + ".t_lastdata"), static_cast<long long>(shapes));
  EXPECT_EQ(w.staging_tables(), postgis::batch_writer::kMaxStagingTables);
  const auto in_session = pqxx::nontransaction(f.conn).exec(
      "SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relname LIKE 'kafnus_stage%'");
  EXPECT_EQ(in_session[0][0].as<std::size_t>(), postgis::batch_writer::kMaxStagingTables);
  // The session keeps as many statements as the bound.
  EXPECT_EQ(w.prepared_statements(), postgis::batch_writer::kMaxPreparedStatements);
  EXPECT_EQ(prepared_group_statements(f).size(), postgis::batch_writer::kMaxPreparedStatements);
}

// Issue 15 (--sweep tables): when every transaction touches more tables
// than the writer keeps statements for, it keeps the ones it has (they run
// in every transaction) and runs the others unprepared, rather than
// prepare, run once and deallocate one per table each time. A statement
// idle for kPreparedIdleWrites writes makes room for a new one.
TEST(BatchWriter, StatementsInUseAreKeptWhenTransactionsTouchMoreTablesThanTheBound) {
  writer_fixture f;
  postgis::batch_writer w(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::error, f.cache);
  w.set_inline_rows(0);
  const std::size_t shapes = postgis::batch_writer::kMaxPreparedStatements + 40;
  add_shape_columns(f);
  auto write_shapes = [&](std::size_t from, std::size_t to, std::int64_t n) {
    f.rows.clear();
    for (std::size_t i = from; i < to; ++i) add_shape(f, i, n);
    const auto r = f.write_by(w, n == 1 ? -1 : n, n + 1);
    EXPECT_FALSE(r.isolated);
    EXPECT_EQ(r.rows_rejected(), 0u);
  };
  write_shapes(0, shapes, 1);
  const auto kept = prepared_group_statements(f);
  ASSERT_EQ(kept.size(), postgis::batch_writer::kMaxPreparedStatements);
  write_shapes(0, shapes, 2);
  EXPECT_EQ(prepared_group_statements(f), kept) << "the second transaction prepared statements again";
  EXPECT_EQ(f.pg.count(f.schema + ".t_lastdata", "timeinstant = to_timestamp(2)"), static_cast<long long>(shapes));

  // A new shape alone, write after write: it runs unprepared until the
  // least recently used statement has been idle for kPreparedIdleWrites.
  const std::size_t fresh = shapes;
  std::int64_t n = 3;
  for (; n < 2 + static_cast<std::int64_t>(postgis::batch_writer::kPreparedIdleWrites); ++n) {
    write_shapes(fresh, fresh + 1, n);
  }
  EXPECT_EQ(prepared_group_statements(f), kept);
  write_shapes(fresh, fresh + 1, n);
  const auto now = prepared_group_statements(f);
  EXPECT_EQ(now.size(), postgis::batch_writer::kMaxPreparedStatements);
  std::vector<std::string> gone;
  std::set_difference(kept.begin(), kept.end(), now.begin(), now.end(), std::back_inserter(gone));
  EXPECT_EQ(gone.size(), 1u) << "the idle statement makes room for the new shape's";
}

// A staged group's statement is prepared once per session and executed with
// the others of its transaction; it follows its table when that table is
// dropped and created again between batches.
TEST(BatchWriter, StagedStatementsArePreparedOnceAndFollowTheirTable) {
  writer_fixture f;
  postgis::batch_writer w(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::error, f.cache);
  w.set_inline_rows(0);  // staged, not straight into the table
  auto write_one = [&](const std::string& id, std::int64_t expected, std::int64_t next) {
    f.rows.clear();
    f.add(ngsi::flow::lastdata, id, 1, {{"temperature", value::number("20")}});
    postgis::write_request req;
    req.sources.push_back({"topic", 0, expected, next});
    for (const auto& r : f.rows) req.rows.push_back({&r, 0});
    return w.write(req);
  };
  auto prepared_in_session = [&] { return static_cast<int>(prepared_group_statements(f).size()); };
  EXPECT_FALSE(write_one("A", -1, 1).isolated);
  EXPECT_FALSE(write_one("B", 1, 2).isolated);
  EXPECT_FALSE(write_one("C", 2, 3).isolated);
  EXPECT_EQ(f.pg.count(f.schema + ".t_lastdata"), 3);
  EXPECT_EQ(prepared_in_session(), 1) << "one statement shape, prepared once";

  f.pg.exec("DROP TABLE " + f.schema + ".t_lastdata; CREATE TABLE " + f.schema +
            ".t_lastdata (entityid text PRIMARY KEY, entitytype text, fiwareservicepath text, "
            "recvtime timestamptz, timeinstant timestamptz, temperature double precision)");
  const auto r = write_one("D", 3, 4);
  EXPECT_EQ(r.sources[0], postgis::position_outcome::advanced);
  EXPECT_EQ(r.rows_rejected(), 0u);
  EXPECT_EQ(f.pg.count(f.schema + ".t_lastdata"), 1) << "written into the new table";
  EXPECT_EQ(f.pg.scalar("SELECT entityid FROM " + f.schema + ".t_lastdata"), "D");
}

// A commit that fails — in the statements sent with it, or because the
// transaction had already failed — leaves no transaction open: the next one
// on the same connection works.
TEST(ExplicitTransaction, AFailedCommitLeavesTheConnectionReady) {
  writer_fixture f;
  const auto t = f.schema + ".t_lastdata";
  {
    postgis::explicit_transaction x(f.conn);
    x.tx().exec("INSERT INTO " + t + " (entityid) VALUES ('lost')");
    EXPECT_THROW(x.commit("INSERT INTO " + t + " (entityid) VALUES ('lost')"), pqxx::unique_violation);
  }
  {
    postgis::explicit_transaction x(f.conn);
    EXPECT_THROW(x.tx().exec("SELECT 1 / 0"), pqxx::data_exception);
    EXPECT_THROW(x.commit(), pqxx::sql_error) << "a failed transaction never commits quietly";
  }
  postgis::explicit_transaction x(f.conn);
  x.tx().exec("INSERT INTO " + t + " (entityid) VALUES ('kept')");
  x.commit("INSERT INTO " + t + " (entityid) VALUES ('also kept')");
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(entityid, ',' ORDER BY entityid) FROM " + t), "also kept,kept");
}

// Issue 15: the writer plans the next transaction and builds its COPY data
// while PostgreSQL commits the one before (start, prepare, finish). The
// next write uses that work, and stores what a write without it stores.
TEST(BatchWriter, TheNextWriteIsPreparedWhileTheCommitBeforeIsOnItsWay) {
  writer_fixture f;
  postgis::batch_writer w(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::error, f.cache);
  const auto rows_at = [&](std::int64_t ti, const std::string& temperature) {
    f.rows.clear();
    for (int i = 0; i < 10; ++i) {
      f.add(ngsi::flow::historic, "h" + std::to_string(i), ti, {{"temperature", value::number(temperature)}});
      f.add(ngsi::flow::lastdata, "l" + std::to_string(i), ti, {{"temperature", value::number(temperature)}});
    }
    return std::move(f.rows);
  };
  const auto request = [](const std::vector<ngsi::row>& rows, std::int64_t expected, std::int64_t next) {
    postgis::write_request req;
    req.sources.push_back({"topic", 0, expected, next});
    for (const auto& r : rows) req.rows.push_back({&r, 0});
    return req;
  };
  const auto first = rows_at(100, "1.5");
  const auto second = rows_at(200, "2.5");
  const auto req1 = request(first, -1, 1);
  const auto req2 = request(second, 1, 2);

  w.start(req1);
  EXPECT_TRUE(w.started());
  w.prepare(req2);  // the schemas are cached by now: no database needed
  const auto r1 = w.finish();
  EXPECT_FALSE(w.started());
  ASSERT_EQ(r1.sources.at(0), postgis::position_outcome::advanced);
  EXPECT_EQ(w.preparations_used(), 0u);
  const auto r2 = w.write(req2);
  ASSERT_EQ(r2.sources.at(0), postgis::position_outcome::advanced);
  EXPECT_EQ(w.preparations_used(), 1u) << "the second write used what prepare() made";
  EXPECT_FALSE(r2.isolated);
  EXPECT_EQ(r2.written.at({ngsi::flow::historic, f.schema}), 10);
  EXPECT_EQ(r2.written.at({ngsi::flow::lastdata, f.schema}), 10);
  EXPECT_EQ(f.pg.count(f.schema + ".t"), 20);
  EXPECT_EQ(f.pg.scalar("SELECT count(*) FROM " + f.schema + ".t WHERE temperature = 2.5"), "10");
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(DISTINCT temperature::text, ',') FROM " + f.schema + ".t_lastdata"), "2.5");
  EXPECT_EQ(f.pg.count(f.schema + ".t_lastdata"), 10);
}

// What was prepared is not used when the write would do otherwise: a
// column added for the rows ("unknown_columns: add") changes the table's
// schema, and a source that conflicts writes none of its rows.
TEST(BatchWriter, APreparationIsNotUsedWhenATableChangesOrASourceConflicts) {
  writer_fixture f;
  postgis::batch_writer w(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::add, f.cache);
  f.add(ngsi::flow::historic, "E", 1, {{"temperature", value::number("1")}});
  ASSERT_EQ(f.write_by(w, -1, 1).sources.at(0), postgis::position_outcome::advanced);

  f.rows.clear();
  for (int i = 0; i < 8; ++i) {
    f.add(ngsi::flow::historic, "E", 10 + i, {{"temperature", value::number("2")}, {"humidity", value::number("55")}});
  }
  postgis::write_request req;
  req.sources.push_back({"topic", 0, 1, 2});
  for (const auto& r : f.rows) req.rows.push_back({&r, 0});
  w.prepare(req);  // planned against the table without "humidity"
  const auto r = w.write(req);
  ASSERT_EQ(r.sources.at(0), postgis::position_outcome::advanced);
  EXPECT_EQ(r.added_columns, 1u);
  EXPECT_EQ(r.rows_rejected(), 0u) << f.errors();
  EXPECT_EQ(w.preparations_used(), 0u);
  EXPECT_EQ(f.pg.scalar("SELECT count(*) FROM " + f.schema + ".t WHERE humidity = 55"), "8");

  req.sources[0] = {"topic", 0, 1, 3};  // position 2 is stored: this source conflicts
  w.prepare(req);
  const auto c = w.write(req);
  EXPECT_EQ(c.sources.at(0), postgis::position_outcome::conflict);
  EXPECT_EQ(w.preparations_used(), 0u);
  EXPECT_EQ(f.pg.count(f.schema + ".t"), 9);
}

// Issue 15: a write's first attempt is optimistic. In a steady stream its
// BEGIN, the positions' strict compare-and-set, the rows and the COMMIT go
// to PostgreSQL in one query, one round trip.
TEST(BatchWriter, OneQueryCarriesTheBeginThePositionsTheRowsAndTheCommit) {
  writer_fixture f;
  const auto t = f.schema + ".t";
  f.pg.exec("ALTER TABLE " + t + " ADD COLUMN via text");
  f.record_statement({t}, "INSERT", "current_query()");
  postgis::batch_writer w(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::error, f.cache);
  // The first write reads the table's schema, the second prepares the
  // rows' INSERT: each sends its head before that, in a query of its own.
  for (int i = 0; i < 2; ++i) {
    f.rows.clear();
    f.add(ngsi::flow::historic, "warm" + std::to_string(i), 1, {{"temperature", value::number("0")}});
    ASSERT_EQ(f.write_by(w, i == 0 ? -1 : 1, i + 1).sources.at(0), postgis::position_outcome::advanced);
  }
  EXPECT_EQ(f.pg.count(t, "via LIKE 'BEGIN%'"), 0) << f.pg.scalar("SELECT string_agg(via, ' | ') FROM " + t);
  f.rows.clear();
  f.add(ngsi::flow::historic, "a", 1, {{"temperature", value::number("1")}});
  f.add(ngsi::flow::historic, "b", 1, {{"temperature", value::number("2")}});
  postgis::write_request req;
  req.sources = {{"topic", 0, 2, 4}, {"topic", 1, -1, 7}};
  req.rows = {{&f.rows[0], 0}, {&f.rows[1], 1}};
  const auto r = w.write(req);
  ASSERT_EQ(r.sources.size(), 2u);
  EXPECT_EQ(r.sources[0], postgis::position_outcome::advanced);
  EXPECT_EQ(r.sources[1], postgis::position_outcome::advanced);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(w.optimistic_misses(), 0u);
  EXPECT_EQ(f.pg.count(t), 4);
  EXPECT_EQ(f.pg.count(t, "entityid IN ('a', 'b') AND via LIKE 'BEGIN;%EXECUTE kafnus_s%EXECUTE kafnus_i%COMMIT'"), 2)
      << f.pg.scalar("SELECT string_agg(via, ' | ') FROM " + t);
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(kafka_partition || '=' || next_offset, ',' ORDER BY kafka_partition) FROM " +
                        f.kafnus_schema + ".offsets"),
            "0=4,1=7");
  // The positions' two statements were prepared by a query each (the text
  // a PREPARE came in is copied at every EXECUTE).
  const auto texts = pqxx::nontransaction(f.conn).exec(
      "SELECT count(*), count(*) FILTER (WHERE statement LIKE '%PREPARE%PREPARE%') FROM pg_prepared_statements "
      "WHERE name LIKE 'kafnus_p%' OR name LIKE 'kafnus_s%'");
  EXPECT_EQ(texts[0][0].as<int>(), 2);
  EXPECT_EQ(texts[0][1].as<int>(), 0) << "a positions statement's text holds the other's PREPARE";
}

// A position that is not where the optimistic attempt expects it fails that
// transaction; the careful attempt then writes the rows of the sources that
// advance, and none of the others.
TEST(BatchWriter, AnOptimisticMissWritesOnlyTheRowsOfTheSourcesThatAdvance) {
  writer_fixture f;
  postgis::batch_writer w(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::error, f.cache);
  f.add(ngsi::flow::historic, "first", 1, {});
  ASSERT_EQ(f.write_by(w, -1, 5).sources.at(0), postgis::position_outcome::advanced);
  EXPECT_EQ(w.optimistic_misses(), 0u);

  f.rows.clear();
  f.add(ngsi::flow::historic, "stale", 2, {});  // partition 0 is at 5, not at 3: another owner's
  f.add(ngsi::flow::historic, "fresh", 2, {});  // partition 1: new
  f.add(ngsi::flow::lastdata, "fresh", 2, {});
  postgis::write_request req;
  req.sources = {{"topic", 0, 3, 8}, {"topic", 1, -1, 2}};
  req.rows = {{&f.rows[0], 0}, {&f.rows[1], 1}, {&f.rows[2], 1}};
  const auto r = w.write(req);
  EXPECT_EQ(r.sources.at(0), postgis::position_outcome::conflict);
  EXPECT_EQ(r.sources.at(1), postgis::position_outcome::advanced);
  EXPECT_EQ(w.optimistic_misses(), 1u);
  EXPECT_EQ(r.attempts, 2) << "the optimistic transaction, then the careful one";
  EXPECT_FALSE(r.isolated);
  EXPECT_EQ(r.written.at({ngsi::flow::historic, f.schema}), 1);
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(entityid, ',' ORDER BY entityid) FROM " + f.schema + ".t"), "first,fresh");
  EXPECT_EQ(f.pg.count(f.schema + ".t_lastdata"), 1);
  EXPECT_EQ(f.pg.scalar("SELECT string_agg(kafka_partition || '=' || next_offset, ',' ORDER BY kafka_partition) FROM " +
                        f.kafnus_schema + ".offsets"),
            "0=5,1=2");

  // The next write is optimistic again, and needs no second attempt.
  f.rows.clear();
  f.add(ngsi::flow::historic, "next", 3, {});
  const auto n = f.write_by(w, 5, 6);
  EXPECT_EQ(n.sources.at(0), postgis::position_outcome::advanced);
  EXPECT_EQ(n.attempts, 1);
  EXPECT_EQ(w.optimistic_misses(), 1u);
}

// When the optimistic attempt has to send something before its commit (a
// COPY of a group too large to go inline), its BEGIN and compare-and-set go
// first: a miss then leaves nothing of the COPY behind.
TEST(BatchWriter, AnOptimisticHeadGoesBeforeACopyAndAMissLeavesNothingOfIt) {
  writer_fixture f;
  postgis::batch_writer w(f.conn, f.kafnus_schema, "group", postgis::unknown_column_policy::error, f.cache);
  const auto many = [&](const std::string& prefix) {
    f.rows.clear();
    for (std::size_t i = 0; i <= postgis::batch_writer::kInlineRows * 2; ++i) {
      f.add(ngsi::flow::historic, prefix + std::to_string(i), 1, {{"temperature", value::number("1")}});
    }
  };
  many("copied");
  auto r = f.write_by(w, -1, 5);
  EXPECT_EQ(r.sources.at(0), postgis::position_outcome::advanced);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(f.pg.count(f.schema + ".t"), static_cast<long long>(f.rows.size()));

  many("lost");
  r = f.write_by(w, 3, 9);  // the position is at 5
  EXPECT_EQ(r.sources.at(0), postgis::position_outcome::conflict);
  EXPECT_EQ(w.optimistic_misses(), 1u);
  EXPECT_EQ(f.pg.count(f.schema + ".t", "entityid LIKE 'lost%'"), 0)
      << "the COPY ran outside the optimistic transaction";
  EXPECT_EQ(f.pg.scalar("SELECT next_offset FROM " + f.kafnus_schema + ".offsets"), "5");

  // A lost commit acknowledgement: the same write again is already committed.
  many("copied");
  r = f.write_by(w, -1, 5);
  EXPECT_EQ(r.sources.at(0), postgis::position_outcome::already_committed);
  EXPECT_EQ(f.pg.count(f.schema + ".t"), static_cast<long long>(f.rows.size()));
}
