// Quoting, COPY escaping, literals and the error-log
// text helpers.

#include <gtest/gtest.h>

#include <stdexcept>

#include <pqxx/except>

#include "postgis/error_class.hpp"
#include "postgis/error_log.hpp"
#include "postgis/sql.hpp"

using namespace kafnus::postgis;
using kafnus::ngsi::value;

TEST(Sql, IdentifiersAreQuotedWithQuotesDoubled) {
  EXPECT_EQ(quote_ident("simple"), "\"simple\"");
  EXPECT_EQ(quote_ident("a\"; DROP TABLE x; --"), "\"a\"\"; DROP TABLE x; --\"");
  EXPECT_EQ(qualified({"test", "t"}), "\"test\".\"t\"");
}

TEST(Sql, LiteralsAreQuotedWithQuotesDoubled) {
  EXPECT_EQ(quote_literal("it's"), "'it''s'");
  EXPECT_EQ(quote_literal("'); DROP TABLE x; --"), "'''); DROP TABLE x; --'");
  EXPECT_EQ(quote_literal("back\\slash"), "'back\\slash'");
  EXPECT_EQ(quote_literal(""), "''");
  EXPECT_EQ(quote_literal("''"), "''''''");
  std::string out = "x ";
  append_literal(out, "a'b'");
  EXPECT_EQ(out, "x 'a''b'''");
}

TEST(Sql, ValueLiteralsCarryTheirType) {
  EXPECT_EQ(literal(value::null()), "NULL");
  EXPECT_EQ(literal(value::boolean(true)), "true");
  EXPECT_EQ(literal(value::number("9223372036854775807")), "9223372036854775807");
  EXPECT_EQ(literal(value::text_value("x")), "'x'");
  EXPECT_EQ(literal(value::json("{\"a\":1}")), "'{\"a\":1}'::json");
  EXPECT_EQ(literal(value::geometry_from_hex("0101")), "'0101'::geometry");
  // A geometry holds its EWKB bytes; its literal spells them in upper-case hex.
  const auto g = value::geometry_from_hex("0a0B");
  EXPECT_EQ(g.text, std::string("\x0a\x0b"));
  EXPECT_EQ(literal(g), "'0A0B'::geometry");
  EXPECT_THROW(value::geometry_from_hex("0a0"), std::invalid_argument);
  EXPECT_THROW(value::geometry_from_hex("0g"), std::invalid_argument);
}

TEST(Sql, CopyEscaping) {
  std::string out;
  append_copy_escaped(out, "a\tb\nc\rd\\e");
  EXPECT_EQ(out, "a\\tb\\nc\\rd\\\\e");
}

// The byte-at-a-time definition the fast (16 bytes at a time) escaping must match.
std::string copy_escaped_reference(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out += c;
    }
  }
  return out;
}

TEST(Sql, CopyEscapingMatchesTheDefinitionAtEveryPositionAndLength) {
  // Special bytes at every offset around the 16-byte blocks, runs longer
  // than a block, UTF-8 and bytes >= 0x80 (which compare as negative chars).
  const std::string specials = "\\\n\r\t";
  for (std::size_t len = 0; len <= 40; ++len) {
    for (std::size_t pos = 0; pos <= len; ++pos) {
      for (char special : specials) {
        std::string text(len, 'x');
        for (std::size_t i = 0; i < len; i += 3) text[i] = static_cast<char>(0xC3 - (i % 2));
        if (pos < len) text[pos] = special;
        std::string out = "prefix|";
        append_copy_escaped(out, text);
        ASSERT_EQ(out, "prefix|" + copy_escaped_reference(text)) << "len " << len << " pos " << pos;
      }
    }
  }
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  all += all;
  std::string out;
  append_copy_escaped(out, all);
  EXPECT_EQ(out, copy_escaped_reference(all));
}

TEST(ErrorLog, TextIsMadePrintable) {
  EXPECT_EQ(printable_utf8("ok é"), "ok é");
  EXPECT_EQ(printable_utf8(std::string("a\0b", 3)), "a\\0b");
  EXPECT_EQ(printable_utf8("\xff"), "\xEF\xBF\xBD");
  EXPECT_EQ(printable_utf8("\xC0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong NUL
  EXPECT_EQ(printable_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

TEST(ErrorLog, TruncationKeepsUtf8Whole) {
  const std::string s = "ééééé";  // 10 bytes
  const auto t = truncate_utf8(s, 5);
  EXPECT_EQ(t.rfind("éé", 0), 0u);
  EXPECT_NE(t.find("[truncated 6 bytes]"), std::string::npos) << t;
  EXPECT_EQ(truncate_utf8("short", 100), "short");
}
