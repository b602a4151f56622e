// parse_json_object held to simdjson's DOM parser (a conforming RFC 8259
// parser) as an oracle: on handwritten edge cases and on thousands of
// mutations of real notifications, both accept the same documents, and for
// every accepted one the trees agree value by value (types, keys, decoded
// strings, numbers, booleans, member and element counts).

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <simdjson.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "ngsi/json_tree.hpp"

namespace kafnus::ngsi {
namespace {

constexpr int kDepth = 500;  // below the oracle's own limit (1024)

// Whether the oracle accepts the document as an object. `unconvertible`:
// it refused a number it could not convert (beyond 64 bits, or beyond a
// double's range) or a malformed one; Kafnus keeps a number's text, so it
// accepts the former.
bool oracle_accepts(simdjson::dom::parser& p, const std::string& doc, simdjson::dom::element& root,
                    bool& unconvertible) {
  const simdjson::padded_string padded(doc);
  const auto e = p.parse(padded).get(root);
  unconvertible = e == simdjson::NUMBER_OUT_OF_RANGE || e == simdjson::NUMBER_ERROR;
  if (e != simdjson::SUCCESS) return false;
  return root.type() == simdjson::dom::element_type::OBJECT;
}

// The value of `i` against the oracle's, recursively; "" when they agree.
std::string compare(const json_tree& t, std::uint32_t i, simdjson::dom::element e, const std::string& at) {
  const json_node& n = t.at(i);
  using et = simdjson::dom::element_type;
  switch (e.type()) {
    case et::OBJECT: {
      if (n.type != json_type::object) return at + ": not an object";
      auto obj = e.get_object().value();
      if (n.count != obj.size()) return at + ": member count";
      std::uint32_t c = json_tree::first_child(i);
      for (auto field : obj) {
        if (t.at(c).key != field.key) return at + ": key " + std::string(field.key);
        auto d = compare(t, c, field.value, at + "." + std::string(field.key));
        if (!d.empty()) return d;
        c = t.at(c).next;
      }
      return c == n.next ? "" : at + ": next";
    }
    case et::ARRAY: {
      if (n.type != json_type::array) return at + ": not an array";
      auto arr = e.get_array().value();
      if (n.count != arr.size()) return at + ": element count";
      std::uint32_t c = json_tree::first_child(i);
      int k = 0;
      for (auto v : arr) {
        auto d = compare(t, c, v, at + "[" + std::to_string(k++) + "]");
        if (!d.empty()) return d;
        c = t.at(c).next;
      }
      return c == n.next ? "" : at + ": next";
    }
    case et::STRING:
      if (n.type != json_type::string) return at + ": not a string";
      if (n.text != e.get_string().value()) return at + ": text";
      if (n.has_nul != (n.text.find('\0') != std::string_view::npos)) return at + ": has_nul";
      return "";
    case et::INT64:
    case et::UINT64:
    case et::DOUBLE: {
      if (n.type != json_type::number) return at + ": not a number";
      if (!is_json_number(n.text)) return at + ": number text";
      const double mine = std::strtod(std::string(n.text).c_str(), nullptr);
      const double theirs = e.get_double().value();
      return mine == theirs ? "" : at + ": number value " + std::string(n.text);
    }
    case et::BOOL:
      if (n.type != json_type::boolean || n.boolean != e.get_bool().value()) return at + ": boolean";
      return "";
    case et::NULL_VALUE: return n.type == json_type::null ? "" : at + ": not null";
  }
  return at + ": unknown type";
}

// Parses `doc` both ways; "" when they agree.
std::string differs(simdjson::dom::parser& p, const std::string& doc) {
  simdjson::dom::element root;
  bool unconvertible = false;
  const bool theirs = oracle_accepts(p, doc, root, unconvertible);
  const auto mine = parse_json_object(doc, kDepth);
  if (mine.ok() && unconvertible) return "";  // every number was checked against the grammar
  if (mine.ok() != theirs) {
    return std::string(mine.ok() ? "accepted" : "refused (" + mine.err().message + ")") + " what the oracle " +
           (theirs ? "accepts" : "refuses");
  }
  if (!theirs) return "";
  const json_tree& t = *mine.value();
  return compare(t, t.root(), root, "$");
}

// `base` with one to three random edits: a byte replaced by one of
// `alphabet`, bytes erased, one of `alphabet` inserted, or (with `cut`)
// everything from a byte on cut off.
std::string mutated(std::mt19937& rng, const std::string& base, const std::string& alphabet, bool cut) {
  std::string d = base;
  const int edits = 1 + static_cast<int>(rng() % 3);
  for (int k = 0; k < edits && !d.empty(); ++k) {
    const std::size_t at = rng() % d.size();
    switch (rng() % (cut ? 4 : 3)) {
      case 0: d[at] = alphabet[rng() % alphabet.size()]; break;
      case 1: d.erase(at, 1 + rng() % 3); break;
      case 2: d.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
      default: d.resize(at); break;
    }
  }
  return d;
}

const char* const kNotification = R"({"subscriptionId":"5f8c","data":[{"id":"urn:ngsi-ld:Sensor:001","type":"Sensor",
"temperature":{"type":"Number","value":-21.5e-3,"metadata":{}},"on":{"type":"Boolean","value":true},
"off":{"type":"Boolean","value":false},"none":{"type":"Text","value":null},
"name":{"type":"Text","value":"caf\u00e9 \"quoted\" \\ \/ \b\f\n\r\t \ud83d\ude00 é"},
"config":{"type":"StructuredValue","value":{"a":[1,2,[3,{"b":[]}]],"c":{}}},
"location":{"type":"geo:json","value":{"type":"Point","coordinates":[-3.7038,40.4168]}},
"TimeInstant":{"type":"DateTime","value":"2025-06-26T11:00:00.000Z"}}]})";

