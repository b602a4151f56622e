// A row's columns in one buffer (ngsi::column_list): every name and text
// comes back as it was added, whatever its length, before and after the
// row is sealed, and a copy of a row reads its own buffer.

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

// The sample's columns, then one more: "later", text "l".
void expect_sample_but_last(const row& r) {
  ASSERT_EQ(r.columns.size(), 8u);
  EXPECT_EQ(r.columns[7].name, "later");
  EXPECT_EQ(r.columns[7].val, value::text_value("l"));
  const row s = sample();
  for (std::size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(r.columns[i].name, s.columns[i].name);
    EXPECT_EQ(r.columns[i].val, s.columns[i].val);
  }
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
  r.columns.seal();
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

TEST(ColumnList, ASealedColumnTakesItsTextAndFourBytes) {
  column_list l;
  l.reserve(100, 200);
  for (int i = 0; i < 100; ++i) l.add("name" + std::to_string(i), value_kind::number, "1");
  l.seal();
  EXPECT_LE(l.heap_bytes(), std::size_t{100} * (4 + 1) + 32) << "a rows' columns are most of what is in flight";
  EXPECT_EQ(l[42].name, "name42");
  EXPECT_EQ(l[42].val, value::number("1"));
}

TEST(ColumnList, ASealedRowReadsAsItWasBuilt) {
  row r = sample();
  r.columns.seal();
  ASSERT_TRUE(r.columns.sealed());
  expect_sample(r);
  const row copy = r;
  row moved = std::move(r);
  expect_sample(copy);
  expect_sample(moved);
  EXPECT_EQ(moved.entity_id(), "urn:ngsi-ld:Sensor:0001");
  ASSERT_TRUE(moved.find("recvtime").has_value());
  EXPECT_EQ(moved.find("recvtime")->val.micros, 1735689600500000);
}

TEST(ColumnList, RowsOfOneShapeShareTheirNames) {
  row a = sample();
  row b = sample();
  row other = sample();
  other.columns.add("extra", value_kind::text, "x");
  row kind = row{};
  kind.columns.add(kEntityId, value_kind::text, "e");
  kind.columns.add("v", value_kind::text, "1");
  row number = row{};
  number.columns.add(kEntityId, value_kind::text, "e");
  number.columns.add("v", value_kind::number, "1");
  for (row* r : {&a, &b, &other, &kind, &number}) r->columns.seal();
  ASSERT_NE(a.columns.layout(), nullptr);
  EXPECT_EQ(a.columns.layout(), b.columns.layout());
  EXPECT_NE(a.columns.layout(), other.columns.layout()) << "one column more";
  EXPECT_NE(kind.columns.layout(), number.columns.layout()) << "the same names, another kind";
  EXPECT_EQ(number.columns[1].val, value::number("1"));
}

TEST(ColumnList, AColumnAddedToASealedRowUnsealsIt) {
  row r = sample();
  r.columns.seal();
  r.columns.add("later", value_kind::text, "l");
  EXPECT_FALSE(r.columns.sealed());
  expect_sample_but_last(r);
}

TEST(ColumnList, AHugeLayoutIsNotKeptForOtherRows) {
  auto huge = [] {
    row r;
    r.columns.add(kEntityId, value_kind::text, "e");
    for (int i = 0; i < 2000; ++i) r.columns.add(std::string(40, 'a') + std::to_string(i), value_kind::number, "1");
    r.columns.seal();
    return r;
  };
  const row a = huge();
  const row b = huge();
  ASSERT_TRUE(a.columns.sealed());
  EXPECT_NE(a.columns.layout(), b.columns.layout()) << "80 KB of names: the thread does not keep them";
  EXPECT_GT(a.byte_size(), std::size_t{80000}) << "the row's own layout counts in its size";
  EXPECT_EQ(b.columns[2000].name, std::string(40, 'a') + "1999");
  EXPECT_EQ(b.columns[2000].val, value::number("1"));
}

TEST(ColumnList, ManyShapesStillReadBackPastTheBoundOfShared) {
  std::vector<row> rows;
  for (int i = 0; i < 3000; ++i) {  // more shapes than a thread keeps
    row r;
    r.columns.add(kEntityId, value_kind::text, "e" + std::to_string(i));
    r.columns.add("a" + std::to_string(i), value_kind::number, std::to_string(i));
    r.columns.seal();
    rows.push_back(std::move(r));
  }
  for (int i = 0; i < 3000; ++i) {
    const auto& r = rows[static_cast<std::size_t>(i)];
    ASSERT_EQ(r.columns.size(), 2u);
    EXPECT_EQ(r.columns[1].name, "a" + std::to_string(i));
    EXPECT_EQ(r.columns[1].val, value::number(std::to_string(i)));
    EXPECT_EQ(r.entity_id(), "e" + std::to_string(i));
  }
}

TEST(ColumnList, ByteSizeCountsTheTextsOnce) {
  row small = sample();
  small.columns.seal();
  row large = sample();
  large.columns.add("more", value_kind::text, std::string(100000, 'y'));
  large.columns.seal();
  // The 100,000 bytes, once (no copy per column, no name object per column).
  EXPECT_GE(large.byte_size(), small.byte_size() + 100000);
  EXPECT_LT(large.byte_size(), small.byte_size() + std::size_t{2} * 100000);
}

// The sample's columns through a builder, as the transform builds rows.
column_list built_sample(column_builder& b) {
  const row s = sample();
  for (const auto c : s.columns) b.add(c.name, c.val.kind, c.val.text, c.val.micros);
  return b.finish();
}

TEST(ColumnBuilder, BuildsASealedListThatReadsAsAdded) {
  column_builder b;
  row r;
  r.columns = built_sample(b);
  ASSERT_TRUE(r.columns.sealed());
  expect_sample(r);
  EXPECT_EQ(r.entity_id(), "urn:ngsi-ld:Sensor:0001");
  EXPECT_EQ(b.size(), 0u) << "finish() leaves the builder empty";
  // Its one buffer is exactly its texts and an end per column.
  std::size_t texts = 0;
  for (const auto c : r.columns) texts += c.val.text.size() + (c.val.kind == value_kind::timestamp ? 8 : 0);
  EXPECT_EQ(r.columns.heap_bytes(), texts + 4 * r.columns.size());
}

TEST(ColumnBuilder, SharesLayoutsWithSealedRowsAndKeepsNothingBetweenLists) {
  column_builder b;
  row sealed = sample();
  sealed.columns.seal();
  const column_list first = built_sample(b);
  const column_list second = built_sample(b);
  EXPECT_EQ(first.layout(), sealed.columns.layout()) << "one shape, one layout, however it was sealed";
  EXPECT_EQ(second.layout(), first.layout());
  EXPECT_EQ(second.size(), 7u);
  // Columns added and then cleared (an entity given up half-way) are not
  // in the next list.
  b.add("dropped", value_kind::text, "x");
  b.clear();
  b.add(kEntityId, value_kind::text, "e");
  b.add("v", value_kind::boolean, "true");
  const column_list next = b.finish();
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[1].name, "v");
  EXPECT_EQ(next[1].val, value::boolean(true));
  EXPECT_NE(next.layout(), first.layout());
  EXPECT_TRUE(b.finish().empty()) << "nothing added, nothing built";
}

