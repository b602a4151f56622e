// Input meant to break things: injection attempts, oversized and deeply
// nested values, odd bytes. Errors, never crashes, and identifiers made of
// [a-z0-9_] only.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ngsi_test_support.hpp"

namespace kafnus::ngsi {
namespace {

using testing::attr;
using testing::entity;
using ::testing::HasSubstr;
using testing::json_string;
using ::testing::Not;
using testing::notification;
using testing::run;
using testing::time_instant;

bool is_identifier(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

const std::string kInjection = "x\"; DROP TABLE test.simple_sensor; --";
const std::string kQuoteInjection = "x'); DELETE FROM t WHERE ''='";

TEST(HostileInput, SqlInjectionInEveryNameGivesSanitizedIdentifiersAndVerbatimValues) {
  for (auto dm :
       {"dm-by-entity-type-database", "dm-by-entity-type-database-schema", "dm-by-fixed-entity-type-database-schema"}) {
    const header_list h = {{"fiware-service", "svc\"; DROP SCHEMA public; --"},
                           {"fiware-servicepath", "/p'; DELETE FROM x; --"},
                           {"fiware-datamodel", dm}};
    const auto out = run(notification({entity(kQuoteInjection, "T\"); DROP TABLE y; --",
                                              {time_instant(), attr("v", "Text", json_string(kInjection))})}),
                         flow::historic, h);
    ASSERT_EQ(out.rows.size(), 1u) << dm << ": " << (out.errors.empty() ? "" : out.errors[0].message);
    const row& r = out.rows[0];
    EXPECT_TRUE(is_identifier(r.table().schema)) << r.table().schema;
    EXPECT_TRUE(is_identifier(r.table().table)) << r.table().table;
    EXPECT_EQ(r.entity_id(), kQuoteInjection);
    EXPECT_EQ(r.find("entityid")->val.text, kQuoteInjection);
    EXPECT_EQ(r.find("entitytype")->val.text, "T\"); DROP TABLE y; --");
    EXPECT_EQ(r.find("v")->val.text, kInjection);
    EXPECT_EQ(r.find("fiwareservicepath")->val.text, "/p'; delete from x; --");
  }
}

TEST(HostileInput, AttributeNamesAreKeptNotSanitizedButNeverIdentifiersOfTables) {
  // Attribute names become column names the writer quotes and matches against
  // existing columns; they are lower-cased, not rewritten.
  const std::string name = "Temp\"); DROP TABLE z; --";
  const auto out = run(notification({entity("E", "T", {time_instant(), attr(name, "Number", "1")})}));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_TRUE(out.rows[0].find("temp\"); drop table z; --").has_value());
  EXPECT_TRUE(is_identifier(out.rows[0].table().table));
}

TEST(HostileInput, TenMegabyteValueIsAnErrorNotACrash) {
  const std::string big = json_string(std::string(10u << 20, 'A'));
  const auto out = run(notification(
      {entity("E", "T", {time_instant(), attr("blob", "Text", big)}), entity("F", "T", {time_instant()})}));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].entity_id(), "F");
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("attribute 'blob'"));
  EXPECT_THAT(out.errors[0].message, HasSubstr("limits.max_value_bytes"));
  EXPECT_LT(out.errors[0].message.size(), 300u);
}

TEST(HostileInput, TenMegabyteGeometryIsAnErrorNotACrash) {
  std::string coords = "[";
  while (coords.size() < (10u << 20)) coords += "[1.0000001,2.0000001],";
  coords += "[1,2]]";
  const auto out = run(notification({entity(
      "E", "T", {time_instant(), attr("g", "geo:json", R"({"type":"LineString","coordinates":)" + coords + "}")})}));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("limits.max_value_bytes"));
}

TEST(HostileInput, PayloadOverTheMessageLimit) {
  const std::string big = json_string(std::string(17u << 20, 'A'));
  const auto out = run(notification({entity("E", "T", {time_instant(), attr("blob", "Text", big)})}));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("limits.max_message_bytes"));
}

