// Issue 16.7: what the writer remembers per name from message content
// (table schemas, staging tables, error-log tables) is bounded in size, and
// table schemas in age.

#include <gtest/gtest.h>

#include "postgis/bounded_lru.hpp"
#include "postgis/table_schema.hpp"

using namespace kafnus;
using namespace std::chrono_literals;

TEST(BoundedLru, KeepsTheMostRecentlyUsedUpToItsCapacity) {
  postgis::bounded_lru<int, std::string> lru(3);
  EXPECT_TRUE(lru.put(1, "a").empty());
  EXPECT_TRUE(lru.put(2, "b").empty());
  EXPECT_TRUE(lru.put(3, "c").empty());
  ASSERT_NE(lru.find(1), nullptr);  // 1 is now the most recent
  EXPECT_EQ(lru.put(4, "d"), std::vector<int>{2});
  EXPECT_EQ(lru.size(), 3u);
  EXPECT_EQ(lru.find(2), nullptr);
  EXPECT_EQ(*lru.find(1), "a");
  EXPECT_TRUE(lru.put(1, "A").empty());  // replacing is not growing
  EXPECT_EQ(*lru.find(1), "A");
  lru.erase(1);
  EXPECT_FALSE(lru.contains(1));
  lru.erase_if([](int k, const std::string&) { return k == 3; });
  EXPECT_EQ(lru.size(), 1u);
  for (int i = 0; i < 100000; ++i) lru.put(100 + i, "x");
  EXPECT_EQ(lru.size(), 3u);
}

TEST(BoundedLru, GivesTheValuesItPushesOutWhenAsked) {
  postgis::bounded_lru<int, std::string> lru(2);
  std::vector<std::string> values;
  lru.put(1, "one", &values);
  lru.put(2, "two", &values);
  EXPECT_TRUE(values.empty());
  EXPECT_EQ(lru.put(3, "three", &values), std::vector<int>{1});
  EXPECT_EQ(values, std::vector<std::string>{"one"});
  lru.put(3, "THREE", &values);  // replacing pushes nothing out
  EXPECT_EQ(values.size(), 1u);
}

TEST(TableSchemaCache, HoldsAtMostItsCapacityWhateverTheNamesSeen) {
  postgis::table_schema_cache cache(30s, 2s, 100);
  const auto now = postgis::table_schema_cache::clock::now();
  for (int i = 0; i < 200000; ++i) cache.store({"s", "type_" + std::to_string(i)}, postgis::table_schema{}, now);
  EXPECT_EQ(cache.size(), 100u);
  EXPECT_NE(cache.lookup({"s", "type_199999"}, now), nullptr);
  EXPECT_EQ(cache.lookup({"s", "type_0"}, now), nullptr);
}

TEST(TableSchemaCache, ExpiredEntriesAreSweptOut) {
  postgis::table_schema_cache cache(30s, 2s, 1000);
  const auto t0 = postgis::table_schema_cache::clock::now();
  postgis::table_schema present;
  present.exists = true;
  cache.store({"s", "present"}, present, t0);
  for (int i = 0; i < 10; ++i) cache.store({"s", "missing_" + std::to_string(i)}, postgis::table_schema{}, t0);
  EXPECT_EQ(cache.size(), 11u);
  EXPECT_EQ(cache.lookup({"s", "missing_1"}, t0 + 3s), nullptr);  // a missing table is looked up again soon
  EXPECT_NE(cache.lookup({"s", "present"}, t0 + 3s), nullptr);
  // The next store after a time to live sweeps every expired entry.
  cache.store({"s", "later"}, present, t0 + 31s);
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_NE(cache.lookup({"s", "later"}, t0 + 31s), nullptr);
}

TEST(TableSchemaCache, AHeldSchemaOutlivesItsEviction) {
  postgis::table_schema_cache cache(30s, 2s, 1);
  postgis::table_schema s;
  s.exists = true;
  s.columns.push_back({"entityid", "text"});
  auto held = cache.store({"s", "a"}, s);
  cache.store({"s", "b"}, postgis::table_schema{});
  EXPECT_EQ(cache.lookup({"s", "a"}), nullptr);
  ASSERT_EQ(held->columns.size(), 1u);
  EXPECT_EQ(held->columns[0].name, "entityid");
}

TEST(TableSchema, TextTypes) {
  EXPECT_TRUE(postgis::is_text_type("text"));
  EXPECT_TRUE(postgis::is_text_type("character varying(20)"));
  EXPECT_TRUE(postgis::is_text_type("character varying"));
  EXPECT_TRUE(postgis::is_text_type("character(3)"));
  EXPECT_FALSE(postgis::is_text_type("double precision"));
  EXPECT_FALSE(postgis::is_text_type("jsonb"));
}
