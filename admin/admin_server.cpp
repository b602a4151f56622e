#include "admin/admin_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <CivetServer.h>
#include <civetweb.h>

#include "telemetry/log.hpp"

namespace kafnus {
namespace {

// POST /logLevel needs a few bytes; anything much larger is refused unread.
constexpr long long kMaxBodyBytes = 64LL * 1024;
constexpr unsigned kIPv6Feature = 8;  // mg_check_feature bit
constexpr const char* kTooLarge = R"({"error":"PayloadTooLarge","description":"the body is limited to 64 KiB"})";

std::string listen_name(const std::string& host, int port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// civetweb's listening_ports entry for host:port. civetweb only takes
// numeric addresses, so a host name is resolved here (first address only:
// the server must never listen on more than what was configured).
std::string listening_ports(const std::string& host, int port) {
  const bool ipv6 = mg_check_feature(kIPv6Feature) != 0;
  in6_addr v6{};
  if (!ipv6 && inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    throw admin_server_error("admin.listen " + listen_name(host, port) +
                             ": IPv6 addresses are not supported by this build of civetweb; use an IPv4 address");
  }
  addrinfo hints{};
  hints.ai_family = ipv6 ? AF_UNSPEC : AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0 || found == nullptr) {
    throw admin_server_error("admin.listen " + listen_name(host, port) + ": cannot resolve '" + host +
                             "': " + gai_strerror(rc));
  }
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owner(found, &freeaddrinfo);
  const void* address = found->ai_addr;  // sockaddr_in or sockaddr_in6, by ai_family
  char text[INET6_ADDRSTRLEN] = {};
  if (found->ai_family == AF_INET6) {
    inet_ntop(AF_INET6, &static_cast<const sockaddr_in6*>(address)->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(port);
  }
  inet_ntop(AF_INET, &static_cast<const sockaddr_in*>(address)->sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(port);
}

// Opens and at once closes a TCP connection to `address`, without waiting
// for the handshake: enough to end civetweb's wait for a connection.
void knock(const sockaddr_storage& address, socklen_t length) {
  const int fd = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  (void)::connect(fd, reinterpret_cast<const sockaddr*>(&address), length);
  ::close(fd);
}

// The address a local client reaches the server on, from civetweb's
// "ip:port" / "[ip6]:port" and the port actually bound: a wildcard address
// becomes the loopback one. Its length, or 0 when it cannot be parsed.
socklen_t wake_address(const std::string& listening, int port, sockaddr_storage& out) {
  out = sockaddr_storage{};
  const auto colon = listening.rfind(':');
  std::string ip = listening.substr(0, colon);
  if (ip.size() > 2 && ip.front() == '[') {
    ip = ip.substr(1, ip.size() - 2);
    auto& a6 = reinterpret_cast<sockaddr_in6&>(out);
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET6, ip.c_str(), &a6.sin6_addr) != 1) return 0;
    if (IN6_IS_ADDR_UNSPECIFIED(&a6.sin6_addr)) a6.sin6_addr = in6addr_loopback;
    return sizeof(sockaddr_in6);
  }
  auto& a4 = reinterpret_cast<sockaddr_in&>(out);
  a4.sin_family = AF_INET;
  a4.sin_port = htons(static_cast<std::uint16_t>(port));
  if (inet_pton(AF_INET, ip.c_str(), &a4.sin_addr) != 1) return 0;
  if (a4.sin_addr.s_addr == htonl(INADDR_ANY)) a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return sizeof(sockaddr_in);
}

void read_header(mg_connection* conn, const char* name, std::optional<std::string>& out) {
  if (const char* v = mg_get_header(conn, name)) out = v;
}

}  // namespace

// Holds the routes and the civetweb server; civetweb calls back into it on
// its own worker threads. Every CivetHandler method ends in serve(), which
// never throws.
struct admin_server::impl : CivetHandler {
  explicit impl(admin_routes r) : routes(std::move(r)) {}
  ~impl() override { server.reset(); }  // stop (and join the workers) before the routes go away

  bool handleGet(CivetServer*, mg_connection* c) override { return serve(c); }
  bool handlePost(CivetServer*, mg_connection* c) override { return serve(c); }
  bool handleHead(CivetServer*, mg_connection* c) override { return serve(c); }
  bool handlePut(CivetServer*, mg_connection* c) override { return serve(c); }
  bool handleDelete(CivetServer*, mg_connection* c) override { return serve(c); }
  bool handleOptions(CivetServer*, mg_connection* c) override { return serve(c); }
  bool handlePatch(CivetServer*, mg_connection* c) override { return serve(c); }

  bool serve(mg_connection* conn) noexcept {
    try {
      const mg_request_info* info = mg_get_request_info(conn);
      http_request request;
      request.method = info->request_method ? info->request_method : "";
      request.path = info->local_uri ? info->local_uri : "";
      read_header(conn, "Accept", request.accept);
      read_header(conn, "Authorization", request.authorization);
      if (request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
        if (info->content_length > kMaxBodyBytes || !read_body(conn, request.body)) {
          write(conn, json_response(413, kTooLarge), false);
          return true;
        }
      }
      write(conn, routes.handle(request), request.method == "HEAD");
    } catch (const std::exception& e) {
      log::error("admin.request_failed", e.what());
      mg_send_http_error(conn, 500, "%s", R"({"error":"InternalServerError"})");
    } catch (...) {
      mg_send_http_error(conn, 500, "%s", R"({"error":"InternalServerError"})");
    }
    return true;
  }

