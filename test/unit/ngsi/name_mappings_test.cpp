// Cygnus name mappings: Cygnus's documented example and the cases of its own
// test suite (NGSINameMappingsInterceptorTest), each as Cygnus's code gives
// them; the rules of matching and replacing; what is refused when the rules
// are read; and the mappings through transform().

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "ngsi/name_mappings.hpp"
#include "ngsi_test_support.hpp"

namespace kafnus::ngsi {
namespace {

using testing::attr;
using testing::entity;
using ::testing::HasSubstr;
using testing::notification;
using testing::run;
using testing::time_instant;

name_mappings rules(const std::string& json) {
  name_mappings m;
  const auto problems = m.add_json(json);
  EXPECT_TRUE(problems.empty()) << problems.front();
  return m;
}

std::vector<std::string> problems_of(const std::string& json) {
  name_mappings m;
  auto problems = m.add_json(json);
  EXPECT_TRUE(problems.empty() || m.empty()) << "rules with problems must not be added";
  return problems;
}

// What the rules make of one entity of a record: service, servicepath, id, type.
struct mapped {
  std::string service, servicepath, id, type;
  const entity_rule* rule = nullptr;
};

mapped map_one(const name_mappings& m, const std::string& service, const std::string& servicepath,
               const std::string& id, const std::string& type) {
  mapped out{service, servicepath, id, type};
  const service_rule* s = m.match_service(service);
  if (!s) return out;
  if (auto ns = mapped_service(*s, service)) out.service = *ns;
  auto e = map_entity(*s, servicepath, id, type);
  if (e.servicepath) out.servicepath = *e.servicepath;
  if (e.id) out.id = *e.id;
  if (e.type) out.type = *e.type;
  out.rule = e.rule;
  return out;
}

// --------------------------------------------- Cygnus's documented example

// doc/cygnus-ngsi/flume_extensions_catalogue/ngsi_name_mappings_interceptor.md,
// "Example".
const char* const kDocExample = R"js({
   "serviceMappings": [
      {
         "originalService": "hotel1",
         "servicePathMappings": [
            {
               "originalServicePath": "/suites",
               "entityMappings": [
                  {
                     "originalEntityId": "suite.(\\d*)",
                     "originalEntityType": "room",
                     "newEntityId": "all_suites",
                     "newEntityType": "room",
                     "attributeMappings": []
                  }
               ]
            },
            {
               "originalServicePath": "/other",
               "entityMappings": [
                  {
                     "originalEntityId": "room.(\\d*)",
                     "originalEntityType": "room",
                     "newEntityId": "all_other",
                     "newEntityType": "room",
                     "attributeMappings": []
                  }
               ]
            }
         ]
      }
   ]
})js";

TEST(NameMappingsCygnusDoc, SuitesBecomeAllSuites) {
  const auto m = rules(kDocExample);
  const auto r = map_one(m, "hotel1", "/suites", "suite.12", "room");
  EXPECT_EQ(r.service, "hotel1");  // no newService: kept
  EXPECT_EQ(r.servicepath, "/suites");
  EXPECT_EQ(r.id, "all_suites");
  EXPECT_EQ(r.type, "room");
}

TEST(NameMappingsCygnusDoc, RoomsOfOtherBecomeAllOther) {
  const auto m = rules(kDocExample);
  EXPECT_EQ(map_one(m, "hotel1", "/other", "room.9", "room").id, "all_other");
  // The document's own event, "other.9", does not match its rule "room.(\d*)":
  // Cygnus's code leaves it as it is (the document's prose says all_other).
  EXPECT_EQ(map_one(m, "hotel1", "/other", "other.9", "room").id, "other.9");
}

TEST(NameMappingsCygnusDoc, OtherServicesAreUntouched) {
  const auto m = rules(kDocExample);
  // The document's events carry service "hotel", which "hotel1" does not match.
  EXPECT_EQ(m.match_service("hotel"), nullptr);
  EXPECT_EQ(map_one(m, "hotel", "/suites", "suite.12", "room").id, "suite.12");
}

