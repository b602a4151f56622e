#include "test/support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <stdexcept>

namespace kafnus::test {
namespace {

class socket_fd {
 public:
  socket_fd() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  }
  ~socket_fd() { ::close(fd_); }
  socket_fd(const socket_fd&) = delete;
  socket_fd& operator=(const socket_fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

sockaddr_in loopback(int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

const sockaddr* as_sockaddr(const sockaddr_in& a) { return static_cast<const sockaddr*>(static_cast<const void*>(&a)); }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

http_reply parse(const std::string& raw) {
  const auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos) throw std::runtime_error("no complete HTTP header in: " + raw);
  http_reply r;
  std::size_t pos = raw.find("\r\n");
  const std::string status_line = raw.substr(0, pos);
  r.status = std::stoi(status_line.substr(status_line.find(' ') + 1, 3));
  while (pos < end) {
    const auto next = raw.find("\r\n", pos + 2);
    const std::string line = raw.substr(pos + 2, next - pos - 2);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      auto value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      r.headers[lower(line.substr(0, colon))] = value;
    }
    pos = next;
  }
  r.body = raw.substr(end + 4);
  return r;
}

}  // namespace

http_reply http_call(int port, const std::string& method, const std::string& target,
                     const std::map<std::string, std::string>& extra_headers, const std::string& body) {
  socket_fd s;
  timeval timeout{10, 0};
  setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  const auto addr = loopback(port);
  if (::connect(s.get(), as_sockaddr(addr), sizeof addr) != 0) {
    throw std::runtime_error("connect to port " + std::to_string(port) + ": " + std::strerror(errno));
  }
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& [name, value] : extra_headers) request += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  for (std::size_t sent = 0; sent < request.size();) {
    const auto n = ::send(s.get(), request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[8192];
  for (;;) {
    const auto n = ::recv(s.get(), buf, sizeof buf, 0);
    if (n < 0) throw std::runtime_error(std::string("recv: ") + std::strerror(errno));
    if (n == 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  return parse(raw);
}

int free_port() {
  socket_fd s;
  auto addr = loopback(0);
  if (::bind(s.get(), as_sockaddr(addr), sizeof addr) != 0) throw std::runtime_error("bind 127.0.0.1:0 failed");
  socklen_t len = sizeof addr;
  getsockname(s.get(), static_cast<sockaddr*>(static_cast<void*>(&addr)), &len);
  return ntohs(addr.sin_port);
}

}  // namespace kafnus::test
