#include "ngsi/headers.hpp"

#include "ngsi/text.hpp"

namespace kafnus::ngsi {

fiware_context read_fiware_context(const header_list& headers) {
  fiware_context ctx;
  // Names match case-insensitively; a repeated header: the last one wins.
  for (const auto& [name, value] : headers) {
    const auto key = ascii_lower(trim(name));
    if (key == "fiware-service") {
      auto v = ascii_lower(trim(value));
      ctx.service = v.empty() ? "default" : v;
    } else if (key == "fiware-servicepath") {
      auto v = ascii_lower(trim(value));
      if (v.empty()) {
        ctx.servicepath = "/";
      } else {
        ctx.servicepath = v.front() == '/' ? v : "/" + v;
      }
    } else if (key == "fiware-datamodel") {
      ctx.datamodel = std::string(trim(value));
    } else if (key == "fiware-correlator") {
      ctx.correlator = std::string(trim(value));
    }
  }
  return ctx;
}

}  // namespace kafnus::ngsi