TEST(NameMappingsCygnusDoc, TheTemplateOfTheDistributionIsValid) {
  // cygnus-ngsi/conf/name_mappings.conf.template, uncommented: every field
  // empty, so only empty names match and all become empty.
  const auto m = rules(R"js({"serviceMappings": [{"originalService": "", "newService": "", "servicePathMappings": [
      {"originalServicePath": "", "newServicePath": "", "entityMappings": [
        {"originalEntityId": "", "originalEntityType": "", "newEntityId": "", "newEntityType": "",
         "attributeMappings": [{"originalAttributeName": "", "originalAttributeType": "", "newAttributeName": "",
                                "newAttributeType": ""}]}]}]}]})js");
  EXPECT_EQ(m.match_service("hotel1"), nullptr);
  EXPECT_NE(m.match_service(""), nullptr);
}

// ------------------------------- Cygnus's NGSINameMappingsInterceptorTest

const char* const kCygnusTest = R"js({"serviceMappings": [{
  "originalService": ".*", "newService": "new_default",
  "servicePathMappings": [{
    "originalServicePath": "/.*", "newServicePath": "/new_any",
    "entityMappings": [{
      "originalEntityId": "Room(\\d*)", "originalEntityType": "Room",
      "newEntityId": "new_Room1", "newEntityType": "new_Room",
      "attributeMappings": [{
        "originalAttributeName": "temp(.*)", "originalAttributeType": "cent(.*)",
        "newAttributeName": "new_temperature", "newAttributeType": "new_centigrade"}]}]}]}]})js";

TEST(NameMappingsCygnusTests, DoMap) {
  const auto m = rules(kCygnusTest);
  const auto r = map_one(m, "default", "/any", "Room1", "Room");
  EXPECT_EQ(r.id, "new_Room1");
  EXPECT_EQ(r.type, "new_Room");
  EXPECT_EQ(r.servicepath, "/new_any");
  ASSERT_NE(r.rule, nullptr);
  std::string_view name = "temperature", type = "centigrade";
  EXPECT_TRUE(map_attribute(*r.rule, name, type));
  EXPECT_EQ(name, "new_temperature");
  EXPECT_EQ(type, "new_centigrade");
  // Java's "default".replaceAll(".*", "new_default"): ".*" matches the whole
  // name and then the empty end, so the replacement is written twice.
  // Cygnus's test does not check the service; this is what its code gives.
  EXPECT_EQ(r.service, "new_defaultnew_default");
}

TEST(NameMappingsCygnusTests, DoMapRegex) {
  const auto m = rules(R"js({"serviceMappings": [{"originalService": ".*", "servicePathMappings": [{
      "originalServicePath": "/.*", "entityMappings": [{
        "originalEntityId": "(Room)([0-9]*)", "originalEntityType": "Room", "newEntityId": "new_Room$2",
        "newEntityType": "new_Room"}]}]}]})js");
  EXPECT_EQ(map_one(m, "default", "/any", "Room1", "Room").id, "new_Room1");
  EXPECT_EQ(map_one(m, "default", "/any", "Room42", "Room").id, "new_Room42");
}

// Three servicepath rules for one servicepath, told apart by entity type.
const char* const kCygnusConfig = R"js({"serviceMappings": [{
  "originalService": "service", "newService": "service_new",
  "servicePathMappings": [
    {"originalServicePath": "%s", "newServicePath": "%s", "entityMappings": [
      {"originalEntityId": ".*", "originalEntityType": "House", "newEntityId": ".*", "newEntityType": "House",
       "attributeMappings": []}]},
    {"originalServicePath": "/servicePath", "newServicePath": "/servicePath_Room", "entityMappings": [
      {"originalEntityId": ".*", "originalEntityType": "RoomT", "newEntityId": ".*", "newEntityType": "RoomNew",
       "attributeMappings": []}]},
    {"originalServicePath": "/servicePath", "newServicePath": "/servicePath_Room2", "entityMappings": [
      {"originalEntityId": ".*", "originalEntityType": "Room", "newEntityId": ".*", "newEntityType": "RoomNew2",
       "attributeMappings": []}]}]}]})js";

std::string cygnus_config(const std::string& first_path, const std::string& first_new) {
  std::string json = kCygnusConfig;
  json.replace(json.find("%s"), 2, first_path);
  json.replace(json.find("%s"), 2, first_new);
  return json;
}

TEST(NameMappingsCygnusTests, DoMapConfigPicksTheServicepathRuleByEntityType) {
  const auto m = rules(cygnus_config("/servicePath", "/servicePath_House"));
  const auto r = map_one(m, "service", "/servicePath", "Room1", "RoomT");
  EXPECT_EQ(r.servicepath, "/servicePath_Room");
  EXPECT_EQ(r.type, "RoomNew");
  EXPECT_EQ(r.service, "service_new");
  // newEntityId ".*" is a replacement, not a pattern: Java writes it for the
  // whole id and again for the empty end (Cygnus's test leaves the id unchecked).
  EXPECT_EQ(r.id, ".*.*");
}

