// Reading the record value: Orion notifications, the legacy envelope, and
// everything that is not one.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ngsi_test_support.hpp"

namespace kafnus::ngsi {
namespace {

using testing::entity;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::notification;
using testing::run;
using testing::time_instant;

std::string record_error(const std::string& payload) {
  const auto out = run(payload);
  EXPECT_TRUE(out.rows.empty());
  EXPECT_EQ(out.errors.size(), 1u);
  if (out.errors.empty()) return {};
  EXPECT_EQ(out.errors[0].service, "test");
  EXPECT_FALSE(out.errors[0].candidate);
  return out.errors[0].message;
}

TEST(Notification, OrionBody) {
  const auto out = run(notification({entity("Sensor1", "Sensor", {time_instant()})}));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_TRUE(out.errors.empty());
  EXPECT_EQ(out.entities, 1u);
}

TEST(Notification, LegacyEnvelopeWithTheNotificationAsAString) {
  const std::string inner = notification({entity("Sensor1", "Sensor", {time_instant()})});
  const std::string envelope =
      R"({"schema":{"type":"string","optional":false},"payload":)" + testing::json_string(inner) + "}";
  const auto out = run(envelope);
  ASSERT_EQ(out.rows.size(), 1u) << (out.errors.empty() ? "" : out.errors[0].message);
  EXPECT_EQ(out.rows[0].entity_id(), "Sensor1");
  EXPECT_EQ(out.rows[0].table(), (table_ref{"test", "simple_sensor"}));
}

TEST(Notification, LegacyEnvelopeKeepsExactNumbersOfTheInnerText) {
  const std::string inner =
      notification({entity("E", "T", {time_instant(), testing::attr("n", "Number", "9223372036854775807.50")})});
  const auto out = run(R"({"schema":{"type":"string"},"payload":)" + testing::json_string(inner) + "}");
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].find("n")->val, value::number("9223372036854775807.50"));
}

TEST(Notification, LegacyEnvelopeWithAnObjectPayload) {
  const std::string inner = notification({entity("Sensor1", "Sensor", {time_instant()})});
  const auto out = run(R"({"schema":{"type":"struct"},"payload":)" + inner + "}");
  ASSERT_EQ(out.rows.size(), 1u);
}