TEST(JsonTree, HandwrittenDocumentsAsTheOracleReadsThem) {
  simdjson::dom::parser p;
  const std::vector<std::string> docs = {
      kNotification, "{}", " \t\r\n{ } \n", R"({"a":0,"b":-0,"c":0.5,"d":1E+2,"e":1e-2,"f":-12.25E2})",
      R"({"a":"\u0000x","b\u0000":1})", R"({"a":"\uD834\uDD1E","b":"\u00A9\u20AC"})", R"({"":""})",
      R"({"a":[[[[[[[[[[]]]]]]]]]]})", R"({"dup":1,"dup":2})",
      // Refused:
      "", "   ", "[]", "\"text\"", "42", "true", "null", "{", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,}", "{,}",
      "{\"a\" 1}", "{\"a\":1 \"b\":2}", "{a:1}", "{'a':1}", "{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":[1 2]}",
      "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":1e}", "{\"a\":+1}", "{\"a\":-}", "{\"a\":0x10}", "{\"a\":NaN}",
      "{\"a\":1-2}", "{\"a\":1.2.3}", "{\"a\":1e5e5}", "{\"a\":-01}", "{\"a\":1E+}", "{\"a\":[0-]}", "{\"a\":Infinity}",
      "{\"a\":tru}", "{\"a\":truex}", "{\"a\":nul}", "{\"a\":nulll}", "{\"a\":True}", "{\"a\":\"x}", "{\"a\":\"x\\\"}",
      "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\u12G4\"}", "{\"a\":\"\\uD800\"}", "{\"a\":\"\\uD800x\"}",
      "{\"a\":\"\\uD800\\u0041\"}", "{\"a\":\"\\uDC00\"}", std::string("{\"a\":\"a\nb\"}"),
      std::string("{\"a\":\"a\tb\"}"), std::string("{\"a\":\"a\x01", 8) + "\"}", std::string("{\"a\":1}\0", 8),
      "{\"a\":1}}", "{\"a\":1} {\"b\":2}", "{\"a\":1}x", "{\"a\":[}]", "{\"a\":{]}", "{\"a\":1]",
      "\xEF\xBB\xBF{}",  // a byte order mark is not JSON
  };
  for (const auto& d : docs) EXPECT_EQ(differs(p, d), "") << d;
}