TEST(HostileInput, TenThousandAttributes) {
  std::vector<std::string> attrs = {time_instant()};
  for (int i = 0; i < 10000; ++i) attrs.push_back(attr("attr_" + std::to_string(i), "Number", std::to_string(i)));
  const std::string payload = notification({entity("E", "T", attrs)});

  const auto limited = run(payload);  // default limit: 1595 (what PostgreSQL's 1,600 columns can take)
  ASSERT_EQ(limited.errors.size(), 1u);
  EXPECT_THAT(limited.errors[0].message, HasSubstr("10001 attributes, more than limits.max_attributes (1595)"));
  EXPECT_FALSE(limited.errors[0].candidate);

  transform_options o;
  o.lim.max_attributes = 20000;
  const auto out = run(payload, o);
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].columns.size(), 4u + 10001u);
  EXPECT_EQ(out.rows[0].find("attr_9999")->val, value::number("9999"));
}

TEST(HostileInput, TenThousandAttributesWithOneDuplicateAtTheEnd) {
  transform_options o;
  o.lim.max_attributes = 20000;
  std::vector<std::string> attrs = {time_instant()};
  for (int i = 0; i < 10000; ++i) attrs.push_back(attr("attr_" + std::to_string(i), "Number", "1"));
  attrs.push_back(attr("ATTR_0", "Number", "1"));
  const auto out = run(notification({entity("E", "T", attrs)}), o);
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("both map to column 'attr_0'"));
}

TEST(HostileInput, NestingTenThousandDeepIsAnErrorNotAStackOverflow) {
  const std::string deep_array = std::string(10000, '[') + std::string(10000, ']');
  const std::string deep_object = [] {
    std::string s;
    for (int i = 0; i < 10000; ++i) s += "{\"a\":";
    s += "1";
    s += std::string(10000, '}');
    return s;
  }();
  for (const auto& deep : {deep_array, deep_object}) {
    const auto out = run(notification({entity("E", "T", {time_instant(), attr("a", "json", deep)})}));
    EXPECT_TRUE(out.rows.empty());
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_THAT(out.errors[0].message, HasSubstr("deeper than limits.max_nesting_depth (64)"));
    const auto top = run(deep);
    ASSERT_EQ(top.errors.size(), 1u);
  }
}

TEST(HostileInput, NestingLimitCanBeRaisedFarWithoutCrashing) {
  transform_options o;
  o.lim.max_nesting_depth = 20000;
  const std::string deep = std::string(10000, '[') + std::string(10000, ']');
  const auto out = run(notification({entity("E", "T", {time_instant(), attr("a", "json", deep)})}), o);
  ASSERT_EQ(out.rows.size(), 1u) << (out.errors.empty() ? "" : out.errors[0].message);
  EXPECT_EQ(out.rows[0].find("a")->val.text, deep);
}

TEST(HostileInput, HugeNumbersAreKeptAsText) {
  const std::string digits(5000, '9');
  const auto out =
      run(notification({entity("E", "T",
                               {time_instant(), attr("big", "Number", digits), attr("exp", "Number", "1e999999999"),
                                attr("neg", "Number", "-" + digits + "." + digits + "E-99999")})}));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].find("big")->val, value::number(digits));
  EXPECT_EQ(out.rows[0].find("exp")->val, value::number("1e999999999"));
}

TEST(HostileInput, NulCharactersAreRejectedWhereverTheyWouldBeStored) {
  struct sample {
    std::string entity_json;
    const char* says;
  };
  for (const auto& s : std::vector<sample>{
           {entity("E", "T", {time_instant(), attr("a", "Text", R"("\u0000")")}), "NUL"},
           {entity("E", "T", {time_instant(), attr("a\\u0000b", "Text", R"("x")")}),
            "NUL character (\\u0000) in its name"},
           {entity("E\\u0000", "T", {time_instant()}), "NUL"},
           {entity("E", "T\\u0000", {time_instant()}), "NUL"},
           {entity("E", "T", {time_instant(), attr("a", "json", R"({"k\u0000":1})")}), "NUL"},
       }) {
    // The helpers escape backslashes, so put the escapes back for these samples.
    std::string json = s.entity_json;
    for (std::size_t p; (p = json.find("\\\\u0000")) != std::string::npos;) json.replace(p, 7, "\\u0000");
    const auto out = run(notification({json}));
    EXPECT_TRUE(out.rows.empty()) << json;
    ASSERT_EQ(out.errors.size(), 1u) << json;
    EXPECT_THAT(out.errors[0].message, HasSubstr(s.says)) << json;
  }
}

