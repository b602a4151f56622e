// Flow names and table suffixes.

#include <gtest/gtest.h>

#include "ngsi/flow.hpp"

using namespace kafnus::ngsi;

TEST(Flow, NamesRoundTrip) {
  for (auto f : kAllFlows) EXPECT_EQ(parse_flow(to_string(f)), f);
  EXPECT_FALSE(parse_flow("mutables").has_value());
}

TEST(Flow, TableSuffixes) {
  EXPECT_EQ(table_suffix(flow::historic), "");
  EXPECT_EQ(table_suffix(flow::lastdata), "_lastdata");
  EXPECT_EQ(table_suffix(flow::mutable_), "_mutable");
}
