// The shared string helpers: ASCII case, trim/split/join, UTF-8.

#include <gtest/gtest.h>

#include "text/ascii.hpp"
#include "text/utf8.hpp"

using namespace kafnus::text;

TEST(Ascii, CaseFoldingIsAsciiOnly) {
  EXPECT_EQ(to_lower_ascii("Fiware-Service"), "fiware-service");
  EXPECT_EQ(to_lower_ascii("\xC3\x89T\xC3\x89"), "\xC3\x89t\xC3\x89") << "bytes beyond ASCII are kept";
  std::string names = "Kept:";
  append_lower_ascii(names, "TimeInstant");
  append_lower_ascii(names, "");
  EXPECT_EQ(names, "Kept:timeinstant") << "what was there stays as it was";
  EXPECT_TRUE(iequals("TimeInstant", "timeinstant"));
  EXPECT_FALSE(iequals("a", "ab"));
  EXPECT_TRUE(istarts_with("Bearer xyz", "bearer "));
  EXPECT_TRUE(starts_with("geometry(Point,4326)", "geometry"));
  EXPECT_FALSE(starts_with("Geometry", "geometry"));
  EXPECT_FALSE(starts_with("geo", "geometry"));
}

TEST(Ascii, TrimSplitJoin) {
  EXPECT_EQ(trim(" \t a b \r\n"), "a b");
  EXPECT_EQ(trim(" \n "), "");
  EXPECT_EQ(split(" a, ,b ,", ','), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(split("", ',').empty());
  EXPECT_EQ(join({"a", "b", "c"}), "a,b,c");
  EXPECT_EQ(join({"a", "b"}, ", "), "a, b");
  EXPECT_EQ(join({}), "");
}

TEST(Ascii, PaddingKeepsLongerTextWhole) {
  EXPECT_EQ(kafnus::text::pad_right("ab", 4), "ab  ");
  EXPECT_EQ(kafnus::text::pad_left("ab", 4), "  ab");
  EXPECT_EQ(kafnus::text::pad_right("abcdef", 4), "abcdef");
  EXPECT_EQ(kafnus::text::pad_left("abcdef", 4), "abcdef");
}

TEST(Utf8, TheOneValidator) {
  EXPECT_TRUE(is_valid_utf8("plain \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF")) << "overlong";
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80")) << "UTF-16 surrogate";
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80")) << "past U+10FFFF";
  EXPECT_FALSE(is_valid_utf8("\xE2\x82")) << "cut short";
  EXPECT_EQ(utf8_sequence_length("\xE2\x82\xAC!"), 3u);
}

TEST(Utf8, EncodesEveryLengthAtItsBoundaries) {
  auto encoded = [](char32_t cp) {
    char out[4];
    return std::string(out, kafnus::text::encode_utf8(cp, out));
  };
  EXPECT_EQ(encoded(U'\0'), std::string(1, '\0'));
  EXPECT_EQ(encoded(0x7F), "\x7F");
  EXPECT_EQ(encoded(0x80), "\xC2\x80");
  EXPECT_EQ(encoded(0x7FF), "\xDF\xBF");
  EXPECT_EQ(encoded(0x800), "\xE0\xA0\x80");
  EXPECT_EQ(encoded(0x20AC), "\xE2\x82\xAC");
  EXPECT_EQ(encoded(0xFFFF), "\xEF\xBF\xBF");
  EXPECT_EQ(encoded(0x10000), "\xF0\x90\x80\x80");
  EXPECT_EQ(encoded(0x10FFFF), "\xF4\x8F\xBF\xBF");
  for (char32_t cp : {0x41u, 0xE9u, 0x4E2Du, 0x1F600u}) EXPECT_TRUE(is_valid_utf8(encoded(cp)));
}

TEST(Utf8, InvalidBytesBecomeReplacementCharacters) {
  EXPECT_EQ(to_valid_utf8("a\xFF"
                          "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(to_valid_utf8("\xE2\x82\xAC"), "\xE2\x82\xAC");
  EXPECT_TRUE(is_valid_utf8(to_valid_utf8("\xC0\xAF\xED\xA0\x80\xF4\x90\x80\x80")));
}

TEST(Utf8, APrefixNeverCutsACharacter) {
  EXPECT_EQ(utf8_prefix("ab\xE2\x82\xAC", 3), "ab");
  EXPECT_EQ(utf8_prefix("ab\xE2\x82\xAC", 5), "ab\xE2\x82\xAC");
  EXPECT_EQ(utf8_prefix("abc", 10), "abc");
}
