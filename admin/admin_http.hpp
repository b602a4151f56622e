#pragma once
// The admin endpoints' view of HTTP: a request reduced to what the routes
// read, and the response they produce. Keeps the routes free of civetweb so
// they are plain functions over values.

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace kafnus {

struct http_request {
  std::string method;  // "GET", "POST", ... as sent
  std::string path;    // without the query string
  std::optional<std::string> accept;
  std::optional<std::string> authorization;
  std::string body;
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type and Content-Length
};

inline http_response json_response(int status, std::string body) {
  http_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace kafnus