TEST(JsonTree, MutatedNotificationsAsTheOracleReadsThem) {
  simdjson::dom::parser p;
  std::mt19937 rng(20261202);
  const std::string base = kNotification;
  const std::string alphabet = "{}[]:,\"\\ 0123456789.-+eEtrufalsn/ubx\n\t\x01";
  int accepted = 0;
  int refused = 0;
  for (int round = 0; round < 20000; ++round) {
    const std::string d = mutated(rng, base, alphabet, true);
    const auto why = differs(p, d);
    ASSERT_EQ(why, "") << d;
    (parse_json_object(d, kDepth).ok() ? accepted : refused)++;
  }
  // Both kinds were exercised, many times.
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(refused, 5000);
}

// UTF-8 is checked as strings are scanned (the only place a byte outside
// ASCII may be): every well-formed sequence is kept, in plain and escaped
// strings and in names, and every malformed one is refused as such,
// wherever it is (the message does not depend on where the reader stopped).
TEST(JsonTree, Utf8IsCheckedInEveryStringAndToldAsSuchAnywhere) {
  simdjson::dom::parser p;
  const std::vector<std::string> good = {
      "{\"caf\xC3\xA9\":\"\xE2\x82\xAC \xF0\x9F\x98\x80\"}",
      "{\"a\":\"\\n\xC3\xA9\\t\xF4\x8F\xBF\xBF\"}",  // escaped strings copy them
      "{\"\xEF\xBF\xBF\":[\"\xDF\xBF\",\"\xE0\xA0\x80\"]}",
  };
  for (const auto& d : good) {
    EXPECT_EQ(differs(p, d), "") << d;
    EXPECT_TRUE(parse_json_object(d, kDepth).ok()) << d;
  }
  const auto a = parse_json_object("{\"a\":\"x\\\"\xC3\xA9\"}", kDepth);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value()->at(1).text, "x\"\xC3\xA9");

  const std::vector<std::string> bad = {
      "{\"a\":\"\xFF\"}",              // not a lead byte
      "{\"a\":\"\xC3\"}",              // a lead byte without its continuation
      "{\"a\":\"\xE2\x82",             // cut at the end of the input
      "{\"a\":\"\xC0\xAF\"}",          // overlong
      "{\"a\":\"\xED\xA0\x80\"}",      // a UTF-16 surrogate
      "{\"a\":\"\xF4\x90\x80\x80\"}",  // past U+10FFFF
      "{\"\xFF\":1}",                  // in a name
      "{\"a\":\"\\n\xFF\"}",           // after an escape
      "{\"a\":1\xFF}",                 // outside any string
      "\xFF{\"a\":1}",                 // before the document
      "{\"a\":1}\xC3",                 // after it
      "{\"a\":\"\x80\", \"b\":tru}",   // before another error
      "{\"a\":tru, \"b\":\"\x80\"}",   // after one
  };
  for (const auto& d : bad) {
    EXPECT_EQ(differs(p, d), "") << d;
    const auto r = parse_json_object(d, kDepth);
    ASSERT_FALSE(r.ok()) << d;
    EXPECT_EQ(r.err().message, "is not valid UTF-8") << d;
  }
  // A valid sequence outside a string is a syntax error, not an encoding one.
  const auto outside = parse_json_object("{\"a\":\xC3\xA9}", kDepth);
  ASSERT_FALSE(outside.ok());
  EXPECT_THAT(outside.err().message, testing::HasSubstr("is not valid JSON"));
}

