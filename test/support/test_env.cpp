#include "test/support/test_env.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace kafnus::test {
namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// A value of this tree's .deps/services.env (the ports scripts/services.sh chose).
std::string services_env(const std::string& key, const std::string& fallback) {
  return services_env_value(std::string(KAFNUS_SOURCE_DIR) + "/.deps/services.env", key, fallback);
}

std::string local_address(const char* services_key, const char* default_port) {
  return "127.0.0.1:" + services_env(services_key, default_port);
}

}  // namespace

std::string brokers() { return env_or("KAFNUS_TEST_BROKERS", local_address("KAFNUS_DEV_KAFKA_PORT", "9092")); }
std::string sasl_brokers() {
  return env_or("KAFNUS_TEST_SASL_BROKERS", local_address("KAFNUS_DEV_KAFKA_SASL_PORT", "9094"));
}
std::string pg_host() { return env_or("KAFNUS_TEST_PG_HOST", "127.0.0.1"); }
int pg_port() { return std::stoi(env_or("KAFNUS_TEST_PG_PORT", services_env("KAFNUS_DEV_PG_PORT", "5432"))); }
std::string pg_database() { return env_or("KAFNUS_TEST_PG_DATABASE", "tests"); }
std::string pg_user() { return env_or("KAFNUS_TEST_PG_USER", "postgres"); }

std::string services_env_value(const std::string& file, const std::string& key, const std::string& fallback) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, key.size() + 1, key + "=") == 0) return line.substr(key.size() + 1);
  }
  return fallback;
}

std::string pg_connection_string() {
  return "host=" + pg_host() + " port=" + std::to_string(pg_port()) + " dbname=" + pg_database() +
         " user=" + pg_user() + " connect_timeout=5";
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  const auto now = std::chrono::system_clock::now().time_since_epoch().count();
  return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(now % 1000000) + "_" +
         std::to_string(counter++);
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("bind() failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace kafnus::test
