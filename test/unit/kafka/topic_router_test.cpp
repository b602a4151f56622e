// Which flows consume a topic: exact names and '^' patterns, one topic in several flows.

#include <gtest/gtest.h>

#include "config/topic_pattern.hpp"
#include "kafka/topic_router.hpp"

using kafnus::kafka::topic_router;
using kafnus::ngsi::flow;
using flows = std::vector<flow>;

namespace {

topic_router router() {
  return topic_router({{flow::historic, {"smc_raw_historic", "^smc_.*_historic$"}},
                       {flow::lastdata, {"^smc_.*_lastdata$", "^smc_"}},
                       {flow::mutable_, {"smc_raw_mutable"}}});
}

}  // namespace

TEST(TopicRouter, ExactNamesAndPatternsSelectTheirFlow) {
  auto r = router();
  EXPECT_EQ(r.resolve("smc_raw_historic").flows, flows{flow::historic});
  EXPECT_EQ(r.resolve("smc_city2_historic").flows, flows{flow::historic});
  EXPECT_EQ(r.resolve("smc_city2_lastdata").flows, flows{flow::lastdata});
  EXPECT_EQ(r.resolve("smc_raw_mutable").flows, flows{flow::mutable_}) << "an exact name wins over the ^smc_ pattern";
  EXPECT_TRUE(r.resolve("other_topic").flows.empty());
  EXPECT_TRUE(r.resolve("xsmc_a_historic").flows.empty()) << "^ anchors the pattern at the start";
  EXPECT_EQ(r.resolve("smc_a_historic_old").flows, flows{flow::lastdata}) << "$ anchors it at the end";
}

TEST(TopicRouter, ATopicMatchingSeveralFlowsGoesToTheFirstAndSaysWhichElseMatched) {
  auto r = router().resolve("smc_x_historic");
  EXPECT_EQ(r.flows, flows{flow::historic});
  ASSERT_EQ(r.also_matched.size(), 1u);
  EXPECT_EQ(r.also_matched[0], flow::lastdata);
}

TEST(TopicRouter, ATopicListedUnderSeveralFlowsFeedsEachInFlowOrder) {
  const topic_router r({{flow::historic, {"smc_raw", "^city_.*$"}},
                        {flow::lastdata, {"smc_raw", "^city_.*$"}},
                        {flow::mutable_, {"smc_raw", "^other_.*$"}}});
  EXPECT_EQ(r.resolve("smc_raw").flows, (flows{flow::historic, flow::lastdata, flow::mutable_}));
  EXPECT_TRUE(r.resolve("smc_raw").also_matched.empty());
  EXPECT_EQ(r.resolve("city_madrid").flows, (flows{flow::historic, flow::lastdata})) << "the same pattern in two flows";
  EXPECT_EQ(r.resolve("other_x").flows, flows{flow::mutable_});
  EXPECT_EQ(r.subscription(), (std::vector<std::string>{"smc_raw", "^city_.*$", "^other_.*$"})) << "each once";
}

TEST(TopicRouter, TheSubscriptionListsEveryNameAndPattern) {
  EXPECT_EQ(router().subscription(), (std::vector<std::string>{"smc_raw_historic", "^smc_.*_historic$",
                                                               "^smc_.*_lastdata$", "^smc_", "smc_raw_mutable"}));
}

TEST(TopicRouter, AnInvalidPatternIsRefusedWithItsName) {
  try {
    topic_router({{flow::historic, {"^smc_(unclosed"}}});
    FAIL() << "accepted an invalid pattern";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("^smc_(unclosed"), std::string::npos) << e.what();
  }
  EXPECT_NE(kafnus::config::topic_pattern_problem("^"), "");
  EXPECT_EQ(kafnus::config::topic_pattern_problem("^a.*"), "");
}