TEST(JsonTree, MutatedUtf8AsTheOracleReadsIt) {
  simdjson::dom::parser p;
  std::mt19937 rng(20261204);
  const std::string base = "{\"caf\xC3\xA9\":\"\xE2\x82\xAC \\u00e9 \xF0\x9F\x98\x80\",\"n\":[\"\xC3\xB1\",1]}";
  const std::string bytes = "\x80\xBF\xC0\xC2\xDF\xE0\xED\xEF\xF0\xF4\xF5\xFF\"\\a";
  int accepted = 0;
  int refused = 0;
  for (int round = 0; round < 20000; ++round) {
    const std::string d = mutated(rng, base, bytes, false);
    ASSERT_EQ(differs(p, d), "") << d;
    const auto r = parse_json_object(d, kDepth);
    (r.ok() ? accepted : refused)++;
    if (!r.ok() && !simdjson::validate_utf8(d.data(), d.size())) {
      ASSERT_EQ(r.err().message, "is not valid UTF-8") << d;
    }
  }
  EXPECT_GT(accepted, 500);
  EXPECT_GT(refused, 5000);
}

TEST(JsonTree, ANumberKeepsEveryDigitItWasSentWith) {
  const std::string doc = R"({"big":123456789012345678901234567890,"exp":1e400,"frac":0.10000000000000000001})";
  const auto r = parse_json_object(doc, kDepth);
  ASSERT_TRUE(r.ok());
  const json_tree& t = *r.value();
  EXPECT_EQ(t.at(t.member(t.root(), "big")).text, "123456789012345678901234567890");
  EXPECT_EQ(t.at(t.member(t.root(), "exp")).text, "1e400");
  EXPECT_EQ(t.at(t.member(t.root(), "frac")).text, "0.10000000000000000001");
}

TEST(JsonTree, SpansAreTheValuesAsSent) {
  const std::string doc = R"( { "a" : [ 1 , "x\n" , { "b" : null } ] , "c" : -2.5e3 } )";
  const auto r = parse_json_object(doc, kDepth);
  ASSERT_TRUE(r.ok());
  const json_tree& t = *r.value();
  EXPECT_EQ(t.raw(t.root()), R"({ "a" : [ 1 , "x\n" , { "b" : null } ] , "c" : -2.5e3 })");
  const auto a = t.member(t.root(), "a");
  EXPECT_EQ(t.raw(a), R"([ 1 , "x\n" , { "b" : null } ])");
  EXPECT_EQ(t.compact(a), R"([1,"x\n",{"b":null}])");
  EXPECT_EQ(t.raw(json_tree::first_child(a) + 1), R"("x\n")");
  EXPECT_EQ(t.at(json_tree::first_child(a) + 1).text, "x\n");
  EXPECT_EQ(t.raw(t.member(t.root(), "c")), "-2.5e3");
}

// The legacy envelope's inner notification is a string of the document
// parsed before, whose buffers the next parse reuses (run under
// AddressSanitizer by scripts/test.sh --sanitize).
TEST(JsonTree, AStringOfTheDocumentBeforeCanBeParsedNext) {
  const std::string outer = R"({"plain":"{ \"x\" : 1 }","escaped":"{\"a\":[1,\"\\u00e9\"]}","bare":"{}"})";
  for (const char* member : {"plain", "escaped", "bare"}) {
    const auto o = parse_json_object(outer, kDepth);
    ASSERT_TRUE(o.ok());
    const std::string_view inner = o.value()->at(o.value()->member(0, member)).text;
    const std::string expected(inner);
    const auto r = parse_json_object(inner, kDepth);
    ASSERT_TRUE(r.ok()) << member << ": " << r.err().message;
    EXPECT_EQ(r.value()->raw(0), expected) << member;
  }
  // A plain string is a view of the input buffer, and this one is longer
  // than the bytes before it: copied onto itself, it would overlap.
  const auto o = parse_json_object("{\"s\":\"{}" + std::string(40, ' ') + "\"}", kDepth);
  const auto r = parse_json_object(o.value()->at(1).text, kDepth);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value()->at(0).count, 0u);
}

