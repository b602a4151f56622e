// A row's columns in one buffer (ngsi::column_list): every name and text
// comes back as it was added, whatever its length, and a copy of a row reads
// its own buffer.

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "ngsi/row.hpp"

namespace kafnus::ngsi {
namespace {

row sample() {
  row r;
  r.columns.add(kEntityId, value_kind::text, "urn:ngsi-ld:Sensor:0001");
  r.columns.add("empty", value_kind::text, "");
  r.columns.add("nothing", value_kind::null, "");
  r.columns.push_back({kRecvTime, value::timestamp(1735689600500000)});
  r.columns.add("long", value_kind::json, std::string(5000, 'x'));
  r.columns.add("", value_kind::number, "1e-06");  // an empty name is the writer's to refuse, not the list's
  r.columns.add("nul", value_kind::text, std::string("a\0b", 3));
  return r;
}

void expect_sample(const row& r) {
  ASSERT_EQ(r.columns.size(), 7u);
  EXPECT_EQ(r.columns[0].name, kEntityId);
  EXPECT_EQ(r.columns[0].val, value::text_value("urn:ngsi-ld:Sensor:0001"));
  EXPECT_EQ(r.columns[1].name, "empty");
  EXPECT_EQ(r.columns[1].val, value::text_value(""));
  EXPECT_EQ(r.columns[2].val, value::null());
  EXPECT_EQ(r.columns[3].name, kRecvTime);
  EXPECT_EQ(r.columns[3].val, value::timestamp(1735689600500000));
  EXPECT_EQ(r.columns[3].val.micros, 1735689600500000);
  EXPECT_EQ(r.columns[4].val, value::json(std::string(5000, 'x')));
  EXPECT_EQ(r.columns[5].name, "");
  EXPECT_EQ(r.columns[5].val, value::number("1e-06"));
  EXPECT_EQ(r.columns.back().val.text, std::string_view("a\0b", 3));
}

TEST(ColumnList, EveryNameAndTextComesBackAsAdded) {
  const row r = sample();
  expect_sample(r);
  std::vector<std::string> names;
  for (const auto c : r.columns) names.emplace_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"entityid", "empty", "nothing", "recvtime", "long", "", "nul"}));
}

TEST(ColumnList, ACopyOrAMoveReadsItsOwnBuffer) {
  row original = sample();
  const row copy = original;
  const row moved = std::move(original);
  original = row{};
  original.columns.add("other", value_kind::text, "overwritten");
  expect_sample(copy);
  expect_sample(moved);
}

TEST(ColumnList, FindsAColumnByName) {
  const row r = sample();
  ASSERT_TRUE(r.find("recvtime").has_value());
  EXPECT_EQ(r.find("recvtime")->val.kind, value_kind::timestamp);
  EXPECT_FALSE(r.find("recv").has_value());
  EXPECT_FALSE(r.find("recvtimex").has_value());
}

TEST(ColumnList, AReservedRowGivesBackWhatItDidNotUse) {
  row r;
  r.columns.reserve(2, std::size_t{64} * 1024);
  r.columns.add("a", value_kind::text, "b");
  const auto reserved = r.byte_size();
  r.columns.shrink_to_fit();
  EXPECT_LT(r.byte_size() + std::size_t{60} * 1024, reserved);
  EXPECT_EQ(r.columns[0].val.text, "b");
}

TEST(ColumnList, AnInstantComesBackWhereverItsColumnIs) {
  column_list l;
  l.push_back({"first", value::timestamp(-1)});  // 1969-12-31 23:59:59.999999
  l.add("middle", value_kind::text, "t");
  l.push_back({"last", value::timestamp(253402300799999999)});  // 9999-12-31 23:59:59.999999
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[0].val, value::timestamp(-1));
  EXPECT_EQ(l[0].val.micros, -1);
  EXPECT_EQ(l[1].val, value::text_value("t"));
  EXPECT_EQ(l[1].val.micros, 0);
  EXPECT_EQ(l[2].name, "last");
  EXPECT_EQ(l[2].val, value::timestamp(253402300799999999));
  EXPECT_EQ(l[2].val.micros, 253402300799999999);
}

TEST(ColumnList, AColumnTakesItsTextsAndTwelveBytes) {
  column_list l;
  l.reserve(100, 200);
  for (int i = 0; i < 100; ++i) l.add("n", value_kind::number, "1");
  l.shrink_to_fit();
  EXPECT_LE(l.heap_bytes(), std::size_t{100} * (12 + 2) + 32) << "a rows' columns are most of what is in flight";
}

TEST(ColumnList, ByteSizeCountsTheTextsOnce) {
  row small = sample();
  small.columns.shrink_to_fit();
  row large = sample();
  large.columns.add("more", value_kind::text, std::string(100000, 'y'));
  large.columns.shrink_to_fit();
  // The 100,000 bytes, once (no copy per column, no name object per column).
  EXPECT_GE(large.byte_size(), small.byte_size() + 100000);
  EXPECT_LT(large.byte_size(), small.byte_size() + std::size_t{2} * 100000);
}

}  // namespace
}  // namespace kafnus::ngsi
