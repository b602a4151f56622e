#include "test/support/notifications.hpp"

#include <ctime>
#include <sstream>

namespace kafnus::test {

std::string iso_time(long long seconds, long long epoch) {
  std::time_t t = static_cast<std::time_t>(epoch + seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

std::string sensor_notification(const std::string& id, const std::string& type, const std::string& time_instant,
                                double temperature) {
  std::ostringstream o;
  o << R"({"subscriptionId":"57458eb60962ef754e7c0998","data":[{"id":")" << id << R"(","type":")" << type
    << R"(","TimeInstant":{"type":"DateTime","value":")" << time_instant
    << R"(","metadata":{}},"temperature":{"type":"Number","value":)" << temperature << R"(,"metadata":{}}}]})";
  return o.str();
}

}  // namespace kafnus::test
