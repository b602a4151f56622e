#include "postgis/connection.hpp"

#include <libpq-fe.h>
#include <pqxx/except>
#include <pqxx/nontransaction>

#include "postgis/sql.hpp"

namespace kafnus::postgis {
namespace {

void add(std::string& out, const char* key, const std::string& value) {
  if (value.empty()) return;
  if (!out.empty()) out += ' ';
  out += key;
  out += '=';
  out += '\'';
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
}

}  // namespace

std::string connection_string(const config::postgres_settings& pg) {
  std::string s;
  add(s, "host", pg.host);
  add(s, "port", std::to_string(pg.port));
  add(s, "dbname", pg.database);
  add(s, "user", pg.user);
  add(s, "password", pg.password);
  add(s, "sslmode", pg.sslmode);
  add(s, "sslrootcert", pg.sslrootcert);
  add(s, "sslcert", pg.sslcert);
  add(s, "sslkey", pg.sslkey);
  add(s, "connect_timeout", std::to_string(pg.connect_timeout_s));
  add(s, "application_name", pg.application_name);
  return s;
}

std::string describe(const config::postgres_settings& pg) {
  return pg.host + ":" + std::to_string(pg.port) + "/" + pg.database + " user=" + pg.user + " sslmode=" + pg.sslmode;
}

void throw_result_error(PGconn* pg, PGresult* res, const std::string& query) {
  const char* state = res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = res != nullptr ? PQresultErrorMessage(res) : "";
  if (message.empty()) message = PQerrorMessage(pg);
  const std::string sqlstate = state != nullptr ? state : "";
  if (res != nullptr) PQclear(res);
  while (PGresult* more = PQgetResult(pg)) PQclear(more);
  if (PQstatus(pg) == CONNECTION_BAD) throw pqxx::broken_connection(message);
  throw pqxx::sql_error(message, query, sqlstate.empty() ? nullptr : sqlstate.c_str());
}

pqxx::internal::pq::PGconn* session::raw_handle() const noexcept {
  // The policy sees every handle libpqxx makes, resets and closes; the socket
  // check keeps a handle the connection no longer uses from being lent.
  auto* h = policy_.current();
  if (h == nullptr || !is_open() || PQsocket(h) != sock()) return nullptr;
  return h;
}

std::unique_ptr<session> connect(const config::postgres_settings& pg, const std::string& role) {
  auto settings = pg;
  if (!role.empty()) settings.application_name = pg.application_name + "-" + role;
  auto conn = std::make_unique<session>(connection_string(settings));
  // Errors carry their SQLSTATE in the message ("ERROR:  42501: …"), where
  // error_class finds it when libpqxx 6.4 drops it from the exception.
  conn->set_verbosity(pqxx::connection_base::verbose);
  pqxx::nontransaction setup(*conn);
  setup.exec("SET TimeZone = 'UTC'");
  setup.exec("SET standard_conforming_strings = on");
  setup.exec("SET client_min_messages = warning");
  setup.exec("SET statement_timeout = " + std::to_string(pg.statement_timeout_ms));
  return conn;
}

bool preload_postgis(pqxx::connection_base& conn) noexcept {
  try {
    pqxx::nontransaction tx(conn);
    if (!tx.exec("SELECT to_regtype('geometry') IS NOT NULL")[0][0].as<bool>()) return false;
    tx.exec("SELECT 'SRID=4326;POINT(0 0)'::geometry IS NOT NULL");
    return true;
  } catch (const std::exception&) {
    return false;  // a broken connection shows in the writer's next statement
  }
}

}  // namespace kafnus::postgis
