// Reading the admin server's Prometheus text back (kafnus status).

#include <gtest/gtest.h>

#include "admin/prometheus_text.hpp"

TEST(PrometheusText, ReadsNamesLabelsAndValuesAndSkipsComments) {
  const auto s = kafnus::parse_prometheus_text(
      "# HELP messages_processed_total x\n"
      "# TYPE messages_processed_total counter\n"
      "messages_processed_total{flow=\"historic\"} 12\n"
      "kafnus_consumer_lag_messages{partition=\"0\",topic=\"a\\\"b\"} 3.5\n"
      "kafnus_kafka_up 1\n"
      "not a sample\n"
      "broken{flow=\"x} 1\n");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].name, "messages_processed_total");
  EXPECT_EQ(s[0].labels.at("flow"), "historic");
  EXPECT_EQ(s[0].value, 12);
  EXPECT_EQ(s[1].labels.at("topic"), "a\"b");
  EXPECT_EQ(s[1].labels.at("partition"), "0");
  EXPECT_EQ(s[1].value, 3.5);
  EXPECT_EQ(s[2].name, "kafnus_kafka_up");
  EXPECT_TRUE(s[2].labels.empty());
}
