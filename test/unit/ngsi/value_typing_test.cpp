// NGSI attribute type + JSON value -> typed column value.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ngsi_test_support.hpp"

namespace kafnus::ngsi {
namespace {

using ::testing::HasSubstr;
using testing::type_one;

void expect_value(const testing::typed& t, value_kind kind, const std::string& text) {
  ASSERT_TRUE(t.ok) << t.error;
  EXPECT_EQ(t.val.kind, kind) << to_string(t.val.kind) << " " << t.val.text;
  EXPECT_EQ(t.val.text, text);
}

TEST(ValueTyping, NullIsNullWhateverTheType) {
  for (const char* type :
       {"Text", "Number", "DateTime", "geo:point", "geo:json", "json", "StructuredValue", "Boolean", "", "Relation"}) {
    const auto t = type_one(type, "null");
    ASSERT_TRUE(t.ok) << type << ": " << t.error;
    EXPECT_EQ(t.val.kind, value_kind::null) << type;
    EXPECT_EQ(t.val.text, "");
  }
}

TEST(ValueTyping, NumbersKeepTheirExactJsonText) {
  expect_value(type_one("Number", "25"), value_kind::number, "25");
  expect_value(type_one("Float", "25.0"), value_kind::number, "25.0");
  expect_value(type_one("Number", "4000.1234"), value_kind::number, "4000.1234");
  expect_value(type_one("Number", "1e-06"), value_kind::number, "1e-06");
  expect_value(type_one("Number", "-0.0"), value_kind::number, "-0.0");
  expect_value(type_one("Number", "6500000.0"), value_kind::number, "6500000.0");
  expect_value(type_one("Number", "3.4028235E+38"), value_kind::number, "3.4028235E+38");
}

TEST(ValueTyping, IntegersAroundTwoToTheFiftyThreeAndBeyondKeepEveryDigit) {
  for (const char* n : {"9007199254740991", "9007199254740992", "9007199254740993", "-9007199254740993",
                        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "9999999999999999999",
                        "123456789012345678901234567890123456789"}) {
    expect_value(type_one("Integer", n), value_kind::number, n);
  }
}

TEST(ValueTyping, HugeAndTinyExponentsAreKeptAsText) {
  expect_value(type_one("Number", "1e400"), value_kind::number, "1e400");
  expect_value(type_one("Number", "-1E-400"), value_kind::number, "-1E-400");
  expect_value(type_one("Number", "0.000000000000000000000000000001"), value_kind::number,
               "0.000000000000000000000000000001");
}

TEST(ValueTyping, NumberTypeWithStringValueStaysText) {
  expect_value(type_one("Number", "\"12\""), value_kind::text, "12");
}

TEST(ValueTyping, Booleans) {
  expect_value(type_one("Boolean", "true"), value_kind::boolean, "true");
  expect_value(type_one("Boolean", "false"), value_kind::boolean, "false");
  expect_value(type_one("Text", "true"), value_kind::boolean, "true");
}

TEST(ValueTyping, StringsAreDecodedText) {
  expect_value(type_one("Text", "\"hello world\""), value_kind::text, "hello world");
  expect_value(type_one("Text", "\"\""), value_kind::text, "");
  expect_value(type_one("Text", "\" \""), value_kind::text, " ");
  expect_value(type_one("TextUnrestricted", R"("line\nnext \"q\" \\ \/ \u00e9 \ud83d\udd25")"), value_kind::text,
               "line\nnext \"q\" \\ / \xC3\xA9 \xF0\x9F\x94\xA5");
  expect_value(type_one("Relation", "\"urn:ngsi-ld:Thing:1\""), value_kind::text, "urn:ngsi-ld:Thing:1");
}

TEST(ValueTyping, NoTypeAtAllUsesTheJsonValue) {
  const auto out = testing::run(testing::notification({testing::entity(
      "E1", "T", {testing::time_instant(), R"("a":{"value":5})", R"("b":{"type":null,"value":"x"})"})}));
  ASSERT_EQ(out.rows.size(), 1u) << (out.errors.empty() ? "" : out.errors[0].message);
  EXPECT_EQ(out.rows[0].find("a")->val, value::number("5"));
  EXPECT_EQ(out.rows[0].find("b")->val, value::text_value("x"));
}

TEST(ValueTyping, AttributeWithoutValueIsNull) {
  const auto out = testing::run(
      testing::notification({testing::entity("E1", "T", {testing::time_instant(), R"("a":{"type":"Text"})"})}));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].find("a")->val.kind, value_kind::null);
}

TEST(ValueTyping, ObjectsAndArraysBecomeCompactJson) {
  expect_value(type_one("StructuredValue", R"({ "a" : 1 , "b" : "two" })"), value_kind::json, R"({"a":1,"b":"two"})");
  expect_value(type_one("StructuredValue", R"([1, "two", false])"), value_kind::json, R"([1,"two",false])");
  expect_value(type_one("Text", R"({"a": 1, "b": 2})"), value_kind::json, R"({"a":1,"b":2})");
  expect_value(type_one("MultiRelation", R"(["Event:001", "Event:002"])"), value_kind::json,
               R"(["Event:001","Event:002"])");
  expect_value(type_one("StructuredValue", R"({"s": "keep  inner   spaces", "n": [ ]})"), value_kind::json,
               R"({"s":"keep  inner   spaces","n":[]})");
}

