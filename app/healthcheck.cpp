#include "app/healthcheck.hpp"

#include <ostream>

#include "admin/http_client.hpp"

namespace kafnus {

int run_healthcheck(const config::admin_settings& admin, std::chrono::milliseconds timeout, std::ostream& out,
                    std::ostream& err) {
  try {
    const auto reply = http_exchange(admin.host, admin.port, outgoing_request{"GET", "/readyz", {}, {}}, timeout);
    std::string body = reply.body;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    if (reply.status == 200) {
      out << body << "\n";
      return 0;
    }
    err << "kafnus healthcheck: not ready (HTTP " << reply.status << "): " << body << "\n";
  } catch (const http_client_error& e) {
    err << "kafnus healthcheck: no answer from admin.listen " << admin.listen << ": " << e.what() << "\n";
  }
  return 1;
}

}  // namespace kafnus
