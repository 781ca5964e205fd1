// Tests of the compact JSON writer: every document survives a parse → write → parse round
// trip unchanged (kinds included), and the text is what a compact serialiser would emit.
#include "core/json_writer.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <limits>

namespace sluice {
namespace {

std::string Write(const boost::json::value& v) {
  std::string out;
  AppendJsonValue(out, v);
  return out;
}

TEST(JsonWriter, RoundTripsDocumentsExactly) {
  const char* kDocs[] = {
      R"({"model":"m","messages":[{"role":"user","content":"hi \"there\"\n\ttab \\ slash"}]})",
      R"({"a":[1,-2,3.5,0.1,1e-7,1e+300,-0.0,true,false,null,{},[]]})",
      R"({"big":9223372036854775807,"min":-9223372036854775808,"u":18446744073709551615})",
      R"({"one":1.0,"t":0.7,"x":123456789.123})",
      R"({"unicode":"héllo wörld ✓ 😀","ctl":"\u0001\u001f","del":"\u007f"})",
      R"({"nested":{"a":{"b":{"c":[[[1]]]}}}})",
      R"({"":"empty key","k":""})",
  };
  for (const char* doc : kDocs) {
    SCOPED_TRACE(doc);
    boost::json::value parsed = boost::json::parse(doc);
    std::string text = Write(parsed);
    boost::json::value again = boost::json::parse(text);
    EXPECT_EQ(again, parsed) << text;
    // Same kinds (an integer stays an integer, a double a double).
    EXPECT_EQ(Write(again), text);
  }
}

TEST(JsonWriter, CompactTextMatchesBoostForIntegersStringsAndStructure) {
  boost::json::value v =
      boost::json::parse(R"({"model":"m","n":2,"stream":true,"stop":["a","b"],"meta":{"k":null}})");
  EXPECT_EQ(Write(v), boost::json::serialize(v));
}

TEST(JsonWriter, DoublesKeepTheirKindAndShortestForm) {
  EXPECT_EQ(Write(boost::json::value(1.0)), "1.0");
  EXPECT_EQ(Write(boost::json::value(0.5)), "0.5");
  EXPECT_EQ(Write(boost::json::value(0.1)), "0.1");
  EXPECT_EQ(Write(boost::json::value(1e21)), "1e+21");
  EXPECT_EQ(Write(boost::json::value(std::numeric_limits<double>::infinity())), "null");
  EXPECT_EQ(Write(boost::json::value(std::nan(""))), "null");
}

TEST(JsonWriter, EscapesControlCharactersAndReplacesInvalidUtf8) {
  boost::json::value v = boost::json::string(
      "a\x01"
      "b\xff"
      "c");
  EXPECT_EQ(Write(v),
            "\"a\\u0001b\xEF\xBF\xBD"
            "c\"");
}

}  // namespace
}  // namespace sluice
