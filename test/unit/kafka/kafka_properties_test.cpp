// The consumer's librdkafka properties and its static-membership id.

#include <gtest/gtest.h>

#include <unistd.h>

#include "kafka/kafka_properties.hpp"

using kafnus::kafka::consumer_properties;
using kafnus::kafka::resolve_instance_id;

namespace {

kafnus::config::settings base() {
  kafnus::config::settings s;
  s.kafka.brokers = "k:9092";
  s.kafka.group_id = "g";
  s.kafka.client_id = "c";
  s.kafka.auto_offset_reset = kafnus::config::offset_reset::earliest;
  s.kafka.instance_id = "auto";
  s.admin.port = 8123;
  return s;
}

}  // namespace

TEST(KafkaProperties, AutoInstanceIdIsStablePerHostAndAdminPort) {
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof host - 1), 0);
  auto s = base();
  const auto id = resolve_instance_id(s);
  EXPECT_EQ(id.rfind("kafnus-", 0), 0u) << id;
  EXPECT_NE(id.find("-8123"), std::string::npos) << id;
  EXPECT_EQ(id, resolve_instance_id(s)) << "the same instance gets the same id after a restart";
  s.admin.port = 8124;
  EXPECT_NE(resolve_instance_id(s), id) << "two instances on one host get distinct ids";
  for (char c : id) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') << id;
}

TEST(KafkaProperties, AnExplicitOrEmptyInstanceIdIsKept) {
  auto s = base();
  s.kafka.instance_id = "kafnus-pod-3";
  EXPECT_EQ(resolve_instance_id(s), "kafnus-pod-3");
  s.kafka.instance_id = "";
  EXPECT_EQ(resolve_instance_id(s), "");
}

TEST(KafkaProperties, StaticMembershipOnlyWithAnId) {
  auto s = base();
  s.kafka.instance_id = "kafnus-a";
  EXPECT_EQ(consumer_properties(s.kafka).at("group.instance.id"), "kafnus-a");
  s.kafka.instance_id = "";
  EXPECT_EQ(consumer_properties(s.kafka).count("group.instance.id"), 0u);
}

TEST(KafkaProperties, NewTopicsAreDiscoveredWithinSecondsUnlessTheOperatorSaysOtherwise) {
  auto s = base();
  EXPECT_EQ(consumer_properties(s.kafka).at("topic.metadata.refresh.interval.ms"), "5000");
  s.kafka.properties["topic.metadata.refresh.interval.ms"] = "60000";
  EXPECT_EQ(consumer_properties(s.kafka).at("topic.metadata.refresh.interval.ms"), "60000");
  EXPECT_EQ(consumer_properties(s.kafka).at("enable.auto.commit"), "false");
  EXPECT_EQ(consumer_properties(s.kafka).at("auto.offset.reset"), "earliest");
}