TEST(JsonTree, ADeepDocumentIsRefusedAtTheLimitWithoutRecursion) {
  const std::string deep = "{\"a\":" + std::string(200000, '[') + std::string(200000, ']') + "}";
  const auto r = parse_json_object(deep, 1000000);
  ASSERT_TRUE(r.ok());
  const auto limited = parse_json_object(deep, 64);
  ASSERT_FALSE(limited.ok());
  EXPECT_THAT(limited.err().message, testing::HasSubstr("deeper than limits.max_nesting_depth (64) at byte 68"));
}

// is_json_number holds a text to the grammar the parser reads numbers by,
// short or long, and nothing around or inside it.
TEST(JsonTree, IsJsonNumberIsTheParsersGrammar) {
  for (const char* yes : {"0", "-0", "1", "-12.5", "1e5", "1E+5", "2.5e-3", "0.0"}) {
    EXPECT_TRUE(is_json_number(yes)) << yes;
  }
  for (const char* no : {"", "-", "01", "1.", ".5", "+1", "1e", "1e+", "--1", "1 ", " 1", "0x10", "NaN", "1.2.3"}) {
    EXPECT_FALSE(is_json_number(no)) << no;
  }
  EXPECT_FALSE(is_json_number(std::string_view("1\0", 2)));
  EXPECT_FALSE(
      is_json_number(std::string_view("1\0"
                                      "2",
                                      3)));
  const std::string long_number = "-" + std::string(200, '7') + "." + std::string(100, '3') + "e-12";
  EXPECT_TRUE(is_json_number(long_number));
  EXPECT_FALSE(is_json_number(long_number + "x"));
  EXPECT_FALSE(is_json_number(long_number.substr(0, long_number.size() - 2)));
}

// Every value starts at a byte of its own, and the parser has room for a
// node per byte: a text that opens more than it closes, refused only at its
// end, fills more than half of it (under AddressSanitizer, a smaller room
// is an overflow here).
TEST(JsonTree, AnUnclosedDocumentFillsItsRoomAndIsRefused) {
  std::string open = "{\"a\":";
  for (int i = 0; i < 1000; ++i) open += "[1,";
  const auto r = parse_json_object(open, 1024);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.err().message, testing::HasSubstr("truncated"));
  std::string closed = open + "1" + std::string(1000, ']') + "}";
  const auto ok = parse_json_object(closed, 1024);
  ASSERT_TRUE(ok.ok()) << ok.err().message;
  EXPECT_EQ(ok.value()->at(1).count, 2u);
  EXPECT_EQ(ok.value()->at(0).next, 2002u);
}

}  // namespace
// member_pair finds what member() finds for each of its two names, in one
// pass: the first of each name, wherever it is, npos for a name absent.
TEST(JsonTree, AMemberPairIsWhatMemberFindsForEachName) {
  for (const char* doc : {R"({"id":"a","type":"t","x":1})", R"({"x":1,"type":"t","id":"a","id":"b","type":"u"})",
                          R"({"type":"t"})", R"({"id":"a"})", R"({})", R"({"ID":1,"Type":2,"i":3,"typ":4})"}) {
    const auto tree = parse_json_object(doc, 8);
    ASSERT_TRUE(tree.ok()) << doc;
    const json_tree& t = *tree.value();
    std::uint32_t id = 0;
    std::uint32_t type = 0;
    t.member_pair(t.root(), "id", "type", id, type);
    EXPECT_EQ(id, t.member(t.root(), "id")) << doc;
    EXPECT_EQ(type, t.member(t.root(), "type")) << doc;
  }
  const auto tree = parse_json_object(R"({"a":[1,2]})", 8);
  ASSERT_TRUE(tree.ok());
  std::uint32_t x = 0;
  std::uint32_t y = 0;
  tree.value()->member_pair(tree.value()->member(0, "a"), "id", "type", x, y);
  EXPECT_EQ(x, json_tree::npos) << "an array has no members";
  EXPECT_EQ(y, json_tree::npos);
}

}  // namespace kafnus::ngsi
