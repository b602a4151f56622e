// systemd's notification protocol, as systemd would see it: a datagram
// socket named in NOTIFY_SOCKET receives READY=1 once the daemon is ready,
// WATCHDOG=1 while it is healthy, and STOPPING=1 when it stops.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>

#include "test/support/daemon_process.hpp"
#include "test/support/historic_stream.hpp"
#include "test/support/test_env.hpp"

namespace kt = kafnus::test;
using namespace std::chrono_literals;
using testing::HasSubstr;

namespace {

// The socket systemd would listen on.
class notify_socket {
 public:
  notify_socket() : path_(::testing::TempDir() + kt::unique_name("notify") + ".sock") {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) throw std::runtime_error("bind failed");
    timeval tv{0, 200000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~notify_socket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }

  // Waits for a datagram containing `what`; everything received is kept.
  bool wait_for(const std::string& what, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      char buf[512];
      const auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) received += std::string(buf, static_cast<std::size_t>(n)) + "|";
      if (received.find(what) != std::string::npos) return true;
    }
    return false;
  }

  std::string received;

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace

TEST(ServiceManager, ReadyWatchdogAndStoppingReachTheNotifySocket) {
  kt::historic_stream f(1);
  notify_socket sock;
  auto cfg = f.config();
  cfg.env = {{"NOTIFY_SOCKET", sock.path()}, {"WATCHDOG_USEC", "1500000"}};
  kt::daemon_process d(cfg);
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();
  EXPECT_TRUE(sock.wait_for("READY=1", 10s)) << "received: " << sock.received << "\n" << d.log();
  sock.received.clear();
  EXPECT_TRUE(sock.wait_for("WATCHDOG=1", 5s)) << "received: " << sock.received;
  d.signal(SIGTERM);
  EXPECT_TRUE(sock.wait_for("STOPPING=1", 10s)) << "received: " << sock.received;
  EXPECT_EQ(d.wait_exit(30s), 0) << d.log();
}

TEST(ServiceManager, WithoutASocketNothingIsSentAndNothingBreaks) {
  kt::historic_stream f(1);
  kt::daemon_process d(f.config());
  d.start();
  ASSERT_TRUE(d.wait_ready(60s)) << d.log();
  d.signal(SIGTERM);
  EXPECT_EQ(d.wait_exit(30s), 0) << d.log();
}
