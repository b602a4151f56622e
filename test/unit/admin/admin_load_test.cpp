// The admin server under hostile load: clients that open a connection and
// dribble their request head (reconnecting whenever they are cut), plus
// scrapers hammering a large /metrics, must not starve the orchestrator's
// probes: every /healthz and /readyz answers within a second.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "admin/admin_server.hpp"
#include "telemetry/metrics.hpp"
#include "test/support/http_client.hpp"

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

// One slow client: connects, sends a request line, then one header byte
// every `pace`, never finishing its head; when the server cuts it, starts over.
void slow_client(int port, std::chrono::milliseconds pace, const std::atomic<bool>& stop, std::atomic<int>& cuts) {
  while (!stop) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
      const std::string head = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
      bool open = ::send(fd, head.data(), head.size(), MSG_NOSIGNAL) > 0;
      while (open && !stop) {
        std::this_thread::sleep_for(pace);
        open = ::send(fd, "X", 1, MSG_NOSIGNAL) == 1;
        char c;
        // A cut shows on a non-blocking peek.
        const auto n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) open = false;  // EOF, an answer, or a reset
      }
      if (!stop) ++cuts;
    }
    ::close(fd);
  }
}

}  // namespace

TEST(AdminLoad, ProbesAnswerWithinASecondWhileSlowClientsAndScrapersPress) {
  auto m = std::make_shared<kafnus::metrics>();
  for (int i = 0; i < 1000; ++i) {  // a large page: 1000 services in two families
    m->rows_written(kafnus::ngsi::flow::historic, "service_" + std::to_string(i)).Increment();
    m->error_log_rows(kafnus::ngsi::flow::historic, "service_" + std::to_string(i)).Increment();
  }
  m->health().consuming = true;
  m->health().db_connected = true;
  m->health().set_kafka_connected(true);
  kafnus::admin_server server(m, "127.0.0.1", 0, kafnus::admin_options{});
  const int port = server.port();

  std::atomic<bool> stop{false};
  std::atomic<int> cuts{0}, scrapes{0};
  std::vector<std::thread> load;
  for (int i = 0; i < 6; ++i) load.emplace_back(slow_client, port, 200ms, std::cref(stop), std::ref(cuts));
  for (int i = 0; i < 2; ++i) {
    load.emplace_back([&] {
      while (!stop) {
        try {
          if (kafnus::test::http_call(port, "GET", "/metrics").status == 200) ++scrapes;
        } catch (const std::exception&) {
        }
      }
    });
  }
  std::this_thread::sleep_for(300ms);  // every slow client holds a connection

  // Long enough for the slow clients to be cut and to come back.
  const auto until = clock_type::now() + 8s;
  int probes = 0, slow = 0, failed = 0;
  std::chrono::milliseconds worst{0};
  while (clock_type::now() < until) {
    for (const char* path : {"/healthz", "/readyz"}) {
      const auto t0 = clock_type::now();
      int status = 0;
      try {
        status = kafnus::test::http_call(port, "GET", path).status;
      } catch (const std::exception&) {
      }
      const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - t0);
      worst = std::max(worst, took);
      ++probes;
      if (took > 1s) ++slow;
      if (status != 200) ++failed;
    }
    std::this_thread::sleep_for(100ms);
  }
  stop = true;
  for (auto& t : load) t.join();

  EXPECT_GT(probes, 50);
  EXPECT_EQ(slow, 0) << slow << " of " << probes << " probes took over 1 s (worst " << worst.count() << " ms)";
  EXPECT_EQ(failed, 0) << failed << " of " << probes << " probes did not answer 200";
  EXPECT_GE(cuts.load(), 6) << "the slow clients were never cut: the load was not what the test means";
  EXPECT_GT(scrapes.load(), 0);
}
