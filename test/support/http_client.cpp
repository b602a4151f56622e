#include "test/support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

namespace kafnus::test {

http_reply http_call(int port, const std::string& method, const std::string& target,
                     const std::map<std::string, std::string>& extra_headers, const std::string& body) {
  return http_exchange("127.0.0.1", port, outgoing_request{method, target, extra_headers, body},
                       std::chrono::seconds(10));
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto* any = static_cast<sockaddr*>(static_cast<void*>(&addr));
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, any, sizeof addr) == 0 && ::getsockname(fd, any, &len) == 0;
  ::close(fd);
  if (!ok) throw std::runtime_error("bind 127.0.0.1:0 failed");
  return ntohs(addr.sin_port);
}

}  // namespace kafnus::test
