#pragma once
// Opening a PostgreSQL connection the way every Kafnus session needs it.

#include <memory>
#include <string>

#include <pqxx/connection>

#include "config/settings.hpp"

namespace kafnus::postgis {

// libpq keyword=value connection string; every value quoted. Contains the
// password: never log it (use describe()).
std::string connection_string(const config::postgres_settings& pg);

// host:port/database user=… sslmode=… — safe to log.
std::string describe(const config::postgres_settings& pg);

// Connects and prepares the session: TimeZone UTC (naive timestamp columns
// hold UTC), standard_conforming_strings on, statement_timeout as configured,
// verbose error messages (they carry the SQLSTATE).
// Throws pqxx::broken_connection when the server cannot be reached.
std::unique_ptr<pqxx::connection> connect(const config::postgres_settings& pg, const std::string& role);

}  // namespace kafnus::postgis
