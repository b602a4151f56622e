#include "ngsi/headers.hpp"

#include "ngsi/text.hpp"

namespace kafnus::ngsi {
using text::trim;

namespace {

// normalize_servicepath into `out`, whose room is reused.
void normalize_servicepath_into(std::string& out, std::string_view servicepath) {
  out.assign(servicepath.empty() || servicepath.front() != '/' ? "/" : "");
  text::append_lower_ascii(out, servicepath);
}

}  // namespace

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
  // Lower-cased into the context's own strings: no string made and moved
  // for each.
  if (service && !service->empty()) {
    ctx.service.clear();
    text::append_lower_ascii(ctx.service, *service);
    ctx.service_sent = *service;
  }
  if (servicepath && !servicepath->empty()) {
    normalize_servicepath_into(ctx.servicepath, *servicepath);
    ctx.servicepath_sent = *servicepath;
  }
  if (dm) ctx.datamodel = std::string(trim(*dm));
  return ctx;
}

std::string normalize_service(std::string_view service) {
  return service.empty() ? std::string("default") : to_lower_ascii(service);
}

std::string normalize_servicepath(std::string_view servicepath) {
  std::string out;
  normalize_servicepath_into(out, servicepath);
  return out;
}

}  // namespace kafnus::ngsi
