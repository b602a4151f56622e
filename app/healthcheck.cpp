#include "app/healthcheck.hpp"

#include <ostream>

#include "admin/http_client.hpp"
#include "text/ascii.hpp"

namespace kafnus {

int run_healthcheck(const config::admin_settings& admin, std::chrono::milliseconds timeout, std::ostream& out,
                    std::ostream& err) {
  try {
    const auto reply = http_exchange(admin.host, admin.port, outgoing_request{"GET", "/readyz", {}, {}}, timeout);
    const auto body = text::trim(reply.body);
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
