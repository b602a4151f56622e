#pragma once
// The FIWARE context of a Kafka record, read from its headers.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kafnus::ngsi {

// Kafka record headers as (name, value) in record order: the type
// msg::raw_record carries, as the consumer copied them from librdkafka.
using header_list = std::vector<std::pair<std::string, std::string>>;

struct fiware_context {
  std::string service = "default";  // fiware-service, lower-cased; "default" when absent or empty
  std::string servicepath = "/";    // fiware-servicepath, lower-cased, leading '/' added; "/" when absent or empty
  std::string datamodel;            // fiware-datamodel as sent (trimmed); empty when absent
  // The two headers as sent, what name mappings match ("default" and "/"
  // when absent or empty, as Cygnus). Views of the header list, or of
  // literals: valid while the header list is.
  std::string_view service_sent = "default";
  std::string_view servicepath_sent = "/";
};

// Header names are matched case-insensitively; when a header is repeated the
// last one wins. Never fails.
fiware_context read_fiware_context(const header_list& headers);

// A service and a servicepath as Kafnus keeps them, whether from a header or
// from a name mapping: lower-cased; the servicepath with a leading '/'; an
// empty one is "default" and "/".
std::string normalize_service(std::string_view service);
std::string normalize_servicepath(std::string_view servicepath);

}  // namespace kafnus::ngsi