TEST(Notification, LegacyEnvelopeErrors) {
  EXPECT_THAT(record_error(R"({"schema":{},"payload":"{not json"})"),
              HasSubstr("legacy envelope's \"payload\" string is not valid JSON"));
  EXPECT_THAT(record_error(R"({"schema":{},"payload":"{\"foo\":1}"})"),
              HasSubstr("legacy envelope's \"payload\" has no \"data\" array"));
  EXPECT_THAT(record_error(R"({"schema":{},"payload":42})"), HasSubstr("is a number"));
  EXPECT_THAT(record_error(R"({"schema":{},"payload":"[1,2]"})"), HasSubstr("an array at the top level"));
}

TEST(Notification, EmptyDataGivesNothingAndNoError) {
  const auto out = run(R"({"subscriptionId":"x","data":[]})");
  EXPECT_TRUE(out.rows.empty());
  EXPECT_TRUE(out.errors.empty());
  EXPECT_EQ(out.entities, 0u);
}

TEST(Notification, MissingDataSaysWhatWasFound) {
  const auto e = record_error(R"({"subscriptionId":"x","entities":[]})");
  EXPECT_THAT(e, HasSubstr("no \"data\" array"));
  EXPECT_THAT(e, HasSubstr("'subscriptionId', 'entities'"));
  EXPECT_THAT(record_error("{}"), HasSubstr("found an empty object"));
  EXPECT_THAT(record_error(R"({"a":1,"b":2,"c":3,"d":4,"e":5})"), HasSubstr("and 2 more"));
}

TEST(Notification, DataOfTheWrongTypeSaysWhatWasFound) {
  EXPECT_THAT(record_error(R"({"data":{"id":"x"}})"), HasSubstr("\"data\" is an object, expected an array"));
  EXPECT_THAT(record_error(R"({"data":"x"})"), HasSubstr("\"data\" is a string"));
  EXPECT_THAT(record_error(R"({"data":null})"), HasSubstr("\"data\" is null"));
}

TEST(Notification, TopLevelMustBeAnObject) {
  EXPECT_THAT(record_error(R"([{"id":"x"}])"), HasSubstr("is an array at the top level, not an object"));
  EXPECT_THAT(record_error("42"), HasSubstr("a number at the top level"));
  EXPECT_THAT(record_error("\"text\""), HasSubstr("a string at the top level"));
  EXPECT_THAT(record_error("null"), HasSubstr("null at the top level"));
  EXPECT_THAT(record_error("true"), HasSubstr("a boolean at the top level"));
}

TEST(Notification, NotJson) {
  EXPECT_THAT(record_error("hello"), HasSubstr("not valid JSON"));
  EXPECT_THAT(record_error(R"({"data":[}])"), HasSubstr("not valid JSON"));
  EXPECT_THAT(record_error(R"({"data":[1,]})"), HasSubstr("not valid JSON"));
  EXPECT_THAT(record_error(R"({"data":[],})"), HasSubstr("not valid JSON"));
  EXPECT_THAT(record_error(R"({'data':[]})"), HasSubstr("not valid JSON"));
  EXPECT_THAT(record_error(R"({"data":[tru]})"), HasSubstr("not valid JSON"));
  EXPECT_THAT(record_error(R"({"data":[nul]})"), HasSubstr("not valid JSON"));
  EXPECT_THAT(record_error(R"({"data":[01]})"), HasSubstr("malformed number"));
  EXPECT_THAT(record_error(R"({"data":[1.]})"), HasSubstr("malformed number"));
  EXPECT_THAT(record_error(R"({"data":[-]})"), HasSubstr("malformed number"));
  EXPECT_THAT(record_error(R"({"data":[1e]})"), HasSubstr("malformed number"));
  EXPECT_THAT(record_error(R"({"data":[NaN]})"), HasSubstr("not valid JSON"));
  EXPECT_THAT(record_error(R"({"data":["\x"]})"), HasSubstr("not valid JSON"));
}

TEST(Notification, InvalidJsonInsideIgnoredPartsIsStillAnError) {
  // On Demand would skip unread values; every byte is validated here.
  EXPECT_THAT(record_error(R"({"subscriptionId":tru,"data":[]})"), HasSubstr("not valid JSON"));
  EXPECT_THAT(record_error(notification(
                  {entity("E", "T", {time_instant(), R"("a":{"type":"Text","value":"x","metadata":{"m":01}})"})})),
              HasSubstr("malformed number"));
}

TEST(Notification, TrailingContentIsAnError) {
  EXPECT_THAT(record_error(R"({"data":[]} {"data":[]})"), HasSubstr("not valid JSON"));
  EXPECT_THAT(record_error(R"({"data":[]}])"), HasSubstr("not valid JSON"));
  EXPECT_TRUE(run("  \n\t{\"data\":[]}\r\n  ").errors.empty());
}

TEST(Notification, TruncatedJson) {
  const std::string full = notification({entity("Sensor1", "Sensor", {time_instant()})});
  for (std::size_t n = 1; n < full.size(); ++n) {
    const auto out = run(full.substr(0, n));
    EXPECT_TRUE(out.rows.empty()) << n;
    ASSERT_EQ(out.errors.size(), 1u) << full.substr(0, n);
    EXPECT_THAT(out.errors[0].message, HasSubstr("not valid JSON")) << full.substr(0, n);
  }
}

TEST(Notification, EmptyPayload) {
  EXPECT_THAT(record_error(""), HasSubstr("the payload is empty"));
  EXPECT_THAT(record_error(" \n "), HasSubstr("the payload is empty"));
}

TEST(Notification, InvalidUtf8) {
  for (const std::string& bad : {std::string("{\"data\":[\"\xFF\"]}"), std::string("{\"data\":[\"\xC3\"]}"),
                                 std::string("{\"data\":[\"\xED\xA0\x80\"]}"),  // a UTF-16 surrogate
                                 std::string("{\"data\":[\"\xC0\xAF\"]}"),      // overlong '/'
                                 std::string("{\"d\xFF\":[]}")}) {
    EXPECT_THAT(record_error(bad), HasSubstr("not valid UTF-8"));
  }
}

TEST(Notification, UnescapedControlCharacterInAString) {
  EXPECT_THAT(record_error(std::string("{\"data\":[\"a\nb\"]}")), HasSubstr("not valid JSON"));
}

TEST(Notification, PayloadLargerThanTheLimit) {
  transform_options o;
  o.lim.max_message_bytes = 64;
  const std::string payload = notification({entity("Sensor1", "Sensor", {time_instant()})});
  ASSERT_GT(payload.size(), 64u);
  const auto out = run(payload, o);
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("more than limits.max_message_bytes (64)"));
  EXPECT_THAT(out.errors[0].message, HasSubstr(std::to_string(payload.size()) + " bytes"));
}

