#pragma once
// Where the tests find the real services (scripts/services.sh starts them):
//   KAFNUS_TEST_BROKERS   default 127.0.0.1:9092
//   KAFNUS_TEST_PG_HOST / _PORT / _DATABASE / _USER   default 127.0.0.1 / 5432 / tests / postgres

#include <string>

namespace kafnus::test {

std::string brokers();
std::string pg_host();
int pg_port();
std::string pg_database();
std::string pg_user();
std::string pg_connection_string();

// A name unique to this process and call: for topics, groups and schemas,
// so tests never see each other's data. Lower-case [a-z0-9_].
std::string unique_name(const std::string& prefix);

// A TCP port nobody listens on right now (for the admin endpoint).
int free_port();

}  // namespace kafnus::test