TEST(HostileInput, RawNulByteInThePayloadIsNotJson) {
  const std::string payload = std::string("{\"data\":[]}\0", 12);
  EXPECT_EQ(run(payload).errors.size(), 1u);
  const std::string inside = std::string("{\"data\":[\"a\0b\"]}", 16);
  EXPECT_EQ(run(inside).errors.size(), 1u);
}

TEST(HostileInput, ControlCharactersInNamesDoNotBreakMessagesOntoNewLines) {
  const auto out = run(notification({entity("line1\nline2\r\x01", "T", {attr("d", "DateTime", "\"bad\"")})}));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, Not(HasSubstr("\n")));
  EXPECT_THAT(out.errors[0].message, HasSubstr("line1\\nline2\\r\\x01"));
}

TEST(HostileInput, LongNamesAreQuotedShortInMessages) {
  const std::string long_id(100000, 'i');
  const std::string long_value = json_string(std::string(100000, 'v'));
  const auto out = run(notification({entity(long_id, "T", {attr("when", "DateTime", long_value)})}));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_LT(out.errors[0].message.size(), 400u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("\xE2\x80\xA6"));  // the ellipsis of a cut excerpt
}

TEST(HostileInput, ExcerptsCutOnUtf8Boundaries) {
  std::string id;
  for (int i = 0; i < 100; ++i) id += "\xE2\x82\xAC";  // €
  const auto out = run(notification({entity(id, "T", {})}));
  ASSERT_EQ(out.errors.size(), 1u);
  const std::string& m = out.errors[0].message;
  // Every multi-byte sequence in the message is complete.
  for (std::size_t i = 0; i < m.size();) {
    const auto c = static_cast<unsigned char>(m[i]);
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    ASSERT_LE(i + len, m.size());
    for (std::size_t k = 1; k < len; ++k) ASSERT_EQ(static_cast<unsigned char>(m[i + k]) & 0xC0, 0x80);
    i += len;
  }
}

TEST(HostileInput, ManyEntities) {
  std::vector<std::string> entities;
  entities.reserve(5000);
  for (int i = 0; i < 5000; ++i) entities.push_back(entity("E" + std::to_string(i), "T", {time_instant()}));
  const auto out = run(notification(entities));
  EXPECT_EQ(out.rows.size(), 5000u);
  EXPECT_EQ(out.entities, 5000u);
}

TEST(HostileInput, EveryByteValueInStringsRoundTrips) {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all += static_cast<char>(c);
  all += "\xC3\xA9\xE4\xBD\xA0\xF0\x9F\x8C\x8D";
  const auto out = run(notification({entity("E", "T", {time_instant(), attr("s", "Text", json_string(all))})}));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].find("s")->val.text, all);
}

TEST(HostileInput, HostileHeaders) {
  const header_list h = {{"fiware-service", std::string(100000, 'S')}, {"fiware-servicepath", std::string("/\0x", 3)}};
  const auto out = run(notification({entity("E", "T", {time_instant()})}), flow::historic, h);
  EXPECT_TRUE(out.rows.empty());
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_LT(out.errors[0].message.size(), 400u);
}

TEST(HostileInput, ServicepathHeaderThatCannotBeText) {
  for (const std::string& path : {std::string("/a\0b", 4), std::string("/caf\xE9"), std::string("/\xC0\xAF")}) {
    const auto out = run(notification({entity("E", "T", {time_instant()})}), flow::historic,
                         {{"fiware-service", "test"}, {"fiware-servicepath", path}});
    EXPECT_TRUE(out.rows.empty());
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_THAT(out.errors[0].message, HasSubstr("fiware-servicepath header"));
    EXPECT_THAT(out.errors[0].message, HasSubstr("\\x"));  // the bad byte, escaped
    EXPECT_EQ(out.errors[0].service, "test");
  }
}

TEST(HostileInput, MessagesAreValidUtf8WhateverTheHeaders) {
  auto headers = testing::orion_headers("svc\xFF\xFE", "/p");
  headers.emplace_back("fiware-datamodel", "dm-\xE2\x82");
  const auto out = run(notification({entity("E", "T", {time_instant()})}), flow::historic, headers);
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("'dm-\\xE2\\x82'"));
}

}  // namespace
}  // namespace kafnus::ngsi
