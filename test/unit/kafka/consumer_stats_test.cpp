// Reading librdkafka's statistics: broker state and partition lag.

#include <gtest/gtest.h>

#include "kafka/consumer_stats.hpp"

using kafnus::kafka::idle_fetcher_needs_restart;
using kafnus::kafka::parse_consumer_stats;

TEST(ConsumerStats, BrokersUpAndLagPerPartition) {
  auto s = parse_consumer_stats(R"({
    "brokers": {"127.0.0.1:9092/bootstrap": {"nodeid": -1, "state": "UP"},
                "127.0.0.1:9092/1": {"nodeid": 1, "state": "UP"}},
    "topics": {"t": {"partitions": {"0": {"consumer_lag": 5}, "1": {"consumer_lag": -1},
                                    "-1": {"consumer_lag": 9}, "2": {"consumer_lag": 0}}}}})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->broker_up, true);
  ASSERT_EQ(s->lags.size(), 2u);
  EXPECT_EQ(s->lags[0].topic, "t");
  EXPECT_EQ(s->lags[0].partition, 0);
  EXPECT_EQ(s->lags[0].lag, 5);
  EXPECT_EQ(s->lags[1].partition, 2);
}

TEST(ConsumerStats, OnlyABootstrapConnectionIsNotABrokerUp) {
  auto s = parse_consumer_stats(R"({"brokers": {"b/bootstrap": {"nodeid": -1, "state": "UP"},
                                                "b/1": {"nodeid": 1, "state": "DOWN"}}})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->broker_up, false);
  EXPECT_TRUE(s->lags.empty());
}

TEST(ConsumerStats, NoBrokersSaysNothingAboutThem) {
  auto s = parse_consumer_stats(R"({"topics": {}})");
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->broker_up);
  EXPECT_FALSE(parse_consumer_stats("not json"));
  EXPECT_FALSE(parse_consumer_stats("[1]"));
}

TEST(ConsumerStats, AnIdleFetcherIsRestartedOnlyForARealBacklog) {
  EXPECT_TRUE(idle_fetcher_needs_restart(100, 117));
  EXPECT_FALSE(idle_fetcher_needs_restart(100, 116)) << "a few transaction markers are no backlog";
  EXPECT_FALSE(idle_fetcher_needs_restart(0, 1000)) << "nothing fetched yet: librdkafka starts it";
}
