#include "postgis/offsets_store.hpp"

#include <pqxx/nontransaction>
#include <pqxx/result>
#include <pqxx/transaction>

#include "postgis/sql.hpp"

namespace kafnus::postgis {

void ensure_kafnus_tables(pqxx::connection& conn, const std::string& schema) {
  const auto s = quote_ident(schema);
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
  auto cur = tx.exec_params("SELECT next_offset FROM " + table +
                                " WHERE consumer_group = $1 AND topic = $2 AND kafka_partition = $3",
                            group, u.topic, u.partition);
  if (!cur.empty() && cur[0][0].as<std::int64_t>() == u.next) return position_outcome::already_committed;
  return position_outcome::conflict;
}

}  // namespace kafnus::postgis