TEST(NameMappingsCygnusTests, DoMapConfig2AbsentNewServicePathKeepsIt) {
  std::string json = cygnus_config("/servicePath", "");
  json.replace(json.find(R"js("newServicePath": "",)js"), std::string(R"js("newServicePath": "",)js").size(), "");
  const auto m = rules(json);
  const auto r = map_one(m, "service", "/servicePath", "House1", "House");
  EXPECT_EQ(r.servicepath, "/servicePath");
  EXPECT_EQ(r.type, "House");
}

TEST(NameMappingsCygnusTests, DoMapConfig3GroupsInTheNewServicePath) {
  const auto m = rules(cygnus_config("/(.+)", "/$1"));
  const auto r = map_one(m, "service", "/servicePath", "House1", "House");
  EXPECT_EQ(r.servicepath, "/servicePath");
  EXPECT_EQ(map_one(m, "service", "/elsewhere", "House1", "House").servicepath, "/elsewhere");
}

TEST(NameMappingsCygnusTests, DoMapConfig4OriginalFieldsCanBeOmitted) {
  const auto m = rules(R"js({"serviceMappings": [{"newService": "service_new", "servicePathMappings": [{
      "entityMappings": [{"newEntityId": "$1_new", "newEntityType": "House", "attributeMappings": []}]}]}]})js");
  const auto r = map_one(m, "service", "/servicePath", "House1", "House");
  EXPECT_EQ(r.service, "service_new");
  EXPECT_EQ(r.servicepath, "/servicePath");
  EXPECT_EQ(r.id, "House1_new");
  EXPECT_EQ(r.type, "House");
}

// ------------------------------------------------------- matching rules

TEST(NameMappings, PatternsMatchTheWholeName) {
  const auto m = rules(R"js({"serviceMappings": [{"originalService": "hotel\\d", "newService": "h"}]})js");
  EXPECT_NE(m.match_service("hotel1"), nullptr);
  EXPECT_EQ(m.match_service("hotel12"), nullptr);
  EXPECT_EQ(m.match_service("myhotel1"), nullptr);
  // A literal pattern is compared as text, case included.
  const auto lit = rules(R"js({"serviceMappings": [{"originalService": "hotel", "newService": "h"}]})js");
  EXPECT_NE(lit.match_service("hotel"), nullptr);
  EXPECT_EQ(lit.match_service("Hotel"), nullptr);
  EXPECT_EQ(lit.match_service("hotels"), nullptr);
}

TEST(NameMappings, TheFirstMatchingRuleWinsAtEveryLevel) {
  const auto m = rules(R"js({"serviceMappings": [
      {"originalService": "a.*", "newService": "first", "servicePathMappings": [
        {"originalServicePath": "/x", "newServicePath": "/x1", "entityMappings": [
          {"originalEntityId": "E.*", "newEntityId": "e1", "attributeMappings": [
            {"originalAttributeName": "t.*", "newAttributeName": "first"},
            {"originalAttributeName": "temp", "newAttributeName": "second"}]},
          {"originalEntityId": "E1", "newEntityId": "e2"}]},
        {"originalServicePath": "/x", "newServicePath": "/x2", "entityMappings": [{}]}]},
      {"originalService": "abc", "newService": "second"}]})js");
  const auto r = map_one(m, "abc", "/x", "E1", "T");
  EXPECT_EQ(r.service, "first");
  EXPECT_EQ(r.servicepath, "/x1");
  EXPECT_EQ(r.id, "e1");
  ASSERT_NE(r.rule, nullptr);
  std::string_view name = "temp", type = "Number";
  EXPECT_TRUE(map_attribute(*r.rule, name, type));
  EXPECT_EQ(name, "first");
  EXPECT_EQ(type, "Number");  // no newAttributeType: kept
}

