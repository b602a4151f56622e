#pragma once
// Where the tests find the real services (scripts/services.sh starts them):
//   KAFNUS_TEST_BROKERS        else the Kafka port of .deps/services.env, else 127.0.0.1:9092
//   KAFNUS_TEST_SASL_BROKERS   else its SASL port, else 127.0.0.1:9094 (SASL_PLAINTEXT, PLAIN)
//   KAFNUS_TEST_PG_HOST / _PORT / _DATABASE / _USER
//                              default 127.0.0.1 / the PostgreSQL port of .deps/services.env,
//                              else 5432 / tests / postgres
// scripts/with-services.sh exports the variables; .deps/services.env (the ports
// services.sh chose) is read when they are not set, e.g. by ctest run by hand.

#include <string>

namespace kafnus::test {

std::string brokers();
std::string sasl_brokers();
std::string pg_host();
int pg_port();
std::string pg_database();
std::string pg_user();
std::string pg_connection_string();

// The value of `key` in a services.env file (KEY=VALUE lines, as scripts/services.sh
// writes .deps/services.env), or `fallback` when the file or the key is missing.
std::string services_env_value(const std::string& file, const std::string& key, const std::string& fallback);

// A name unique to this process and call: for topics, groups and schemas,
// so tests never see each other's data. Lower-case [a-z0-9_].
std::string unique_name(const std::string& prefix);

// A TCP port nobody listens on right now (for the admin endpoint).
int free_port();

}  // namespace kafnus::test
