#include "ngsi/headers.hpp"

#include "ngsi/text.hpp"

namespace kafnus::ngsi {
using text::trim;

fiware_context read_fiware_context(const header_list& headers) {
  // Pointers to the last occurrence of each header: later ones win, as with
  // a map assignment, without copying values that are then overwritten.
  const std::string* service = nullptr;
  const std::string* servicepath = nullptr;
  const std::string* dm = nullptr;
  for (const auto& [name, val] : headers) {
    if (iequals(name, "fiware-service")) {
      service = &val;
    } else if (iequals(name, "fiware-servicepath")) {
      servicepath = &val;
    } else if (iequals(name, "fiware-datamodel")) {
      dm = &val;
    }
  }
  fiware_context ctx;
  if (service && !service->empty()) {
    ctx.service = to_lower_ascii(*service);
    ctx.service_sent = *service;
  }
  if (servicepath && !servicepath->empty()) {
    ctx.servicepath = normalize_servicepath(*servicepath);
    ctx.servicepath_sent = *servicepath;
  }
  if (dm) ctx.datamodel = std::string(trim(*dm));
  return ctx;
}

std::string normalize_service(std::string_view service) {
  return service.empty() ? std::string("default") : to_lower_ascii(service);
}

std::string normalize_servicepath(std::string_view servicepath) {
  if (servicepath.empty()) return "/";
  if (servicepath.front() == '/') return to_lower_ascii(servicepath);
  return "/" + to_lower_ascii(servicepath);
}

}  // namespace kafnus::ngsi