TEST(NameMappings, AServicepathRuleIsChosenThroughItsEntityTypes) {
  // Cygnus keeps searching servicepath rules until one has an entity rule
  // whose type matches; its id is checked only afterwards.
  const auto m = rules(R"js({"serviceMappings": [{"servicePathMappings": [
      {"originalServicePath": "/p", "newServicePath": "/rooms", "entityMappings": [
        {"originalEntityType": "Room", "originalEntityId": "R1", "newEntityId": "room1"}]},
      {"originalServicePath": "/p", "newServicePath": "/others", "entityMappings": [{}]}]}]})js");
  EXPECT_EQ(map_one(m, "s", "/p", "R1", "Room").servicepath, "/rooms");
  EXPECT_EQ(map_one(m, "s", "/p", "R1", "Room").id, "room1");
  // The type picks the first rule; the id matches none of its entity rules:
  // the servicepath is renamed, the entity is not.
  const auto r = map_one(m, "s", "/p", "R2", "Room");
  EXPECT_EQ(r.servicepath, "/rooms");
  EXPECT_EQ(r.id, "R2");
  EXPECT_EQ(r.rule, nullptr);
  EXPECT_EQ(map_one(m, "s", "/p", "X", "Car").servicepath, "/others");
}

TEST(NameMappings, AServicepathRuleWithoutEntityRulesNeverApplies) {
  name_mappings m;
  ASSERT_TRUE(m.add_json(R"js({"serviceMappings": [{"newService": "n", "servicePathMappings": [
      {"originalServicePath": "/p", "newServicePath": "/q"}]}]})js")
                  .empty());
  ASSERT_EQ(m.warnings().size(), 1u);
  EXPECT_THAT(m.warnings()[0], HasSubstr("serviceMappings[0].servicePathMappings[0]: has no entityMappings"));
  const auto r = map_one(m, "s", "/p", "E", "T");
  EXPECT_EQ(r.service, "n");  // the service rule still applies
  EXPECT_EQ(r.servicepath, "/p");
}

TEST(NameMappings, AbsentNewFieldsKeepTheOriginalNames) {
  const auto m = rules(R"js({"serviceMappings": [{"originalService": "s", "servicePathMappings": [{
      "entityMappings": [{"originalEntityType": "T", "attributeMappings": [{"originalAttributeName": "a"}]}]}]}]})js");
  const auto r = map_one(m, "s", "/p", "E", "T");
  EXPECT_EQ(r.service, "s");
  EXPECT_EQ(r.servicepath, "/p");
  EXPECT_EQ(r.id, "E");
  EXPECT_EQ(r.type, "T");
  ASSERT_NE(r.rule, nullptr);
  std::string_view name = "a", type = "Number";
  EXPECT_TRUE(map_attribute(*r.rule, name, type));  // matched, nothing renamed
  EXPECT_EQ(name, "a");
  EXPECT_EQ(type, "Number");
  name = "b";
  EXPECT_FALSE(map_attribute(*r.rule, name, type));
}

TEST(NameMappings, AttributesMatchOnNameAndType) {
  const auto m = rules(R"js({"serviceMappings": [{"servicePathMappings": [{"entityMappings": [{
      "attributeMappings": [{"originalAttributeName": "t", "originalAttributeType": "Text", "newAttributeType": "geo:point"},
                            {"originalAttributeName": "t", "newAttributeName": "other"}]}]}]}]})js");
  const auto r = map_one(m, "s", "/", "E", "T");
  ASSERT_NE(r.rule, nullptr);
  std::string_view name = "t", type = "Text";
  EXPECT_TRUE(map_attribute(*r.rule, name, type));
  EXPECT_EQ(name, "t");
  EXPECT_EQ(type, "geo:point");
  name = "t";
  type = "Number";
  EXPECT_TRUE(map_attribute(*r.rule, name, type));
  EXPECT_EQ(name, "other");
  EXPECT_EQ(type, "Number");
}

TEST(NameMappings, OnlyServiceServicepathAndIdAreReplacements) {
  // newEntityType, newAttributeName and newAttributeType are used as written.
  const auto m = rules(R"js({"serviceMappings": [{"originalService": "(s)", "newService": "$1_x",
      "servicePathMappings": [{"originalServicePath": "/(p)", "newServicePath": "/$1_y", "entityMappings": [{
        "originalEntityId": "(E)", "originalEntityType": "(T)", "newEntityId": "$1_z", "newEntityType": "$1_t",
        "attributeMappings": [{"originalAttributeName": "(a)", "newAttributeName": "$1_n"}]}]}]}]
})js");
  const auto r = map_one(m, "s", "/p", "E", "T");
  EXPECT_EQ(r.service, "s_x");
  EXPECT_EQ(r.servicepath, "/p_y");
  EXPECT_EQ(r.id, "E_z");
  EXPECT_EQ(r.type, "$1_t");
  std::string_view name = "a", type;
  ASSERT_TRUE(map_attribute(*r.rule, name, type));
  EXPECT_EQ(name, "$1_n");
}

