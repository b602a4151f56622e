#include "postgis/offsets_store.hpp"

#include <array>
#include <set>
#include <utility>

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "postgis/error_class.hpp"
#include "postgis/explicit_transaction.hpp"
#include "postgis/savepoint.hpp"
#include "postgis/sql.hpp"

namespace kafnus::postgis {

void ensure_kafnus_tables(pqxx::connection_base& conn, const std::string& schema) {
  const auto s = quote_ident(schema);
  {
    // Present already (created by an operator or another daemon): nothing to
    // create, so a role that may write but not create (least privilege)
    // starts as well.
    pqxx::nontransaction check(conn);
    const auto r = check.exec("SELECT to_regclass(" + quote_literal(s + ".offsets") + ") IS NOT NULL AND to_regclass(" +
                              quote_literal(s + ".error_log") + ") IS NOT NULL");
    if (r[0][0].as<bool>()) return;
  }
  pqxx::work tx(conn);
  // Serialize concurrent creators (several daemons starting at once).
  tx.exec("SELECT pg_advisory_xact_lock(hashtext(" + quote_literal("kafnus-ddl:" + schema) + "))");
  tx.exec("CREATE SCHEMA IF NOT EXISTS " + s);
  tx.exec("CREATE TABLE IF NOT EXISTS " + s +
          ".offsets ("
          "consumer_group text NOT NULL, "
          "topic text NOT NULL, "
          "kafka_partition integer NOT NULL, "
          "next_offset bigint NOT NULL, "
          "updated_at timestamptz NOT NULL DEFAULT now(), "
          "PRIMARY KEY (consumer_group, topic, kafka_partition))");
  tx.exec("CREATE TABLE IF NOT EXISTS " + s +
          ".error_log ("
          "\"timestamp\" timestamptz NOT NULL, "
          "service text NOT NULL, "
          "error text NOT NULL, "
          "query text NULL)");
  tx.commit();
}

std::map<std::int32_t, std::int64_t> read_positions(pqxx::transaction_base& tx, const std::string& schema,
                                                    const std::string& group, const std::string& topic) {
  std::map<std::int32_t, std::int64_t> out;
  auto r = tx.exec_params("SELECT kafka_partition, next_offset FROM " + quote_ident(schema) +
                              ".offsets WHERE consumer_group = $1 AND topic = $2",
                          group, topic);
  for (const auto& row : r) out[row[0].as<std::int32_t>()] = row[1].as<std::int64_t>();
  return out;
}

namespace {

// Why a position that was not moved was not: the row is already at `next`
// (this very transaction committed before its outcome was lost) or elsewhere.
position_outcome not_advanced(pqxx::transaction_base& tx, const std::string& table, const std::string& group,
                              const position_update& u) {
  auto cur = tx.exec_params(
      "SELECT next_offset FROM " + table + " WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3", group,
      u.topic, u.partition);
  if (!cur.empty() && cur[0][0].as<std::int64_t>() == u.next) return position_outcome::already_committed;
  return position_outcome::conflict;
}

}  // namespace

position_outcome advance_position(pqxx::transaction_base& tx, const std::string& schema, const std::string& group,
                                  const position_update& u) {
  const auto table = quote_ident(schema) + ".offsets";
  pqxx::result r;
  if (u.expected < 0) {
    r = tx.exec_params("INSERT INTO " + table +
                           " (consumer_group, topic, kafka_partition, next_offset) VALUES ($1, $2, $3, $4) "
                           "ON CONFLICT DO NOTHING",
                       group, u.topic, u.partition, u.next);
  } else {
    r = tx.exec_params("UPDATE " + table +
                           " SET next_offset = $4, updated_at = now() "
                           "WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3 AND next_offset = $5",
                       group, u.topic, u.partition, u.next, u.expected);
  }
  if (r.affected_rows() == 1) return position_outcome::advanced;
  return not_advanced(tx, table, group, u);
}

namespace {

// The compare-and-set of a transaction's positions over the rows of `v`
// (i, topic, kafka_partition, expected, next): known partitions move by
// compare-and-set, new ones are inserted unless someone else inserted them
// first; it returns the i of those that moved. Strict, it returns nothing
// when all of them moved and fails otherwise (prepared_strict_positions_statement).
std::string positions_statement(const std::string& table, const std::string& group, const std::string& v,
                                bool strict = false) {
  const auto g = quote_literal(group);
  return "WITH v (i, topic, kafka_partition, expected, next) AS (" + v +
         "), "
         "upd AS (UPDATE " +
         table +
         " o SET next_offset = v.next, updated_at = now() FROM v "
         "WHERE v.expected >= 0 AND o.consumer_group = " +
         g +
         " AND o.topic = v.topic "
         "AND o.kafka_partition = v.kafka_partition AND o.next_offset = v.expected RETURNING v.i), "
         "ins AS (INSERT INTO " +
         table +
         " (consumer_group, topic, kafka_partition, next_offset) "
         "SELECT " +
         g +
         ", v.topic, v.kafka_partition, v.next FROM v WHERE v.expected < 0 "
         "ON CONFLICT DO NOTHING RETURNING topic, kafka_partition)" +
         (strict ? std::string(", moved AS (") : std::string(" ")) +
         "SELECT i FROM upd UNION ALL SELECT v.i FROM v JOIN ins USING (topic, kafka_partition) WHERE v.expected < 0" +
         // (A data-modifying WITH must stay at the top level, so the check is
         // this statement's last SELECT; count(*) is no constant, so the
         // division is not folded when the statement is planned.)
         (strict ? ") SELECT 1 FROM moved HAVING count(*) / (count(*) = (SELECT count(*) FROM v))::integer < 0" : "");
}

// An array literal of texts, as SQL text: '{"a","b"}'.
std::string text_array(const std::vector<position_update>& updates) {
  std::string a = "{";
  for (std::size_t i = 0; i < updates.size(); ++i) {
    if (i) a += ',';
    a += '"';
    for (const char c : updates[i].topic) {
      if (c == '"' || c == '\\') a += '\\';
      a += c;
    }
    a += '"';
  }
  a += '}';
  return quote_literal(a);
}

// An array literal of the numbers `field(i, update)` gives: '{1,2}'.
template <class Field>
std::string number_array(const std::vector<position_update>& updates, Field field) {
  std::string a = "'{";
  for (std::size_t i = 0; i < updates.size(); ++i) {
    if (i) a += ',';
    a += std::to_string(field(i, updates[i]));
  }
  return a + "}'";
}

// The rows of `v`: the arrays of the updates' index, topic, partition,
// expected and next positions (literals, or the prepared statement's
// parameters), side by side.
std::string positions_rows(const std::array<std::string, 5>& arrays) {
  return "SELECT * FROM unnest(" + arrays[0] + "::integer[], " + arrays[1] + "::text[], " + arrays[2] +
         "::integer[], " + arrays[3] + "::bigint[], " + arrays[4] + "::bigint[])";
}

}  // namespace

std::string prepared_positions_statement(const std::string& schema, const std::string& group) {
  return positions_statement(quote_ident(schema) + ".offsets", group, positions_rows({"$1", "$2", "$3", "$4", "$5"}));
}

std::string prepared_strict_positions_statement(const std::string& schema, const std::string& group) {
  return positions_statement(quote_ident(schema) + ".offsets", group, positions_rows({"$1", "$2", "$3", "$4", "$5"}),
                             true);
}

bool positions_fit_one_statement(const std::vector<position_update>& updates) {
  std::set<std::pair<std::string, std::int32_t>> partitions;
  for (const auto& u : updates) partitions.emplace(u.topic, u.partition);
  return !updates.empty() && partitions.size() == updates.size();
}

namespace {

std::array<std::string, 5> positions_arrays(const std::vector<position_update>& updates) {
  return {number_array(updates, [](std::size_t i, const auto&) { return i; }), text_array(updates),
          number_array(updates, [](std::size_t, const auto& u) { return u.partition; }),
          number_array(updates, [](std::size_t, const auto& u) { return u.expected; }),
          number_array(updates, [](std::size_t, const auto& u) { return u.next; })};
}

}  // namespace

std::string execute_positions(const std::string& prepared, const std::vector<position_update>& updates) {
  const auto a = positions_arrays(updates);
  return "EXECUTE " + prepared + "(" + a[0] + ", " + a[1] + ", " + a[2] + ", " + a[3] + ", " + a[4] + ")";
}

bool positions_moved_elsewhere(const std::exception& e) { return sqlstate_of(e) == "22012"; }

std::vector<position_outcome> advance_positions(pqxx::transaction_base& tx, const std::string& schema,
                                                const std::string& group, const std::vector<position_update>& updates,
                                                const std::string& before, const std::string& prepared) {
  std::vector<position_outcome> out;
  out.reserve(updates.size());
  // Two updates of one partition must apply in order (the second sees the
  // first's result), which one statement cannot express: one by one then.
  if (!positions_fit_one_statement(updates) || (updates.size() < 2 && prepared.empty())) {
    if (!before.empty()) tx.exec(before);
    for (const auto& u : updates) out.push_back(advance_position(tx, schema, group, u));
    return out;
  }
  const auto table = quote_ident(schema) + ".offsets";
  // The statement prepared from prepared_positions_statement() (PostgreSQL
  // neither parses nor plans it again), or the same statement in full.
  const std::string statement = prepared.empty()
                                    ? positions_statement(table, group, positions_rows(positions_arrays(updates)))
                                    : execute_positions(prepared, updates);
  const auto r = tx.exec((before.empty() ? "" : before + ";\n") + statement);
  std::vector<bool> moved(updates.size(), false);
  for (const auto& row : r) moved.at(row[0].as<std::size_t>()) = true;
  for (std::size_t i = 0; i < updates.size(); ++i) {
    out.push_back(moved[i] ? position_outcome::advanced : not_advanced(tx, table, group, updates[i]));
  }
  return out;
}

namespace {

// Whether the table `qualified_name` (quoted as SQL writes it) exists.
bool relation_exists(pqxx::transaction_base& tx, const std::string& qualified_name) {
  return tx.exec("SELECT to_regclass(" + quote_literal(qualified_name) + ") IS NOT NULL")[0][0].as<bool>();
}

}  // namespace

bool offsets_table_exists(pqxx::transaction_base& tx, const std::string& schema) {
  return relation_exists(tx, quote_ident(schema) + ".offsets");
}

std::map<std::pair<std::string, std::int32_t>, stored_position> read_group_positions(pqxx::transaction_base& tx,
                                                                                     const std::string& schema,
                                                                                     const std::string& group) {
  std::map<std::pair<std::string, std::int32_t>, stored_position> out;
  auto r = tx.exec_params("SELECT topic, kafka_partition, next_offset, updated_at FROM " + quote_ident(schema) +
                              ".offsets WHERE consumer_group = $1",
                          group);
  for (const auto& row : r) {
    out[{row[0].as<std::string>(), row[1].as<std::int32_t>()}] =
        stored_position{row[2].as<std::int64_t>(), row[3].as<std::string>()};
  }
  return out;
}

namespace {

std::string moves_table(const std::string& schema) { return quote_ident(schema) + ".position_moves"; }

}  // namespace

void move_positions(pqxx::connection_base& conn, const std::string& schema, const std::string& group,
                    std::vector<position_move>& moves, std::string& audit_error) {
  const auto offsets = quote_ident(schema) + ".offsets";
  explicit_transaction etx(conn);  // survives a refused CREATE TABLE
  auto& tx = etx.tx();
  bool audit = relation_exists(tx, moves_table(schema));
  if (!audit) {
    // A role that may move positions but not create tables still moves them.
    try {
      in_savepoint(tx, [&] {
        tx.exec("SELECT pg_advisory_xact_lock(hashtext(" + quote_literal("kafnus-ddl:" + schema) + "))");
        tx.exec("CREATE TABLE IF NOT EXISTS " + moves_table(schema) +
                " (moved_at timestamptz NOT NULL DEFAULT now(), "
                "consumer_group text NOT NULL, "
                "topic text NOT NULL, "
                "kafka_partition integer NOT NULL, "
                "from_offset bigint NULL, "
                "to_offset bigint NOT NULL, "
                "moved_by text NOT NULL, "
                "reason text NULL)");
      });
      audit = true;
    } catch (const std::exception& e) {
      audit_error = e.what();
    }
  }
  for (auto& m : moves) {
    auto cur = tx.exec_params("SELECT next_offset FROM " + offsets +
                                  " WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3 FOR UPDATE",
                              group, m.topic, m.partition);
    m.from = cur.empty() ? -1 : cur[0][0].as<std::int64_t>();
    tx.exec_params("INSERT INTO " + offsets +
                       " (consumer_group, topic, kafka_partition, next_offset) VALUES ($1, $2, $3, $4) "
                       "ON CONFLICT (consumer_group, topic, kafka_partition) "
                       "DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()",
                   group, m.topic, m.partition, m.to);
    if (audit) {
      tx.exec_params("INSERT INTO " + moves_table(schema) +
                         " (consumer_group, topic, kafka_partition, from_offset, to_offset, moved_by, reason) "
                         "VALUES ($1, $2, $3, NULLIF($4, -1), $5, $6, NULLIF($7, ''))",
                     group, m.topic, m.partition, m.from, m.to, m.moved_by, m.reason);
    }
  }
  etx.commit();
}

std::optional<position_move> last_position_move(pqxx::transaction_base& tx, const std::string& schema,
                                                const std::string& group, const std::string& topic,
                                                std::int32_t partition, std::int64_t to) {
  if (!relation_exists(tx, moves_table(schema))) return std::nullopt;
  auto r =
      tx.exec_params("SELECT COALESCE(from_offset, -1), to_offset, moved_by, COALESCE(reason, ''), moved_at FROM " +
                         moves_table(schema) +
                         " WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3 "
                         "AND ($4 < 0 OR to_offset = $4) ORDER BY moved_at DESC LIMIT 1",
                     group, topic, partition, to);
  if (r.empty()) return std::nullopt;
  position_move m;
  m.topic = topic;
  m.partition = partition;
  m.from = r[0][0].as<std::int64_t>();
  m.to = r[0][1].as<std::int64_t>();
  m.moved_by = r[0][2].as<std::string>();
  m.reason = r[0][3].as<std::string>();
  m.moved_at = r[0][4].as<std::string>();
  return m;
}

}  // namespace kafnus::postgis
