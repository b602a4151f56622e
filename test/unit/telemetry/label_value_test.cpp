// Label values fed from outside (service names from headers, topic names)
// are valid UTF-8, printable and short; the service label is capped.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include <prometheus/text_serializer.h>

#include "ngsi/text.hpp"
#include "telemetry/label_value.hpp"
#include "telemetry/metrics.hpp"
#include "test/support/metrics_text.hpp"

using kafnus::kMaxLabelBytes;
using kafnus::label_value;
using kafnus::valid_utf8;
using kafnus::ngsi::is_valid_utf8;
using testing::HasSubstr;
using testing::Not;

namespace {

const std::string kFffd = "\xEF\xBF\xBD";
const std::string kEllipsis = "\xE2\x80\xA6";

using kafnus::test::metric_sample;
double sample(const std::string& text, const std::string& name) { return metric_sample(text, name); }

}  // namespace

TEST(LabelValue, KeepsPrintableUtf8QuotesAndBackslashes) {
  EXPECT_EQ(label_value("smc"), "smc");
  EXPECT_EQ(label_value(""), "");
  EXPECT_EQ(label_value("a\"b\\c"), "a\"b\\c");  // escaped by the serializer, not here
  EXPECT_EQ(label_value("caf\xC3\xA9 \xE6\x97\xA5\xF0\x9F\x98\x80"), "caf\xC3\xA9 \xE6\x97\xA5\xF0\x9F\x98\x80");
}

TEST(LabelValue, ReplacesBytesThatAreNotUtf8) {
  EXPECT_EQ(label_value("a\xFF"
                        "b"),
            "a" + kFffd + "b");
  EXPECT_EQ(label_value("\xC3"), kFffd);                                // truncated sequence
  EXPECT_EQ(label_value("\x80\x80"), kFffd + kFffd);                    // stray continuation bytes
  EXPECT_EQ(label_value("\xC0\xAF"), kFffd + kFffd);                    // overlong '/'
  EXPECT_EQ(label_value("\xED\xA0\x80"), kFffd + kFffd + kFffd);        // UTF-16 surrogate
  EXPECT_EQ(label_value("\xF4\x90\x80\x80").size(), 4 * kFffd.size());  // past U+10FFFF
  for (const std::string raw : {"\xFE\xFF", "x\xE2\x82", "\xF0\x9F\x98", "ok\xA0ok"}) {
    EXPECT_TRUE(is_valid_utf8(label_value(raw))) << raw;
  }
}

TEST(LabelValue, ReplacesControlCharacters) {
  EXPECT_EQ(label_value("a\nb"), "a" + kFffd + "b");
  EXPECT_EQ(label_value(std::string("a\0b", 3)), "a" + kFffd + "b");
  EXPECT_EQ(label_value("\r\t\x1B[31m\x7F"), kFffd + kFffd + kFffd + "[31m" + kFffd);
}

TEST(LabelValue, CutsLongValuesOnACharacterBoundary) {
  const std::string exact(kMaxLabelBytes, 'a');
  EXPECT_EQ(label_value(exact), exact);
  const auto cut = label_value(std::string(kMaxLabelBytes + 1, 'a'));
  EXPECT_EQ(cut, std::string(kMaxLabelBytes - kEllipsis.size(), 'a') + kEllipsis);
  EXPECT_EQ(label_value(std::string(1 << 20, 'x')).size(), kMaxLabelBytes);

  std::string accents;
  for (int i = 0; i < 100; ++i) accents += "\xC3\xA9";  // 200 bytes of 'é'
  const auto a = label_value(accents);
  EXPECT_LE(a.size(), kMaxLabelBytes);
  EXPECT_TRUE(is_valid_utf8(a));
  EXPECT_EQ(a.substr(a.size() - kEllipsis.size()), kEllipsis);

  std::string invalid(300, '\xFF');  // each byte grows to three
  const auto i = label_value(invalid);
  EXPECT_LE(i.size(), kMaxLabelBytes);
  EXPECT_TRUE(is_valid_utf8(i));
  EXPECT_EQ(label_value("abcdef", 4), "a" + kEllipsis);
  EXPECT_EQ(label_value("abcd", 4), "abcd");
}

TEST(ValidUtf8, ReplacesOnlyWhatIsNotUtf8) {
  EXPECT_EQ(valid_utf8("plain\n\"text\""), "plain\n\"text\"");
  EXPECT_EQ(valid_utf8("\xC3\xA9\xFF"), "\xC3\xA9" + kFffd);
  EXPECT_TRUE(is_valid_utf8(valid_utf8("\xED\xA0\x80\xC0\xAF\xF8")));
}

TEST(ServiceLabel, TheFirstServicesGetTheirOwnLabelTheRestShareOther) {
  kafnus::metrics m(3);
  EXPECT_EQ(m.service_label("a"), "a");
  EXPECT_EQ(m.service_label("b"), "b");
  EXPECT_EQ(m.service_label("a"), "a");  // a name seen before keeps its label
  EXPECT_EQ(m.service_label("c\xFF"), "c" + kFffd);
  EXPECT_EQ(m.service_label("d"), "_other");
  EXPECT_EQ(m.service_label("e"), "_other");
  EXPECT_EQ(m.service_label("c\xFE"), "c" + kFffd);  // same label as "c\xFF": no new series
  EXPECT_EQ(m.service_label("b"), "b");
  const auto text = prometheus::TextSerializer().Serialize(m.registry()->Collect());
  EXPECT_EQ(sample(text, "kafnus_service_label_overflow_total"), 2);
  EXPECT_EQ(sample(text, "kafnus_service_labels"), 3);
}

TEST(ServiceLabel, TheCapIsConfigurable) {
  kafnus::metrics m;
  EXPECT_EQ(m.max_services(), kafnus::metrics::kDefaultMaxServices);
  m.set_max_services(1);
  EXPECT_EQ(m.service_label("first"), "first");
  EXPECT_EQ(m.service_label("second"), "_other");
}

TEST(ServiceLabel, SeriesStayBoundedAndValidWhateverTheNames) {
  kafnus::metrics m(50);
  const auto hist = kafnus::ngsi::flow::historic;
  m.rows_written(hist, "quote\"back\\slash").Increment();
  m.rows_written(hist, "new\nline").Increment();
  m.error_log_rows(hist, "bad\xC3(utf8").Increment();
  for (int i = 0; i < 100000; ++i) m.error_log_rows(hist, "svc" + std::to_string(i)).Increment();
  m.consumed("topic\xFF").Increment();
  const auto text = prometheus::TextSerializer().Serialize(m.registry()->Collect());
  EXPECT_TRUE(is_valid_utf8(text));
  EXPECT_THAT(text, HasSubstr(R"(service="quote\"back\\slash")"));
  EXPECT_THAT(text, HasSubstr("service=\"new" + kFffd + "line\""));
  EXPECT_THAT(text, HasSubstr("service=\"bad" + kFffd + "(utf8\""));
  EXPECT_THAT(text, HasSubstr("topic=\"topic" + kFffd + "\""));
  EXPECT_THAT(text, HasSubstr(R"(kafnus_error_log_rows_total{flow="historic",service="_other"} )"));
  EXPECT_THAT(text, Not(HasSubstr("svc99999")));
  std::size_t error_series = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) error_series += line.rfind("kafnus_error_log_rows_total{", 0) == 0;
  EXPECT_EQ(error_series, 49u);  // 50 labels: 3 above (one of them here), 47 of the flood; and "_other"
  EXPECT_LT(text.size(), 64u * 1024);
}
