#include "admin/http_client.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <system_error>

#include "text/ascii.hpp"

namespace kafnus {
namespace {

constexpr std::size_t kMaxAnswerBytes = 4U << 20U;

class socket_fd {
 public:
  explicit socket_fd(int fd) : fd_(fd) {}
  ~socket_fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  socket_fd(const socket_fd&) = delete;
  socket_fd& operator=(const socket_fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// A wildcard listen address is reached through the loopback one.
std::string reachable_host(const std::string& host) {
  if (host.empty() || host == "0.0.0.0" || host == "*") return "127.0.0.1";
  if (host == "::" || host == "[::]") return "::1";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

std::string errno_text(const char* what) { return std::string(what) + ": " + std::system_category().message(errno); }

// The body of a chunked answer, its chunks joined (extensions and trailers ignored).
std::string unchunk(const std::string& chunked, const std::string& where) {
  std::string joined;
  std::size_t pos = 0;
  while (pos < chunked.size()) {
    const auto eol = chunked.find("\r\n", pos);
    if (eol == std::string::npos) break;
    std::size_t length = 0;
    try {
      length = std::stoul(chunked.substr(pos, eol - pos), nullptr, 16);
    } catch (const std::exception&) {
      throw http_client_error(where + ": a chunk of the answer has no valid size");
    }
    if (length == 0) break;
    if (eol + 2 + length > chunked.size()) throw http_client_error(where + ": the answer ends inside a chunk");
    joined.append(chunked, eol + 2, length);
    pos = eol + 2 + length + 2;
  }
  return joined;
}

http_reply parse(const std::string& raw, const std::string& where) {
  const auto end = raw.find("\r\n\r\n");
  const auto first = raw.find("\r\n");
  if (end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0) {
    throw http_client_error(where + ": the answer is not HTTP (" + std::to_string(raw.size()) + " bytes)");
  }
  http_reply r;
  const std::string status_line = raw.substr(0, first);
  const auto space = status_line.find(' ');
  try {
    r.status = std::stoi(status_line.substr(space + 1, 3));
  } catch (const std::exception&) {
    throw http_client_error(where + ": no status code in the answer's first line");
  }
  std::size_t pos = first;
  while (pos < end) {
    const auto next = raw.find("\r\n", pos + 2);
    const std::string line = raw.substr(pos + 2, next - pos - 2);
    const auto colon = line.find(':');
    if (colon != std::string::npos) {
      r.headers[text::to_lower_ascii(line.substr(0, colon))] = std::string(text::trim(line.substr(colon + 1)));
    }
    pos = next;
  }
  r.body = raw.substr(end + 4);
  if (text::to_lower_ascii(r.header("transfer-encoding")).find("chunked") != std::string::npos)
    r.body = unchunk(r.body, where);
  return r;
}

// A connected socket to the first address of host:port that answers.
int connect_to(const std::string& host, int port, timeval timeout, const std::string& where) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    throw http_client_error(where + ": cannot resolve '" + host + "': " + gai_strerror(rc));
  }
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, &freeaddrinfo);
  std::string last_error = "no address";
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = errno_text("socket");
      continue;
    }
    // On Linux the send timeout also bounds connect().
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) return fd;
    last_error = errno_text("connect");
    ::close(fd);
  }
  throw http_client_error(where + ": " + last_error);
}

}  // namespace

http_reply http_exchange(const std::string& host, int port, const outgoing_request& request,
                         std::chrono::milliseconds timeout) {
  const std::string target_host = reachable_host(host);
  const std::string where =
      (target_host.find(':') != std::string::npos ? "[" + target_host + "]" : target_host) + ":" + std::to_string(port);
  const auto ms = timeout.count() > 0 ? timeout.count() : 1;
  const timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>((ms % 1000) * 1000)};
  const socket_fd s(connect_to(target_host, port, tv, where));

  std::string text =
      request.method + " " + request.target + " HTTP/1.1\r\nHost: " + where + "\r\nConnection: close\r\n";
  for (const auto& [name, value] : request.headers) text += name + ": " + value + "\r\n";
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    text += "Content-Length: " + std::to_string(request.body.size()) + "\r\n";
  }
  text += "\r\n" + request.body;
  for (std::size_t sent = 0; sent < text.size();) {
    const auto n = ::send(s.get(), text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) throw http_client_error(where + ": " + errno_text("send"));
    sent += static_cast<std::size_t>(n);
  }
  std::string raw;
  char buf[8192];
  for (;;) {
    const auto n = ::recv(s.get(), buf, sizeof buf, 0);
    if (n < 0) {
      throw http_client_error(where + ": " +
                              (errno == EAGAIN || errno == EWOULDBLOCK
                                   ? "no answer within " + std::to_string(ms) + " ms"
                                   : errno_text("recv")));
    }
    if (n == 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
    if (raw.size() > kMaxAnswerBytes) throw http_client_error(where + ": the answer is larger than 4 MiB");
  }
  return parse(raw, where);
}

}  // namespace kafnus