  // False when the body is longer than kMaxBodyBytes (chunked bodies have no length up front).
  static bool read_body(mg_connection* conn, std::string& body) {
    char buf[4096];
    for (;;) {
      const int n = mg_read(conn, buf, sizeof buf);
      if (n <= 0) return true;
      body.append(buf, static_cast<std::size_t>(n));
      if (static_cast<long long>(body.size()) > kMaxBodyBytes) return false;
    }
  }

  // A response to HEAD carries the headers only.
  static void write(mg_connection* conn, const http_response& r, bool head) {
    mg_response_header_start(conn, r.status);
    mg_response_header_add(conn, "Content-Type", r.content_type.c_str(), -1);
    mg_response_header_add(conn, "Content-Length", std::to_string(r.body.size()).c_str(), -1);
    mg_response_header_add(conn, "Cache-Control", "no-store", -1);
    mg_response_header_add(conn, "X-Content-Type-Options", "nosniff", -1);
    for (const auto& [name, value] : r.headers) mg_response_header_add(conn, name.c_str(), value.c_str(), -1);
    mg_response_header_send(conn);
    if (!head) mg_write(conn, r.body.data(), r.body.size());
  }

  // civetweb reports its errors through this callback: while starting they
  // are kept for the exception (the OS error of a failed bind is only here),
  // afterwards they go to the log.
  static int on_message(const mg_connection* conn, const char* message) {
    mg_context* ctx = mg_get_context(conn);
    auto* server = ctx ? static_cast<CivetServer*>(mg_get_user_data(ctx)) : nullptr;
    auto* self = server ? static_cast<impl*>(const_cast<void*>(server->getUserContext())) : nullptr;
    if (self == nullptr) return 0;  // let civetweb print it
    std::lock_guard<std::mutex> lock(self->mutex);
    if (self->starting) {
      self->startup_errors.emplace_back(message);
    } else {
      log::warn("admin.http_error", message);
    }
    return 1;
  }

  admin_routes routes;
  std::unique_ptr<CivetServer> server;
  sockaddr_storage wake{};  // where stop() knocks: the bound address (loopback for a wildcard)
  socklen_t wake_length = 0;
  std::mutex mutex;  // guards the two below
  bool starting = true;
  std::vector<std::string> startup_errors;
};

admin_server::admin_server(std::shared_ptr<metrics> m, const std::string& host, int port, const admin_options& options)
    : impl_(std::make_unique<impl>(admin_routes(std::move(m), options))), host_(host), port_(port) {
  const auto listening = listening_ports(host, port);
  // Probes must answer within a second while slow or idle clients come and
  // go: civetweb gives each connection a worker of its own until it is
  // served or cut, so there are enough workers for a handful of stalled
  // clients plus scrapes and probes, and a client gets request_timeout_ms
  // for its whole request head (civetweb measures from its first byte) and
  // for each read or write after it. Keep-alive would let an idle client
  // keep its worker.
  const std::vector<std::string> civet_options = {
      "listening_ports",    listening,
      "num_threads",        std::to_string(options.threads),
      "request_timeout_ms", std::to_string(options.request_timeout_ms),
      "enable_keep_alive",  "no",
  };
  CivetCallbacks callbacks;
  callbacks.log_message = &impl::on_message;
  try {
    impl_->server = std::make_unique<CivetServer>(civet_options, &callbacks, impl_.get());
  } catch (const CivetException&) {
    std::string cause;
    for (const auto& e : impl_->startup_errors) cause += (cause.empty() ? "" : "; ") + e;
    throw admin_server_error("admin.listen " + listen_name(host, port) + ": " +
                             (cause.empty() ? "civetweb could not start" : cause));
  }
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->starting = false;
  }
  // "**" matches every path, so unknown paths also get the routes' JSON 404.
  impl_->server->addHandler("**", impl_.get());
  const auto ports = impl_->server->getListeningPorts();
  if (!ports.empty()) port_ = ports.front();
  impl_->wake_length = wake_address(listening, port_, impl_->wake);
}

admin_server::~admin_server() { stop(); }

void admin_server::stop() {
  if (!impl_ || !impl_->server) return;
  // civetweb's accept loop waits for a connection in 2 s slices and only
  // looks at its stop flag between them, so stopping took up to 2 s (0.2 to
  // 1.8 s measured, at idle). Knocking on the listening port ends the slice:
  // stop in one thread, knock from this one until it is done (a few ms).
  std::atomic<bool> stopped{false};
  std::thread stopper([this, &stopped] {
    impl_->server.reset();
    stopped = true;
  });
  while (!stopped) {
    if (impl_->wake_length > 0) knock(impl_->wake, impl_->wake_length);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stopper.join();
}

std::string admin_server::address() const { return listen_name(host_, port_); }

}  // namespace kafnus
