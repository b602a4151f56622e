// Which flow consumes a topic: exact names and '^' patterns.

#include <gtest/gtest.h>

#include "config/topic_pattern.hpp"
#include "kafka/topic_router.hpp"

using kafnus::kafka::topic_router;
using kafnus::ngsi::flow;

namespace {

topic_router router() {
  return topic_router({{flow::historic, {"smc_raw_historic", "^smc_.*_historic$"}},
                       {flow::lastdata, {"^smc_.*_lastdata$", "^smc_"}},
                       {flow::mutable_, {"smc_raw_mutable"}}});
}

}  // namespace

TEST(TopicRouter, ExactNamesAndPatternsSelectTheirFlow) {
  auto r = router();
  EXPECT_EQ(r.resolve("smc_raw_historic").flow, flow::historic);
  EXPECT_EQ(r.resolve("smc_city2_historic").flow, flow::historic);
  EXPECT_EQ(r.resolve("smc_city2_lastdata").flow, flow::lastdata);
  EXPECT_EQ(r.resolve("smc_raw_mutable").flow, flow::mutable_) << "an exact name wins over the ^smc_ pattern";
  EXPECT_FALSE(r.resolve("other_topic").flow);
  EXPECT_FALSE(r.resolve("xsmc_a_historic").flow) << "^ anchors the pattern at the start";
  EXPECT_FALSE(r.resolve("smc_a_historic_old").flow == flow::historic) << "$ anchors it at the end";
}

TEST(TopicRouter, ATopicMatchingSeveralFlowsGoesToTheFirstAndSaysWhichElseMatched) {
  auto r = router().resolve("smc_x_historic");
  EXPECT_EQ(r.flow, flow::historic);
  ASSERT_EQ(r.also_matched.size(), 1u);
  EXPECT_EQ(r.also_matched[0], flow::lastdata);
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