TEST(NameMappings, ReplacementsFollowJava) {
  auto id_of = [](const std::string& original, const std::string& replacement, const std::string& id) {
    const auto m = rules(
        R"js({"serviceMappings": [{"servicePathMappings": [{"entityMappings": [{"originalEntityId": )js" +
        testing::json_string(original) + R"js(, "newEntityId": )js" + testing::json_string(replacement) + "}]}]}]}");
    return map_one(m, "s", "/", id, "T").id;
  };
  EXPECT_EQ(id_of("suite.(\\d*)", "suite_$1", "suite.12"), "suite_12");
  EXPECT_EQ(id_of("(a)(b)?", "[$2]", "a"), "[]");      // a group that did not take part: nothing
  EXPECT_EQ(id_of("(a)", "$12", "a"), "a2");           // group 1, then "2": there is no group 12
  EXPECT_EQ(id_of("(a)", "\\$1 \\\\", "a"), "$1 \\");  // \ escapes
  EXPECT_EQ(id_of("(x)(x)(x)(x)(x)(x)(x)(x)(x)(y)", "$10", "xxxxxxxxxy"), "y");  // group 10 exists
  EXPECT_EQ(id_of("a|ab", "X", "ab"), "Xb");           // matches() the whole, replaceAll each find()
  EXPECT_EQ(id_of("^(.*)", "<$1>", "abc"), "<abc>");   // anchored: one match
  EXPECT_EQ(id_of("(.*)", "<$1>", "abc"), "<abc><>");  // unanchored: the empty end too
  EXPECT_EQ(id_of("a*", "-", "aaa"), "--");
  EXPECT_EQ(id_of("x?", "-", ""), "-");
}

TEST(NameMappings, NonAsciiNamesAreMatchedByCodePoint) {
  auto id_of = [](const std::string& original, const std::string& replacement, const std::string& id) {
    const auto m = rules(
        R"js({"serviceMappings": [{"servicePathMappings": [{"entityMappings": [{"originalEntityId": )js" +
        testing::json_string(original) + R"js(, "newEntityId": )js" + testing::json_string(replacement) + "}]}]}]}");
    return map_one(m, "s", "/", id, "T").id;
  };
  // Java's "." is one character, however many bytes UTF-8 gives it.
  EXPECT_EQ(id_of("habitaci.n(\\d)", "room$1", "habitación1"), "room1");
  EXPECT_EQ(id_of("[áé]x", "y", "éx"), "y");
  EXPECT_EQ(id_of("é?(.*)", "$1", "ab"), "ab");
  EXPECT_EQ(id_of("(.)(.*)", "$2$1", "ñu"), "uñ");
  EXPECT_EQ(id_of("^(.*)", "<$1>", "€uro"), "<€uro>");
  // Java's \w is ASCII.
  EXPECT_EQ(id_of("\\w+", "w", "é"), "é");
}

TEST(NameMappings, AnAbsentOriginalIsJavasCaretDotStar) {
  // "^(.*)": "." stops at line terminators, so such a name does not match.
  const auto m = rules(R"js({"serviceMappings": [{"newService": "n"}]})js");
  EXPECT_NE(m.match_service("any thing"), nullptr);
  EXPECT_NE(m.match_service(""), nullptr);
  EXPECT_EQ(m.match_service("two\nlines"), nullptr);
  EXPECT_EQ(m.match_service("line\xE2\x80\xA8separator"), nullptr);
}

TEST(NameMappings, OverlongNamesNeverMatchARegularExpression) {
  const std::string long_name(kMaxRegexInput + 1, 'a');
  const auto regex = rules(R"js({"serviceMappings": [{"originalService": "a+"}]})js");
  EXPECT_NE(regex.match_service("aaa"), nullptr);
  EXPECT_EQ(regex.match_service(long_name), nullptr);
  const auto literal =
      rules(R"js({"serviceMappings": [{"originalService": )js" + testing::json_string(long_name) + "}]}");
  EXPECT_NE(literal.match_service(long_name), nullptr);
}

