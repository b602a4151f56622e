#pragma once
// A tiny blocking HTTP/1.1 client for the admin tests: one request per
// connection to 127.0.0.1, the whole answer read until the server closes.

#include <map>
#include <string>

namespace kafnus::test {

struct http_reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

// `extra_headers` are complete lines without CRLF, e.g. "Accept: text/plain".
http_reply http_call(int port, const std::string& method, const std::string& target,
                     const std::map<std::string, std::string>& extra_headers = {}, const std::string& body = {});

// A port that was free a moment ago (bound to 127.0.0.1:0 and released).
int free_port();

}  // namespace kafnus::test
