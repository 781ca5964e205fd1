// Tests of the hand-written JSON writers: escaping (control characters, quotes, invalid
// UTF-8 → U+FFFD, valid multibyte kept) and number formatting. Outputs are checked against
// exact text and parsed back with Boost.JSON.
#include "core/json_text.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdint>
#include <limits>
#include <string>

namespace sluice {
namespace {

using namespace std::string_literals;

std::string Quote(std::string_view text) {
  std::string out;
  AppendJsonString(out, text);
  return out;
}

TEST(JsonString, EscapingTable) {
  const struct {
    const char* name;
    std::string input;
    std::string expected;  // JSON text including quotes
  } kCases[] = {
      {"empty", "", R"("")"},
      {"plain", "hello world", R"("hello world")"},
      {"quote", "say \"hi\"", R"("say \"hi\"")"},
      {"backslash", "a\\b", R"("a\\b")"},
      {"slash_kept", "a/b", R"("a/b")"},
      {"newline_cr_tab", "a\nb\rc\td", R"("a\nb\rc\td")"},
      {"nul", "a"s + '\0' + "b", R"("a\u0000b")"},
      {"control_chars", "\x01\x08\x0c\x1f", R"("\u0001\u0008\u000c\u001f")"},
      {"del_kept", "\x7f", "\"\x7f\""},
      {"two_byte", "caf\xC3\xA9", "\"caf\xC3\xA9\""},
      {"three_byte", "\xE2\x82\xAC", "\"\xE2\x82\xAC\""},
      {"four_byte_emoji", "\xF0\x9F\x98\x80", "\"\xF0\x9F\x98\x80\""},
      {"max_code_point", "\xF4\x8F\xBF\xBF", "\"\xF4\x8F\xBF\xBF\""},
      {"lone_continuation",
       "a\x80"
       "b",
       "\"a\xEF\xBF\xBD"
       "b\""},
      {"invalid_lead_ff", "\xFF", "\"\xEF\xBF\xBD\""},
      {"overlong_c0", "\xC0\xAF", "\"\xEF\xBF\xBD\xEF\xBF\xBD\""},
      {"overlong_e0", "\xE0\x80\xAF", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},
      {"surrogate", "\xED\xA0\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},
      {"above_max", "\xF4\x90\x80\x80", "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\""},
      {"truncated_at_end", "ab\xE2\x82", "\"ab\xEF\xBF\xBD\xEF\xBF\xBD\""},
      {"truncated_then_ascii",
       "\xC3"
       "a",
       "\"\xEF\xBF\xBD"
       "a\""},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    std::string out = Quote(c.input);
    EXPECT_EQ(out, c.expected);
    // Always valid JSON; valid input round-trips exactly.
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(out, ec);
    ASSERT_FALSE(ec) << out;
    ASSERT_TRUE(v.is_string());
  }
}

TEST(JsonString, ValidTextRoundTrips) {
  std::string all_ascii;
  for (int c = 0; c < 128; ++c) all_ascii.push_back(static_cast<char>(c));
  for (const std::string& text : {all_ascii, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80 ok"s}) {
    std::string out = Quote(text);
    boost::json::value v = boost::json::parse(out);
    EXPECT_EQ(v.as_string(), text);
  }
}

TEST(JsonString, EveryByteGivesValidJson) {
  for (int a = 0; a < 256; ++a) {
    for (int b : {0x00, 0x41, 0x80, 0xBF, 0xC3, 0xFF}) {
      std::string text = {static_cast<char>(a), static_cast<char>(b)};
      boost::system::error_code ec;
      boost::json::parse(Quote(text), ec);
      EXPECT_FALSE(ec) << a << " " << b;
    }
  }
}

TEST(JsonString, KeyAppendsColon) {
  std::string out = "{";
  AppendJsonKey(out, "k\"");
  out += "1}";
  EXPECT_EQ(out, R"({"k\"":1})");
}

TEST(JsonNumbers, Decimal) {
  const struct {
    int64_t value;
    const char* text;
  } kCases[] = {{0, "0"},
                {-1, "-1"},
                {1234567890123, "1234567890123"},
                {std::numeric_limits<int64_t>::max(), "9223372036854775807"},
                {std::numeric_limits<int64_t>::min(), "-9223372036854775808"}};
  for (const auto& c : kCases) {
    std::string out = "x";
    AppendDecimal(out, c.value);
    EXPECT_EQ(out, std::string("x") + c.text);
  }
}

TEST(JsonNumbers, Fixed) {
  const struct {
    double value;
    int decimals;
    const char* text;
  } kCases[] = {
      {1.2345, 3, "1.234"},  // binary 1.2345 is slightly below: round-to-nearest of the value
      {0, 3, "0.000"},
      {12.5, 1, "12.5"},
      {2.0, 0, "2"},
      {-0.5, 2, "-0.50"},
      {1e6, 3, "1000000.000"},
      {std::numeric_limits<double>::quiet_NaN(), 3, "0"},
      {std::numeric_limits<double>::infinity(), 3, "0"},
      {1e300, 3, "0"},  // does not fit the buffer: falls back to 0 instead of truncating
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.value);
    std::string out;
    AppendFixed(out, c.value, c.decimals);
    EXPECT_EQ(out, c.text);
  }
}

}  // namespace
}  // namespace sluice
