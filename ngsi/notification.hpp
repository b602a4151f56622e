#pragma once
// Where the entities of a Kafka record are: the Orion notification body
// {"subscriptionId": …, "data": [entity, …]}, or the legacy Kafka Connect
// envelope {"schema": …, "payload": "<that notification as a string>"}.

#include <cstdint>
#include <string_view>

#include "ngsi/json_tree.hpp"
#include "ngsi/result.hpp"
#include "ngsi/transform.hpp"

namespace kafnus::ngsi {

struct notification {
  const json_tree* tree = nullptr;  // this thread's tree (see parse_json_object)
  std::uint32_t data = 0;           // the "data" array node
};

// Parses and checks the record value up to the "data" array (the entities
// themselves are checked one by one by the caller, so that one bad entity
// does not cost the others). Errors name what was found instead of what was
// expected.
result<notification> read_notification(std::string_view payload, const limits& lim);

}  // namespace kafnus::ngsi