TEST(NameMappings, LaterDocumentsComeAfter) {
  name_mappings m;
  ASSERT_TRUE(m.add_json(R"js({"serviceMappings": [{"originalService": "s", "newService": "inline"}]})js").empty());
  ASSERT_TRUE(m.add_json(R"js({"serviceMappings": [{"originalService": ".*", "newService": "file"}]})js").empty());
  EXPECT_EQ(map_one(m, "s", "/", "E", "T").service, "inline");
  EXPECT_EQ(map_one(m, "t", "/", "E", "T").service, "filefile");
}

TEST(NameMappings, NullAndEmptyListsAreNoRules) {
  EXPECT_TRUE(rules("{}").empty());
  EXPECT_TRUE(rules(R"js({"serviceMappings": null})js").empty());
  EXPECT_TRUE(rules(R"js({"serviceMappings": []})js").empty());
  const auto m = rules(R"js({"serviceMappings": [{"originalService": null, "servicePathMappings": null}]})js");
  EXPECT_NE(m.match_service("x"), nullptr);
}

// ------------------------------------------------------------ validation

TEST(NameMappingsValidation, ABadRegularExpressionNamesItsRule) {
  const auto p = problems_of(R"js({"serviceMappings": [{"originalService": "s", "servicePathMappings": [
      {"originalServicePath": "/a", "entityMappings": [{}]}, {"originalServicePath": "(", "entityMappings": [{}]}]}]})js");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], HasSubstr("serviceMappings[0].servicePathMappings[1].originalServicePath: invalid regular "
                              "expression '('"));
}

TEST(NameMappingsValidation, UnknownKeysAreRefused) {
  auto p = problems_of(R"js({"serviceMappings": [{"originalService": "s", "newServise": "x"}]})js");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], HasSubstr("serviceMappings[0]: unknown key 'newServise'; allowed: originalService, newService, "
                              "servicePathMappings"));
  p = problems_of(R"js({"serviceMapping": []})js");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], HasSubstr("unknown key 'serviceMapping'; allowed: serviceMappings"));
  p = problems_of(R"js({"serviceMappings": [{"servicePathMappings": [{"entityMappings": [{"attributeMappings": [
      {"originalAttributeName": "a", "newAttributeNam": "b"}]}]}]}]})js");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], HasSubstr("serviceMappings[0].servicePathMappings[0].entityMappings[0].attributeMappings[0]: "
                              "unknown key 'newAttributeNam'"));
}

TEST(NameMappingsValidation, WrongTypesAreRefused) {
  auto p = problems_of(R"js({"serviceMappings": [{"originalService": 5}]})js");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], HasSubstr("serviceMappings[0].originalService: expected a string, got a number"));
  p = problems_of(R"js({"serviceMappings": {"originalService": "s"}})js");
  EXPECT_THAT(p.at(0), HasSubstr("serviceMappings: expected a list of service mappings, got an object"));
  p = problems_of(R"js({"serviceMappings": ["s"]})js");
  EXPECT_THAT(p.at(0), HasSubstr("serviceMappings[0]: expected an object, got a string"));
  p = problems_of(R"js({"serviceMappings": [{"newService": "a\u0000b"}]})js");
  EXPECT_THAT(p.at(0), HasSubstr("serviceMappings[0].newService: holds a NUL character"));
}

TEST(NameMappingsValidation, RepeatedKeysAreRefused) {
  const auto p = problems_of(R"js({"serviceMappings": [{"newService": "a", "newService": "b"}]})js");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_THAT(p[0], HasSubstr("serviceMappings[0]: key 'newService' is given twice"));
}

