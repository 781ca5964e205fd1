// Tests of JsonLineWriter: the same text as the std::string helpers of json_text.h, growth
// past the initial buffer mid-line, escaping, and reuse of one string for many lines.
#include "core/json_line_writer.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice {
namespace {

TEST(JsonLineWriter, WritesWhatTheAppendHelpersWrite) {
  std::string line = "old text that must go";
  JsonLineWriter w(line);
  w.Raw("{\"a\":");
  w.String("tab\there \"quoted\" \\ \x01 caf\xC3\xA9 bad\xFF");
  w.Raw(",\"n\":");
  w.Decimal(-9223372036854775807LL - 1);
  w.Raw(",\"ms\":");
  w.Millis(12345);
  w.Raw(",\"e\":");
  w.StringOrNull("");
  w.Char('}');
  w.Finish();
  std::string expected = "{\"a\":";
  AppendJsonString(expected, "tab\there \"quoted\" \\ \x01 caf\xC3\xA9 bad\xFF");
  expected += ",\"n\":-9223372036854775808,\"ms\":12.345,\"e\":null}";
  EXPECT_EQ(line, expected);
  EXPECT_NE(line.find("\\u0001"), std::string::npos);
  EXPECT_NE(line.find("\xEF\xBF\xBD"), std::string::npos);  // the invalid byte replaced
}

TEST(JsonLineWriter, GrowsPastItsBufferMidLine) {
  std::string line;
  std::string expected;
  {
    JsonLineWriter w(line);
    for (int i = 0; i < 500; ++i) {
      w.String("\n\n\n\n\n\n\n\n");  // 8 bytes, escaped to 16: many growths
      w.Decimal(i);
      expected += R"("\n\n\n\n\n\n\n\n")" + std::to_string(i);
    }
    std::string control(3000, '\x02');  // worst case: six bytes out per byte in
    w.String(control);
    expected += '"';
    for (int i = 0; i < 3000; ++i) expected += "\\u0002";
    expected += '"';
    w.Finish();
  }
  EXPECT_EQ(line, expected);
  JsonLineWriter again(line);  // the next line starts afresh in the same string
  again.Raw("x");
  again.Finish();
  EXPECT_EQ(line, "x");
}

}  // namespace
}  // namespace sluice
