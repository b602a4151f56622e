#pragma once
// The real `kafnus` binary, run as a child process by a test: its config
// file, its log, its admin endpoint, signals. With KAFNUS_TEST_DAEMON_WRAPPER
// set, that program is run instead with the same arguments (the deploy tests
// run the daemon of a container image this way; test/deploy/run-in-image.sh).

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace kafnus::test {

// A configuration for a test daemon: unique group and offsets schema so
// tests never share state; everything else at its default unless set.
struct daemon_config {
  std::vector<std::string> historic_topics;
  std::vector<std::string> lastdata_topics;
  std::vector<std::string> mutable_topics;
  std::string group;           // default: unique
  std::string offsets_schema;  // default: unique
  int admin_port = 0;          // default: a free port
  std::string log_level = "info";
  std::string kafka_yaml;  // more keys of the kafka section ("position_out_of_range: fail\n")
  // librdkafka properties, over the test defaults (session.timeout.ms 6000, heartbeat.interval.ms 1000)
  std::map<std::string, std::string> kafka_properties;
  std::string pg_user;        // default: test_env's pg_user()
  std::string postgres_yaml;  // more keys of the postgres section ("  key: value\n" lines), verbatim
  std::string extra_yaml;     // more top-level sections, appended verbatim
  std::vector<std::pair<std::string, std::string>> env;  // more environment variables of the daemon

  std::string yaml() const;
};

// Two instances of one deployment: the same group and offsets schema (both
// made unique to the test), each its own admin port.
std::pair<daemon_config, daemon_config> two_instances(daemon_config c);

// An HTTP response from the admin endpoint.
struct http_response {
  int status = 0;
  std::string headers;
  std::string body;
};

class daemon_process {
 public:
  explicit daemon_process(daemon_config cfg);
  ~daemon_process();  // SIGKILLs a still-running daemon
  daemon_process(const daemon_process&) = delete;
  daemon_process& operator=(const daemon_process&) = delete;

  void start();
  bool running();
  void signal(int sig);
  // Waits for the process to exit; returns its exit code (128+N when killed by signal N), or -1 on timeout.
  int wait_exit(std::chrono::milliseconds timeout);
  // Waits until the log of the current run (since the last start()) contains
  // `text`; false on timeout or if the daemon exited without it.
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout);
  // Waits until GET /readyz answers 200.
  bool wait_ready(std::chrono::milliseconds timeout);
  std::string log() const;
  http_response http(const std::string& method, const std::string& path, const std::string& body = "",
                     const std::vector<std::string>& headers = {});

  const daemon_config& config() const { return cfg_; }
  pid_t pid() const { return pid_; }  // -1 when not running
  const std::string& config_path() const { return config_path_; }

 private:
  daemon_config cfg_;
  std::string config_path_;
  std::string log_path_;
  std::size_t run_log_offset_ = 0;  // where the current run's log begins
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// An HTTP request to 127.0.0.1:port (tests only: small bodies, Connection: close).
http_response http_request(int port, const std::string& method, const std::string& path, const std::string& body = "",
                           const std::vector<std::string>& headers = {});

// Runs a command line (a bare program name is looked up in PATH), returns its
// exit code and combined output.
struct command_result {
  int code = -1;
  std::string output;
};
command_result run_command(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

}  // namespace kafnus::test
