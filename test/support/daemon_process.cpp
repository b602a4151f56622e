#include "test/support/daemon_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <gtest/gtest.h>

#include "admin/http_client.hpp"
#include "test/support/pg_client.hpp"
#include "test/support/test_env.hpp"

namespace kafnus::test {
namespace {

std::string yaml_list(const std::vector<std::string>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + ("\"" + v[i] + "\"");
  return s + "]";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string daemon_config::yaml() const {
  std::ostringstream y;
  // A killed test daemon's partitions move on after 6 s, not 45.
  std::map<std::string, std::string> properties = {{"session.timeout.ms", "6000"}, {"heartbeat.interval.ms", "1000"}};
  for (const auto& [k, v] : kafka_properties) properties[k] = v;
  y << "kafka:\n"
    << "  brokers: \"" << brokers() << "\"\n"
    << "  group_id: \"" << group << "\"\n";
  std::istringstream kafka_lines(kafka_yaml);
  for (std::string line; std::getline(kafka_lines, line);) y << "  " << line << "\n";
  y << "  properties:\n";
  for (const auto& [k, v] : properties) y << "    " << k << ": \"" << v << "\"\n";
  y << "flows:\n"
    << "  historic:\n    topics: " << yaml_list(historic_topics) << "\n"
    << "  lastdata:\n    topics: " << yaml_list(lastdata_topics) << "\n"
    << "  mutable:\n    topics: " << yaml_list(mutable_topics) << "\n"
    << "postgres:\n"
    << "  host: \"" << pg_host() << "\"\n"
    << "  port: " << pg_port() << "\n"
    << "  database: \"" << pg_database() << "\"\n"
    << "  user: \"" << (pg_user.empty() ? kafnus::test::pg_user() : pg_user) << "\"\n"
    << "  offsets_schema: \"" << offsets_schema << "\"\n"
    << postgres_yaml << "admin:\n"
    << "  listen: \"127.0.0.1:" << admin_port << "\"\n"
    << "log:\n"
    << "  level: " << log_level << "\n";
  return y.str() + extra_yaml;
}

std::pair<daemon_config, daemon_config> two_instances(daemon_config c) {
  c.group = unique_name("shared_group");
  c.offsets_schema = unique_name("shared_kafnus");
  c.admin_port = free_port();
  auto other = c;
  other.admin_port = free_port();
  return {c, other};
}

daemon_process::daemon_process(daemon_config cfg) : cfg_(std::move(cfg)) {
  if (cfg_.group.empty()) cfg_.group = unique_name("group");
  if (cfg_.offsets_schema.empty()) cfg_.offsets_schema = unique_name("kafnus");
  if (cfg_.admin_port == 0) cfg_.admin_port = free_port();
  const auto base = ::testing::TempDir() + unique_name("daemon");
  config_path_ = base + ".yaml";
  log_path_ = base + ".log";
  std::ofstream(config_path_) << cfg_.yaml();
}

daemon_process::~daemon_process() {
  if (pid_ > 0 && running()) {
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::seconds(10));
  }
  if (std::getenv("KAFNUS_KEEP_TEST_DATA")) return;  // for a post-mortem of a failed run
  try {
    pg_client pg;
    pg.exec("DROP SCHEMA IF EXISTS \"" + cfg_.offsets_schema + "\" CASCADE");
  } catch (const std::exception&) {
    // best effort: the database may be down in a fault test
  }
}

void daemon_process::start() {
  if (pid_ > 0 && running()) throw std::runtime_error("daemon already running");
  exit_code_ = -1;
  run_log_offset_ = log().size();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    std::string names;
    for (const auto& [name, value] : cfg_.env) {
      ::setenv(name.c_str(), value.c_str(), 1);
      names += (names.empty() ? "" : ",") + name;
    }
    // The deploy tests run the daemon of a container image: the wrapper gets
    // the same arguments (and the names of the daemon's own variables).
    const char* wrapper = std::getenv("KAFNUS_TEST_DAEMON_WRAPPER");  // NOLINT(concurrency-mt-unsafe)
    if (wrapper != nullptr && *wrapper != '\0') {
      ::setenv("KAFNUS_TEST_DAEMON_ENV_NAMES", names.c_str(), 1);
      ::execl(wrapper, wrapper, "run", "--config", config_path_.c_str(), static_cast<char*>(nullptr));
    } else {
      ::execl(KAFNUS_DAEMON_BINARY, KAFNUS_DAEMON_BINARY, "run", "--config", config_path_.c_str(),
              static_cast<char*>(nullptr));
    }
    ::_exit(127);
  }
}

bool daemon_process::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
  }
  return false;
}

void daemon_process::signal(int sig) {
  if (pid_ > 0) ::kill(pid_, sig);
}

int daemon_process::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return exit_code_;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return -1;
}

bool daemon_process::wait_for_log(const std::string& text, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto in_this_run = [&] { return log().find(text, run_log_offset_) != std::string::npos; };
  while (std::chrono::steady_clock::now() < deadline) {
    if (in_this_run()) return true;
    if (!running()) return in_this_run();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

bool daemon_process::wait_ready(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!running()) return false;
    try {
      if (http("GET", "/readyz").status == 200) return true;
    } catch (const std::exception&) {
      // not listening yet
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

std::string daemon_process::log() const { return read_file(log_path_); }

http_response daemon_process::http(const std::string& method, const std::string& path, const std::string& body,
                                   const std::vector<std::string>& headers) {
  return http_request(cfg_.admin_port, method, path, body, headers);
}

http_response http_request(int port, const std::string& method, const std::string& path, const std::string& body,
                           const std::vector<std::string>& headers) {
  kafnus::outgoing_request request{method, path, {}, body};
  for (const auto& h : headers) {
    const auto colon = h.find(':');
    const auto value_at = h.find_first_not_of(' ', colon + 1);
    request.headers[h.substr(0, colon)] = value_at == std::string::npos ? "" : h.substr(value_at);
  }
  const auto reply = http_exchange("127.0.0.1", port, request, std::chrono::seconds(10));
  http_response r;
  r.status = reply.status;
  for (const auto& [name, value] : reply.headers) r.headers += name + ": " + value + "\r\n";
  r.body = reply.body;
  return r;
}

command_result run_command(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  int pipefd[2];
  if (::pipe(pipefd) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], 1);
    ::dup2(pipefd[1], 2);
    ::close(pipefd[0]);
    ::close(pipefd[1]);
    for (const auto& e : env) ::putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());  // a bare name is looked up in PATH
    ::_exit(127);
  }
  ::close(pipefd[1]);
  command_result r;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0) r.output.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace kafnus::test
