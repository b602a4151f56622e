#pragma once
// A small blocking HTTP/1.1 client for the daemon's own admin endpoints:
// `kafnus healthcheck` asks /readyz with it, and the tests use it for every
// endpoint. One request per connection, the answer read until the server
// closes it; no TLS, no redirects, no chunked bodies (the admin server
// sends Content-Length).

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>

namespace kafnus {

struct http_reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

// The request could not be made or its answer was not HTTP; what() names
// the address and the cause ("127.0.0.1:8000: connect: Connection refused").
class http_client_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct outgoing_request {
  std::string method = "GET";
  std::string target = "/";
  std::map<std::string, std::string> headers;  // sent as "name: value"
  std::string body;                            // sent with Content-Length for POST/PUT or when not empty
};

// Sends `request` to host:port (a name or an IPv4/IPv6 address; a wildcard
// address such as 0.0.0.0 or :: means this machine's loopback) and returns
// the answer. `timeout` bounds the connect and every read and write.
// Answers over 4 MiB are refused.
http_reply http_exchange(const std::string& host, int port, const outgoing_request& request,
                         std::chrono::milliseconds timeout);

}  // namespace kafnus
