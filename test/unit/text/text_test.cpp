// The shared string helpers: ASCII case, trim/split/join, UTF-8.

#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>

#include "text/ascii.hpp"
#include "text/number.hpp"
#include "text/utf8.hpp"
#include "text/word_hash.hpp"

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

// copy_lower_ascii folds eight bytes at a time: every byte value, at every
// position of a word and of the tail, folds as ascii_lower folds it alone
// (bytes beyond ASCII whose low seven bits are a capital stay as they are).
TEST(Ascii, WordAtATimeFoldingMatchesTheByteRule) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  for (std::size_t shift = 0; shift < 8; ++shift) {
    const std::string in = std::string(shift, 'Q') + all + all.substr(0, shift);
    std::string out(in.size(), '\0');
    EXPECT_EQ(copy_lower_ascii(in, out.data()), out.data() + out.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      ASSERT_EQ(out[i], ascii_lower(in[i])) << "byte " << static_cast<int>(static_cast<unsigned char>(in[i]));
    }
  }
}

// Every length up to three words, copied or in place: each byte folded by
// the byte rule, and nothing written past the end (the last word and the
// 4-byte pieces overlap inside the name, never beyond it).
TEST(Ascii, FoldingEveryShortLengthWritesExactlyItsBytes) {
  std::mt19937_64 rng(3);
  for (std::size_t n = 0; n <= 24; ++n) {
    for (int round = 0; round < 50; ++round) {
      std::string in;
      for (std::size_t i = 0; i < n; ++i) in += static_cast<char>(rng() % 3 == 0 ? rng() % 256 : 'A' + rng() % 58);
      std::string out(n + 16, '#');
      EXPECT_EQ(copy_lower_ascii(in, out.data()), out.data() + n);
      std::string folded = in;
      for (auto& c : folded) c = ascii_lower(c);
      ASSERT_EQ(out.substr(0, n), folded) << n;
      ASSERT_EQ(out.substr(n), std::string(16, '#')) << n;
      std::string same = in;
      copy_lower_ascii(same, same.data());
      ASSERT_EQ(same, folded) << n << " in place";
      ASSERT_EQ(to_lower_ascii(in), folded) << n;
    }
  }
}

// iequals compares eight bytes at a time from eight on: it agrees with the
// byte rule on equal strings, on one byte changed anywhere (to its other
// case, to a byte whose low seven bits are its capital, to anything), at
// every length around the word boundaries.
TEST(Ascii, WordAtATimeComparisonMatchesTheByteRule) {
  const auto by_bytes = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
  };
  std::mt19937_64 rng(7);
  for (std::size_t n = 1; n <= 26; ++n) {
    for (int round = 0; round < 400; ++round) {
      std::string a;
      for (std::size_t i = 0; i < n; ++i) a += static_cast<char>(rng() % 4 == 0 ? rng() % 256 : 'A' + rng() % 58);
      std::string b = a;
      for (auto& c : b) {
        if (rng() % 2 && ascii_lower(c) != c) c = ascii_lower(c);
      }
      ASSERT_EQ(iequals(a, b), by_bytes(a, b)) << a << " / " << b;
      const std::size_t at = rng() % n;
      const char changes[] = {static_cast<char>(b[at] ^ 0x20), static_cast<char>(b[at] ^ 0x80),
                              static_cast<char>(rng() % 256)};
      for (const char c : changes) {
        std::string d = b;
        d[at] = c;
        ASSERT_EQ(iequals(a, d), by_bytes(a, d)) << n << " at " << at;
        ASSERT_EQ(iequals(d, a), by_bytes(d, a)) << n << " at " << at;
      }
    }
  }
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

// read_double reads plain decimals of up to 15 digits itself and the rest
// through std::from_chars: every result, bit for bit, is from_chars' own.
TEST(Number, ReadDoubleGivesWhatFromCharsGives) {
  const auto same = [](const std::string& s) {
    double mine = 0;
    double theirs = 0;
    const bool ok = read_double(s, mine);
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), theirs);
    const bool their_ok = ec == std::errc() && ptr == s.data() + s.size();
    EXPECT_EQ(ok, their_ok) << s;
    if (!ok || !their_ok) return;
    EXPECT_EQ(std::signbit(mine), std::signbit(theirs)) << s;
    if (std::isnan(theirs)) {
      EXPECT_TRUE(std::isnan(mine)) << s;
    } else {
      EXPECT_EQ(mine, theirs) << s;
    }
  };
  for (const char* s : {"0",
                        "-0",
                        "-0.0",
                        "1",
                        "1.",
                        ".5",
                        "-",
                        "",
                        "1e5",
                        "1E-3",
                        "00012",
                        "0.1",
                        "-3.712345",
                        "123456789012345",
                        "1234567890123456",
                        "0.000000000000001",
                        "0.0000000000000001",
                        "9007199254740993",
                        "1.7976931348623157e308",
                        "1e309",
                        "4.9e-324",
                        "1.2.3",
                        "1-2",
                        "+1",
                        "12a",
                        " 1",
                        "999999999999999.9",
                        "0.30000000000000004",
                        "inf",
                        "nan"}) {
    same(s);
  }
  std::mt19937_64 rng(42);
  for (int i = 0; i < 200000; ++i) {
    std::string s = rng() % 2 ? "-" : "";
    const int whole = static_cast<int>(rng() % 9);
    const int fraction = static_cast<int>(rng() % 12);
    for (int d = 0; d < whole; ++d) s += static_cast<char>('0' + rng() % 10);
    if (whole == 0) s += '0';
    if (fraction > 0) s += '.';
    for (int d = 0; d < fraction; ++d) s += static_cast<char>('0' + rng() % 10);
    same(s);
  }
}

// word_hash reads a field's last bytes without a memcpy call; the words it
// mixes must be what a memcpy into a zeroed word gives, for every length
// and every byte value (bytes at or above 0x80 included).
TEST(WordHash, ATailIsReadAsAMemcpyWouldReadIt) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 2000; ++round) {
    char bytes[8];
    for (auto& b : bytes) b = static_cast<char>(rng());
    for (std::size_t r = 1; r <= 7; ++r) {
      std::uint64_t expected = 0;
      std::memcpy(&expected, bytes, r);
      ASSERT_EQ(word_hash::load_tail(bytes, r), expected) << "length " << r;
    }
  }
  // The whole hash as the plain loop over memcpy'd words gives it.
  const auto reference = [](const std::string& s) {
    word_hash h;
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, s.data() + i, 8);
      h.mix(w);
    }
    std::uint64_t tail = 0;
    std::memcpy(&tail, s.data() + i, s.size() - i);
    h.mix(tail ^ (static_cast<std::uint64_t>(s.size()) << 56));
    return h.h;
  };
  for (std::size_t n = 0; n <= 40; ++n) {
    std::string s;
    for (std::size_t k = 0; k < n; ++k) s += static_cast<char>(rng());
    word_hash h;
    h.add(s);
    EXPECT_EQ(h.h, reference(s)) << "length " << n;
  }
}