TEST(NameMappingsValidation, EveryProblemIsReported) {
  const auto p =
      problems_of(R"js({"serviceMappings": [{"originalService": "("}, {"originalService": "[", "x": 1}]})js");
  EXPECT_EQ(p.size(), 3u);
}

TEST(NameMappingsValidation, InvalidJsonIsRefused) {
  EXPECT_THAT(problems_of("{\"serviceMappings\": [").at(0), HasSubstr("not a JSON object"));
  EXPECT_THAT(problems_of("[]").at(0), HasSubstr("not a JSON object"));
}

TEST(NameMappingsValidation, ReplacementsJavaWouldRefuseAreRefused) {
  auto problem = [](const std::string& original, const std::string& replacement) {
    const auto p = problems_of(R"js({"serviceMappings": [{"originalService": )js" + testing::json_string(original) +
                               R"js(, "newService": )js" + testing::json_string(replacement) + "}]}");
    return p.empty() ? std::string("accepted") : p[0];
  };
  EXPECT_THAT(problem("(a)", "$2"), HasSubstr("serviceMappings[0].newService: '$2' refers to group 2, but its "
                                              "pattern has 1 group(s)"));
  EXPECT_THAT(problem("a", "$1"), HasSubstr("refers to group 1"));
  EXPECT_THAT(problem("a", "x$"), HasSubstr("lone $"));
  EXPECT_THAT(problem("a", "$x"), HasSubstr("not followed by a group number"));
  EXPECT_THAT(problem("a", "x\\"), HasSubstr("lone \\"));
  EXPECT_THAT(problem("(?<n>a)", "${n}"), HasSubstr("originalService"));
  EXPECT_THAT(problem("(a)", "${n}"), HasSubstr("named group"));
  EXPECT_EQ(problem("(a)", "$1$0\\$"), "accepted");
}

TEST(NameMappingsValidation, JavaSyntaxThatEcmaScriptReadsOtherwiseIsRefused) {
  auto problem = [](const std::string& original) {
    const auto p =
        problems_of(R"js({"serviceMappings": [{"originalService": )js" + testing::json_string(original) + "}]}");
    return p.empty() ? std::string("accepted") : p[0];
  };
  for (const char* java :
       {"a*+",    "a++",     "a?+",    "a{2}+",       "(?<name>a)", "(?<=a)b",     "(?<!a)b", "(?>a)", "(?i)a",
        "\\Aa",   "a\\z",    "a\\Z",   "\\p{L}",      "\\P{L}",     "\\Qa.b\\E",   "\\h",     "\\R",   "\\v",
        "\\0101", "\\x{41}", "\\k<n>", "[a-z&&[^e]]", "[a[b]]",     "[[:alpha:]]", "(a)\\11", "[]a]",  "[^]a]"}) {
    EXPECT_THAT(problem(java), HasSubstr("serviceMappings[0].originalService")) << java;
  }
  for (const char* both : {"a*?", "(?:a)", "(?=a)a", "(?!b)a", "\\d\\w\\s\\D\\W\\S", "\\bx\\B", "[\\]a]", "[^\\]a]",
                           "\\.\\*\\(\\)", "\\u0041", "\\x41", "(a)\\1", "a{2,3}", "\\t\\n"}) {
    EXPECT_EQ(problem(both), "accepted") << both;
  }
}

// ------------------------------------------------------ through transform

transform_options with_rules(const std::string& json, flow f = flow::historic) {
  auto m = std::make_shared<name_mappings>();
  const auto problems = m->add_json(json);
  EXPECT_TRUE(problems.empty()) << problems.front();
  transform_options o;
  o.f = f;
  o.mappings = std::move(m);
  return o;
}

const char* const kHotel = R"js({"serviceMappings": [{"originalService": "Hotel1", "newService": "Hotels",
  "servicePathMappings": [{"originalServicePath": "/Suites", "newServicePath": "/Rooms", "entityMappings": [
    {"originalEntityId": "suite.(\\d*)",
                  "originalEntityType" : "room",
                  "newEntityId" : "suite_$1",
                  "newEntityType" : "Room",
                  "attributeMappings" : [
                    {
                      "originalAttributeName" : "temp",
                      "originalAttributeType" : "centigrade",
                      "newAttributeName" : "temperature",
                      "newAttributeType" : "Number"
                    },
                    {"originalAttributeName" : "where", "newAttributeType" : "geo:point"},
                    {"originalAttributeName" : "bad", "newAttributeName" : "entityId"}
                  ]
}]
}]
}]
})js";

TEST(NameMappingsTransform, EveryNameIsMappedBeforeTheTableIsNamed) {
  const auto out = run(notification({entity("suite.12", "room",
                                            {time_instant(), attr("temp", "centigrade", "21.5"),
                                             attr("where", "Text", "\"40.4,-3.7\""), attr("other", "Text", "\"o\"")})}),
                       with_rules(kHotel), testing::orion_headers("Hotel1", "/Suites"));
  ASSERT_EQ(out.errors.size(), 0u) << out.errors[0].message;
  ASSERT_EQ(out.rows.size(), 1u);
  const row& r = out.rows[0];
  EXPECT_EQ(r.service(), "hotels");
  EXPECT_EQ(r.table().schema, "hotels");
  EXPECT_EQ(r.table().table, "rooms_room");
  EXPECT_EQ(r.entity_id(), "suite_12");
  EXPECT_EQ(r.find(kEntityId)->val, value::text_value("suite_12"));
  EXPECT_EQ(r.find(kEntityType)->val, value::text_value("Room"));
  EXPECT_EQ(r.find(kServicePath)->val, value::text_value("/rooms"));
  EXPECT_EQ(r.find("temperature")->val, value::number("21.5"));
  EXPECT_FALSE(r.find("temp").has_value());
  // Typed by its mapped type: a geometry, not text.
  EXPECT_EQ(r.find("where")->val.kind, value_kind::geometry);
  EXPECT_EQ(r.find("other")->val, value::text_value("o"));
}

