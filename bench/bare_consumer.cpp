#include "bench/bare_consumer.hpp"

#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include "config/settings.hpp"
#include "kafka/kafka_properties.hpp"
#include "test/support/test_env.hpp"

extern char** environ;  // NOLINT(readability-redundant-declaration): posix_spawn's environment

namespace kafnus::bench {

namespace {

double own_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  const auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

// The first line the child writes, without its newline ("" at its end of output).
std::string read_line(std::FILE* from) {
  std::string line;
  for (int c = std::fgetc(from); c != EOF && c != '\n'; c = std::fgetc(from)) line += static_cast<char>(c);
  return line;
}

}  // namespace

int bare_consumer_main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: kafnus-bench --bare-consumer TOPIC PARTITIONS COUNT\n";
    return 2;
  }
  const std::string topic = argv[2];
  const int partitions = std::stoi(argv[3]);
  const std::uint64_t count = std::stoull(argv[4]);
  config::kafka_settings k{};
  k.brokers = test::brokers();
  k.group_id = test::unique_name("bench_bare");  // assigned, not subscribed: the group is never joined
  k.client_id = "kafnus-bench-bare";
  k.auto_offset_reset = config::offset_reset::earliest;
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  for (const auto& [name, value] : kafka::consumer_properties(k)) {
    if (conf->set(name, value, err) != RdKafka::Conf::CONF_OK) {
      std::cerr << "bare consumer: " << name << ": " << err << "\n";
      return 1;
    }
  }
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!c) {
    std::cerr << "bare consumer: " << err << "\n";
    return 1;
  }
  // At the high watermarks: exactly the records the parent sends after "ready".
  std::vector<RdKafka::TopicPartition*> parts;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t low = 0, high = 0;
    const auto e = c->query_watermark_offsets(topic, p, &low, &high, 10000);
    if (e != RdKafka::ERR_NO_ERROR) {
      std::cerr << "bare consumer: the watermarks of " << topic << "[" << p << "]: " << RdKafka::err2str(e) << "\n";
      return 1;
    }
    parts.push_back(RdKafka::TopicPartition::create(topic, p, high));
  }
  c->assign(parts);
  RdKafka::TopicPartition::destroy(parts);
  std::cout << "ready" << std::endl;

  // The daemon's consumer loop, less everything the daemon does with a record.
  rd_kafka_t* const rk = c->c_ptr();
  const int timeout_ms = 100;  // kafka.poll_timeout_ms's default
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::uint64_t n = 0;
  double cpu_first = 0, cpu_last = 0;
  while (n < count && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, timeout_ms);
    if (m == nullptr) continue;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (n == 0) cpu_first = own_cpu_seconds();
      if (++n == count) cpu_last = own_cpu_seconds();
    }
    rd_kafka_message_destroy(m);
  }
  std::cout << "read " << n << " cpu_seconds " << (n == count ? cpu_last - cpu_first : 0.0) << std::endl;
  c->close();
  return n == count ? 0 : 1;
}

double bare_consumer_cpu_us(const std::string& topic, int partitions, std::uint64_t count,
                            const std::function<void()>& load) {
  if (count < 2) throw std::runtime_error("the bare consumer needs at least two records to measure");
  int out[2];
  if (::pipe(out) != 0) throw std::runtime_error("bare consumer: pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  posix_spawn_file_actions_addclose(&actions, out[1]);
  const std::string self = "/proc/self/exe", flag = "--bare-consumer", parts = std::to_string(partitions),
                    n = std::to_string(count);
  std::vector<char*> args = {const_cast<char*>(self.c_str()),  const_cast<char*>(flag.c_str()),
                             const_cast<char*>(topic.c_str()), const_cast<char*>(parts.c_str()),
                             const_cast<char*>(n.c_str()),     nullptr};
  pid_t pid = 0;
  const int spawned = ::posix_spawn(&pid, self.c_str(), &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> from(::fdopen(out[0], "r"), &std::fclose);
  if (spawned != 0 || !from) {
    if (!from) ::close(out[0]);
    throw std::runtime_error("bare consumer: could not start it");
  }
  const auto reap = [pid] {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  if (read_line(from.get()) != "ready") {
    reap();
    throw std::runtime_error("bare consumer: it did not start (its errors are above)");
  }
  try {
    load();
  } catch (...) {
    ::kill(pid, SIGTERM);
    reap();
    throw;
  }
  const std::string result = read_line(from.get());
  const int rc = reap();
  std::istringstream in(result);
  std::string read_word, cpu_word;
  std::uint64_t read = 0;
  double cpu = 0;
  in >> read_word >> read >> cpu_word >> cpu;
  if (rc != 0 || read_word != "read" || read != count) {
    throw std::runtime_error("bare consumer: " + (result.empty() ? std::string("no result") : result) + " of " +
                             std::to_string(count) + " records (exit " + std::to_string(rc) + ")");
  }
  return cpu / static_cast<double>(count - 1) * 1e6;
}

}  // namespace kafnus::bench