TEST(ValueTyping, JsonTypesWrapAnyValue) {
  for (const char* type : {"json", "jsonb", "JSON", "StructuredValue", "structuredvalue"}) {
    expect_value(type_one(type, "\"abc\""), value_kind::json, "\"abc\"");
    expect_value(type_one(type, "42"), value_kind::json, "42");
    expect_value(type_one(type, "true"), value_kind::json, "true");
    expect_value(type_one(type, R"({"duration": "20 days"})"), value_kind::json, R"({"duration":"20 days"})");
  }
}

TEST(ValueTyping, JsonKeepsEscapesAsSent) {
  expect_value(type_one("json", R"({"k":"a\"b\u00e9"})"), value_kind::json, R"({"k":"a\"b\u00e9"})");
}

TEST(ValueTyping, NumbersInsideJsonKeepTheirDigits) {
  expect_value(type_one("json", R"([9223372036854775807, 1e400, 0.1])"), value_kind::json,
               R"([9223372036854775807,1e400,0.1])");
}

TEST(ValueTyping, DateTimeAndIso8601BecomeUtcTimestamps) {
  for (const char* type : {"DateTime", "datetime", "ISO8601", "iso8601"}) {
    const auto t = type_one(type, "\"2025-01-01T00:00:00.5Z\"");
    ASSERT_TRUE(t.ok) << type << ": " << t.error;
    EXPECT_EQ(t.val.kind, value_kind::timestamp);
    EXPECT_EQ(t.val.text, "2025-01-01 00:00:00.500000+00");
    EXPECT_EQ(t.val.micros, 1735689600500000);
  }
  expect_value(type_one("DateTime", "\"2025-01-01T02:00:00+02:00\""), value_kind::timestamp,
               "2025-01-01 00:00:00.000000+00");
}

TEST(ValueTyping, UnparseableDateTimeNamesAttributeAndValue) {
  const auto t = type_one("DateTime", "\"2025-02-30T10:00:00Z\"", "when");
  ASSERT_FALSE(t.ok);
  EXPECT_THAT(t.error, HasSubstr("'when'"));
  EXPECT_THAT(t.error, HasSubstr("'2025-02-30T10:00:00Z'"));
  EXPECT_THAT(t.error, HasSubstr("day 30 does not exist"));
  EXPECT_THAT(t.error, HasSubstr("DateTime"));
}

TEST(ValueTyping, DateTimeWithNonStringValueFollowsTheJsonValue) {
  expect_value(type_one("DateTime", "1735689600"), value_kind::number, "1735689600");
}

TEST(ValueTyping, TextThatLooksLikeADateStaysText) {
  expect_value(type_one("Text", "\"2025-01-01T00:00:00Z\""), value_kind::text, "2025-01-01T00:00:00Z");
}

TEST(ValueTyping, NulInAStringIsAnError) {
  const auto t = type_one("Text", R"("a\u0000b")", "name");
  ASSERT_FALSE(t.ok);
  EXPECT_THAT(t.error, HasSubstr("'name'"));
  EXPECT_THAT(t.error, HasSubstr("NUL"));
}

TEST(ValueTyping, NulInsideJsonIsAnError) {
  EXPECT_FALSE(type_one("json", R"({"k":"\u0000"})").ok);
  EXPECT_FALSE(type_one("StructuredValue", R"({"\u0000":1})").ok);
  EXPECT_FALSE(type_one("StructuredValue", R"([[["x\u0000"]]])").ok);
}

TEST(ValueTyping, NulInMetadataIsIgnoredWithTheMetadata) {
  const auto out = testing::run(testing::notification({testing::entity(
      "E1", "T",
      {testing::time_instant(), R"("a":{"type":"Text","value":"ok","metadata":{"note":{"value":"\u0000"}}})"})}));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].find("a")->val, value::text_value("ok"));
}

TEST(ValueTyping, ValueLargerThanTheLimitIsAnError) {
  transform_options o;
  o.lim.max_value_bytes = 32;  // the value as sent: quotes and escapes count
  EXPECT_TRUE(type_one("Text", "\"" + std::string(30, 'x') + "\"", "attr", o).ok);
  const auto t = type_one("Text", "\"" + std::string(31, 'x') + "\"", "big", o);
  ASSERT_FALSE(t.ok);
  EXPECT_THAT(t.error, HasSubstr("'big'"));
  EXPECT_THAT(t.error, HasSubstr("33 bytes"));
  EXPECT_THAT(t.error, HasSubstr("limits.max_value_bytes (32)"));
  EXPECT_FALSE(type_one("json", "[" + std::string(40, '1') + "]", "attr", o).ok);
}

TEST(ValueTyping, MetadataIsIgnored) {
  const auto out = testing::run(testing::notification({testing::entity(
      "E1", "T",
      {testing::time_instant(),
       R"("t":{"type":"Number","value":21.5,"metadata":{"unitCode":{"type":"Text","value":"CEL"}}})"})}));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].find("t")->val, value::number("21.5"));
  EXPECT_FALSE(out.rows[0].find("unitcode").has_value());
  EXPECT_FALSE(out.rows[0].find("metadata").has_value());
}

TEST(ValueTyping, KindNames) {
  EXPECT_STREQ(to_string(value_kind::null), "null");
  EXPECT_STREQ(to_string(value_kind::boolean), "boolean");
  EXPECT_STREQ(to_string(value_kind::number), "number");
  EXPECT_STREQ(to_string(value_kind::text), "text");
  EXPECT_STREQ(to_string(value_kind::json), "json");
  EXPECT_STREQ(to_string(value_kind::timestamp), "timestamp");
  EXPECT_STREQ(to_string(value_kind::geometry), "geometry");
}

}  // namespace
}  // namespace kafnus::ngsi