TEST(Notification, NestingBeyondTheLimit) {
  transform_options o;
  o.lim.max_nesting_depth = 6;
  // depth: notification 1, data 2, entity 3, attribute 4, value 5, inner 6.
  const auto ok = run(notification({entity("E", "T", {time_instant(), testing::attr("a", "json", "[[1]]")})}), o);
  EXPECT_TRUE(ok.errors.empty()) << ok.errors[0].message;
  const auto deep = run(notification({entity("E", "T", {time_instant(), testing::attr("a", "json", "[[[1]]]")})}), o);
  ASSERT_EQ(deep.errors.size(), 1u);
  EXPECT_THAT(deep.errors[0].message, HasSubstr("deeper than limits.max_nesting_depth (6)"));
}

TEST(Notification, RecordErrorsCarryTheServiceFromTheHeaders) {
  const auto out = run("not json", transform_options{}, testing::orion_headers("Tenant42", "/x"));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].service, "tenant42");
  const auto defaulted = run("not json", transform_options{}, header_list{});
  EXPECT_EQ(defaulted.errors[0].service, "default");
}

TEST(Notification, ErrorMessagesNeverQuoteMuchInput) {
  const std::string junk(100000, 'x');
  for (const std::string& p :
       {junk, "{\"" + junk + "\":1}", "{\"data\":\"" + junk + "\"}", "{\"payload\":\"" + junk + "\"}"}) {
    const auto out = run(p);
    ASSERT_EQ(out.errors.size(), 1u);
    EXPECT_LT(out.errors[0].message.size(), 400u) << out.errors[0].message.substr(0, 500);
    EXPECT_THAT(out.errors[0].message, Not(HasSubstr(std::string(201, 'x'))));
  }
}

TEST(Notification, UnknownDatamodelIsOneErrorForTheRecord) {
  auto headers = testing::orion_headers();
  headers.emplace_back("fiware-datamodel", "dm-by-nothing");
  const auto out = run(notification({entity("A", "T", {time_instant()}), entity("B", "T", {time_instant()})}),
                       transform_options{}, headers);
  EXPECT_TRUE(out.rows.empty());
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("'dm-by-nothing'"));
  EXPECT_EQ(out.errors[0].service, "test");
}

TEST(Notification, ParserStateIsReusedAcrossRecords) {
  // A huge record, then small ones: the thread-local buffers shrink back and
  // every record is parsed independently of the previous one.
  transform_options o;
  o.lim.max_message_bytes = 64u << 20;
  o.lim.max_value_bytes = 64u << 20;
  const std::string big = notification({entity(
      "Big", "T", {time_instant(), testing::attr("blob", "Text", testing::json_string(std::string(20u << 20, 'b')))})});
  EXPECT_EQ(run(big, o).rows.size(), 1u);
  for (int i = 0; i < 3; ++i) {
    const auto out = run(notification({entity("S" + std::to_string(i), "T", {time_instant()})}));
    ASSERT_EQ(out.rows.size(), 1u);
    EXPECT_EQ(out.rows[0].entity_id(), "S" + std::to_string(i));
  }
}

}  // namespace
}  // namespace kafnus::ngsi
