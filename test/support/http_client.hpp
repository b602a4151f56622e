#pragma once
// HTTP for the admin tests: one request per connection to 127.0.0.1 through
// the daemon's own client (admin/http_client.hpp).

#include <map>
#include <string>

#include "admin/http_client.hpp"

namespace kafnus::test {

using kafnus::http_reply;

// `extra_headers` are sent as "name: value".
http_reply http_call(int port, const std::string& method, const std::string& target,
                     const std::map<std::string, std::string>& extra_headers = {}, const std::string& body = {});

// A port that was free a moment ago (bound to 127.0.0.1:0 and released).
int free_port();

}  // namespace kafnus::test
