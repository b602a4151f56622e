#include "test/support/pg_client.hpp"

#include <pqxx/pqxx>

#include "test/support/test_env.hpp"

namespace kafnus::test {

pg_client::pg_client() { reconnect_if_needed(); }
pg_client::~pg_client() = default;

void pg_client::reconnect_if_needed() {
  if (conn_ && conn_->is_open()) return;
  conn_ = std::make_unique<pqxx::connection>(pg_connection_string());
  pqxx::nontransaction(*conn_).exec("SET TimeZone = 'UTC'");
}

void pg_client::exec(const std::string& sql) {
  reconnect_if_needed();
  pqxx::nontransaction tx(*conn_);
  tx.exec(sql);
}

std::vector<sql_row> pg_client::query(const std::string& sql) {
  reconnect_if_needed();
  pqxx::nontransaction tx(*conn_);
  std::vector<sql_row> out;
  for (const auto& row : tx.exec(sql)) {
    sql_row r;
    for (const auto& f : row) {
      if (f.is_null()) {
        r.emplace_back(std::nullopt);
      } else {
        r.emplace_back(f.as<std::string>());
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string pg_client::scalar(const std::string& sql) {
  auto rows = query(sql);
  if (rows.empty() || rows[0].empty()) throw std::runtime_error("no row for: " + sql);
  return rows[0][0].value_or("");
}

long long pg_client::count(const std::string& table, const std::string& where) {
  return std::stoll(scalar("SELECT count(*) FROM " + table + (where.empty() ? "" : " WHERE " + where)));
}

bool pg_client::table_exists(const std::string& schema, const std::string& table) {
  reconnect_if_needed();
  pqxx::nontransaction tx(*conn_);
  auto r = tx.exec_params("SELECT to_regclass($1) IS NOT NULL", tx.quote_name(schema) + "." + tx.quote_name(table));
  return r[0][0].as<bool>();
}

}  // namespace kafnus::test
