#include "telemetry/service_manager.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace kafnus::service_manager {
namespace {

// The environment is read before threads start and never written: the
// values are taken once.
const char* env(const char* name) {
  return std::getenv(name);  // NOLINT(concurrency-mt-unsafe)
}

}  // namespace

bool notify(std::string_view state) {
  static const std::string path = [] {
    const char* p = env("NOTIFY_SOCKET");
    return std::string(p ? p : "");
  }();
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // an abstract socket
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  const auto sent =
      ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
  ::close(fd);
  return sent == static_cast<ssize_t>(state.size());
}

std::chrono::microseconds watchdog_interval() {
  static const std::chrono::microseconds interval = [] {
    const char* usec = env("WATCHDOG_USEC");
    if (!usec) return std::chrono::microseconds(0);
    // WATCHDOG_PID, when set, names the process systemd watches.
    if (const char* pid = env("WATCHDOG_PID"); pid && std::atol(pid) != ::getpid()) {
      return std::chrono::microseconds(0);
    }
    return std::chrono::microseconds(std::atoll(usec));
  }();
  return interval;
}

}  // namespace kafnus::service_manager
