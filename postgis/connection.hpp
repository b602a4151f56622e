#pragma once
// Opening a PostgreSQL connection the way every Kafnus session needs it.

#include <memory>
#include <string>

#include <pqxx/connection>

#include "config/settings.hpp"

namespace kafnus::postgis {

// A libpqxx connection that also lends libpq's own handle, for the one thing
// libpqxx 6.4 cannot do: a binary COPY (its COPY appends a newline to every
// chunk). Otherwise it is a pqxx::connection: libpqxx's connection classes
// are a connection_base and a connection policy, and this one's policy is
// libpqxx's immediate one that remembers the handle it makes and drops.
class session : public pqxx::connection_base {
 public:
  // (connection_base keeps a reference to the policy, made after it, as
  // libpqxx's own connection classes do.)
  explicit session(const std::string& options) : connection_base(policy_), policy_(options) { init(); }
  ~session() noexcept { close(); }
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  // libpq's handle while the connection is open, else null.
  pqxx::internal::pq::PGconn* raw_handle() const noexcept;

 private:
  class policy : public pqxx::connect_direct {
   public:
    explicit policy(const std::string& options) : connect_direct(options) {}
    handle do_startconnect(handle orig) override { return handle_ = connect_direct::do_startconnect(orig); }
    handle do_completeconnect(handle orig) override { return handle_ = connect_direct::do_completeconnect(orig); }
    handle do_dropconnect(handle orig) noexcept override { return handle_ = connect_direct::do_dropconnect(orig); }
    handle do_disconnect(handle orig) noexcept override { return handle_ = connect_direct::do_disconnect(orig); }
    handle current() const noexcept { return handle_; }

   private:
    handle handle_ = nullptr;
  };

  policy policy_;
};

// Throws what libpqxx would for a failed libpq result (`res`, or null when
// there is none) of `query`: pqxx::broken_connection when the connection is
// gone, else pqxx::sql_error with the SQLSTATE. Clears `res` and reads the
// query's remaining results first.
[[noreturn]] void throw_result_error(pqxx::internal::pq::PGconn* pg, pqxx::internal::pq::PGresult* res,
                                     const std::string& query);

// libpq keyword=value connection string; every value quoted. Contains the
// password: never log it (use describe()).
std::string connection_string(const config::postgres_settings& pg);

// host:port/database user=… sslmode=… — safe to log.
std::string describe(const config::postgres_settings& pg);

// Connects and prepares the session: TimeZone UTC (naive timestamp columns
// hold UTC), standard_conforming_strings on, statement_timeout as configured,
// verbose error messages (they carry the SQLSTATE).
// Throws pqxx::broken_connection when the server cannot be reached.
std::unique_ptr<session> connect(const config::postgres_settings& pg, const std::string& role);

// PostgreSQL loads PostGIS's library in a session the first time a geometry
// is read, written or its type named (10-13 ms on the development machine):
// in the writer's first transaction, which a fresh daemon's first
// notifications wait for. The writer loads it as it connects instead.
// Returns whether PostGIS was found (its `geometry` type, by the session's
// search_path); never throws: without PostGIS nothing is loaded.
bool preload_postgis(pqxx::connection_base& conn) noexcept;

}  // namespace kafnus::postgis