TEST(ColumnBuilder, AGivenNameHashIsTheOneItWouldCompute) {
  column_builder b;
  b.add("a", column_builder::name_hash("a"), value_kind::number, "1");
  const column_list hashed = b.finish();
  b.add("a", value_kind::number, "2");
  const column_list computed = b.finish();
  EXPECT_EQ(hashed.layout(), computed.layout());
  EXPECT_EQ(computed[0].val, value::number("2"));
}

// The ends of a row's columns are written 64 at a time: every column of a
// row of more reads back, texts of every length and instants among them.
TEST(ColumnBuilder, EveryColumnOfAWideRowReadsBack) {
  column_builder b;
  for (int n : {63, 64, 65, 200}) {
    for (int i = 0; i < n; ++i) {
      const std::string name = "c" + std::to_string(i);
      if (i % 7 == 3) {
        b.add(name, value_kind::timestamp, "t" + std::to_string(i), std::int64_t{1000} * i);
      } else {
        b.add(name, value_kind::text, std::string(static_cast<std::size_t>(i % 23), static_cast<char>('a' + i % 26)));
      }
    }
    const column_list wide = b.finish();
    ASSERT_EQ(wide.size(), static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      const auto c = wide[static_cast<std::size_t>(i)];
      ASSERT_EQ(c.name, "c" + std::to_string(i)) << n;
      if (i % 7 == 3) {
        EXPECT_EQ(c.val.text, "t" + std::to_string(i)) << n;
        EXPECT_EQ(c.val.micros, 1000 * i) << n;
      } else {
        EXPECT_EQ(c.val.text, std::string(static_cast<std::size_t>(i % 23), static_cast<char>('a' + i % 26))) << n;
      }
    }
  }
}

// The builder's buffers grow past their first capacity without losing a
// byte, keep their room for the next row, and give an unusually large
// row's back.
// Short appends are copied inline, by length class (1-3, 4-7, 8-16 bytes,
// then memcpy): every length reads back byte for byte, at every offset.
TEST(ByteBuffer, EveryShortLengthIsCopiedExactly) {
  std::string expected;
  byte_buffer buf;
  for (std::size_t n = 0; n <= 40; ++n) {
    std::string piece;
    for (std::size_t i = 0; i < n; ++i) piece += static_cast<char>('a' + (n * 7 + i) % 26);
    buf.append(piece);
    expected += piece;
    ASSERT_EQ(buf.view(), expected) << n;
  }
}

TEST(ColumnBuilder, LongTextsAndNamesGrowItsBuffersAndReadBack) {
  column_builder b;
  const std::string long_text(5000, 'x');
  const std::string long_name(300, 'n');
  b.add(kEntityId, value_kind::text, "e");
  for (int i = 0; i < 40; ++i) b.add(long_name + std::to_string(i), value_kind::text, long_text + std::to_string(i));
  b.add(kRecvTime, value_kind::timestamp, "1970-01-01 00:00:01.000000+00", 1000000);
  const column_list big = b.finish();
  ASSERT_EQ(big.size(), 42u);
  EXPECT_EQ(big[0].val.text, "e");
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(big[static_cast<std::size_t>(i) + 1].name, long_name + std::to_string(i));
    EXPECT_EQ(big[static_cast<std::size_t>(i) + 1].val.text, long_text + std::to_string(i));
  }
  EXPECT_EQ(big[41].val.micros, 1000000);

  byte_buffer buf;
  buf.append("abc");
  const std::size_t room = buf.capacity();
  buf.append(std::string(room, 'y'));
  EXPECT_EQ(buf.view(), "abc" + std::string(room, 'y'));
  buf.clear();
  EXPECT_EQ(buf.size(), 0u);
  EXPECT_GE(buf.capacity(), room + 3) << "cleared, it keeps its room";
  buf.append("");
  EXPECT_EQ(buf.view(), "");
  buf.release();
  EXPECT_EQ(buf.capacity(), 0u);
}

}  // namespace
}  // namespace kafnus::ngsi