TEST(NameMappingsTransform, RulesMatchTheHeadersAsSent) {
  // Kafnus lower-cases the service and servicepath it stores; rules see them as Orion sent them.
  const auto out = run(notification({entity("suite.1", "room", {time_instant()})}), with_rules(kHotel),
                       testing::orion_headers("hotel1", "/Suites"));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].table().schema, "hotel1");
  EXPECT_EQ(out.rows[0].entity_id(), "suite.1");
}

TEST(NameMappingsTransform, ErrorsGoToTheMappedServicesErrorLog) {
  const auto o = with_rules(kHotel);
  const auto headers = testing::orion_headers("Hotel1", "/Suites");
  auto out = run("not json", o, headers);
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].service, "hotels");
  // An attribute renamed onto a column Kafnus fills.
  out = run(notification({entity("suite.1", "room", {time_instant(), attr("bad", "Text", "\"x\"")})}), o, headers);
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].service, "hotels");
  EXPECT_THAT(out.errors[0].message, HasSubstr("collides with column 'entityid'"));
  ASSERT_TRUE(out.errors[0].candidate);
  EXPECT_EQ(out.errors[0].candidate->table().table, "rooms_room");
}

TEST(NameMappingsTransform, TheMappedServicePicksItsDatamodel) {
  auto o = with_rules(R"js({"serviceMappings": [{"originalService": "old", "newService": "new", "servicePathMappings": [
      {"entityMappings": [{}]}]}]})js");
  o.datamodels.per_service["new"] = datamodel::by_fixed_entity_type_database_schema;
  const auto out = run(notification({entity("E1", "Thing", {time_instant()})}), o, testing::orion_headers("old", "/p"));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].table().schema, "p");
  EXPECT_EQ(out.rows[0].table().table, "thing");
}

TEST(NameMappingsTransform, AnEmptyMappedIdIsAnError) {
  const auto out = run(notification({entity("E1", "Thing", {time_instant()})}),
                       with_rules(R"js({"serviceMappings": [{"servicePathMappings": [{"entityMappings": [
                           {"newEntityId": ""}]}]}]})js"));
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_THAT(out.errors[0].message, HasSubstr("the name mappings give it an empty id"));
}

TEST(NameMappingsTransform, DeletesUseTheMappedId) {
  const auto out = run(notification({R"js({"id": "suite.3", "type": "room", "alterationType": "entityDelete"})js"}),
                       with_rules(kHotel, flow::lastdata), testing::orion_headers("Hotel1", "/Suites"));
  ASSERT_EQ(out.rows.size(), 1u);
  EXPECT_EQ(out.rows[0].op, operation::remove);
  EXPECT_EQ(out.rows[0].entity_id(), "suite_3");
  EXPECT_EQ(out.rows[0].table().table, "rooms_room_lastdata");
}

TEST(NameMappingsTransform, RecordsOfOtherServicesAreUntouched) {
  const auto plain = run(notification({entity("suite.12", "room", {time_instant(), attr("temp", "centigrade", "1")})}),
                         transform_options{}, testing::orion_headers("other", "/Suites"));
  const auto mapped = run(notification({entity("suite.12", "room", {time_instant(), attr("temp", "centigrade", "1")})}),
                          with_rules(kHotel), testing::orion_headers("other", "/Suites"));
  ASSERT_EQ(plain.rows.size(), 1u);
  ASSERT_EQ(mapped.rows.size(), 1u);
  EXPECT_EQ(plain.rows[0].table(), mapped.rows[0].table());
  EXPECT_EQ(plain.rows[0].columns.size(), mapped.rows[0].columns.size());
  for (std::size_t i = 1; i < plain.rows[0].columns.size(); ++i) {
    EXPECT_EQ(plain.rows[0].columns[i].name, mapped.rows[0].columns[i].name);
  }
}

}  // namespace
}  // namespace kafnus::ngsi
