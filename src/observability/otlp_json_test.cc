// Tests of the OTLP/HTTP JSON encoding: the output is decoded with boost::json and every
// field name and value the protocol's JSON mapping prescribes is checked.
#include "observability/otlp_json.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <limits>

namespace sluice {
namespace {

namespace json = boost::json;

SpanRecord ServerSpan() {
  SpanRecord span;
  IdGenerator ids(9);
  span.trace_id = ids.NewTraceId();
  span.span_id = ids.NewSpanId();
  span.name = "POST /v1/chat/completions";
  span.kind = SpanKind::kServer;
  span.start_unix_nanos = 1700000000123456789;
  span.end_unix_nanos = 1700000000223456789;
  span.Add("http.request.method", "POST");
  span.Add("http.response.status_code", 200);
  span.Add("gen_ai.usage.input_tokens", size_t{9007199254740993});  // beyond a double
  span.Add("sluice.overhead_ms", 0.25);
  span.Add("sluice.stream", true);
  span.Add("quote", std::string("a\"b\n"));
  return span;
}

const json::object& Attribute(const json::array& attributes, std::string_view key) {
  for (const json::value& item : attributes) {
    if (item.at("key").as_string() == key) return item.at("value").as_object();
  }
  static const json::object kMissing;
  ADD_FAILURE() << "no attribute " << key;
  return kMissing;
}

TEST(OtlpJson, EncodesTheExportTraceServiceRequestShape) {
  SpanRecord server = ServerSpan();
  SpanRecord client;
  client.trace_id = server.trace_id;
  client.span_id = IdGenerator(10).NewSpanId();
  client.parent_span_id = server.span_id;
  client.name = "chat gpt-4o";
  client.kind = SpanKind::kClient;
  client.start_unix_nanos = 1700000000130000000;
  client.end_unix_nanos = 1700000000220000000;
  client.error = true;
  client.status_message = "upstream_timeout";
  std::vector<SpanRecord> spans = {server, client};
  std::vector<SpanAttribute> resource = {{"service.instance.id", std::string("gw-1")},
                                         {"host.cores", int64_t{8}}};

  std::string text = EncodeOtlpTraces(spans, "sluice-test", resource);
  boost::system::error_code ec;
  json::value root = json::parse(text, ec);
  ASSERT_FALSE(ec) << text;

  ASSERT_EQ(root.as_object().size(), 1u);
  const json::array& resource_spans = root.at("resourceSpans").as_array();
  ASSERT_EQ(resource_spans.size(), 1u);
  const json::array& resource_attributes =
      resource_spans[0].at("resource").at("attributes").as_array();
  ASSERT_EQ(resource_attributes.size(), 3u);
  EXPECT_EQ(resource_attributes[0].at("key").as_string(), "service.name");
  EXPECT_EQ(Attribute(resource_attributes, "service.name").at("stringValue").as_string(),
            "sluice-test");
  EXPECT_EQ(Attribute(resource_attributes, "service.instance.id").at("stringValue").as_string(),
            "gw-1");
  EXPECT_EQ(Attribute(resource_attributes, "host.cores").at("intValue").as_string(), "8");

  const json::array& scope_spans = resource_spans[0].at("scopeSpans").as_array();
  ASSERT_EQ(scope_spans.size(), 1u);
  EXPECT_EQ(scope_spans[0].at("scope").at("name").as_string(), "sluice");
  const json::array& encoded = scope_spans[0].at("spans").as_array();
  ASSERT_EQ(encoded.size(), 2u);

  const json::object& s = encoded[0].as_object();
  EXPECT_EQ(s.at("traceId").as_string(), ToHex(server.trace_id));
  EXPECT_EQ(s.at("spanId").as_string(), ToHex(server.span_id));
  EXPECT_FALSE(s.contains("parentSpanId"));  // a root span
  EXPECT_EQ(s.at("name").as_string(), "POST /v1/chat/completions");
  EXPECT_EQ(s.at("kind").as_int64(), 2);
  EXPECT_EQ(s.at("startTimeUnixNano").as_string(), "1700000000123456789");
  EXPECT_EQ(s.at("endTimeUnixNano").as_string(), "1700000000223456789");
  const json::array& attributes = s.at("attributes").as_array();
  ASSERT_EQ(attributes.size(), 6u);
  EXPECT_EQ(Attribute(attributes, "http.request.method").at("stringValue").as_string(), "POST");
  EXPECT_EQ(Attribute(attributes, "http.response.status_code").at("intValue").as_string(), "200");
  EXPECT_EQ(Attribute(attributes, "gen_ai.usage.input_tokens").at("intValue").as_string(),
            "9007199254740993");
  EXPECT_EQ(Attribute(attributes, "sluice.overhead_ms").at("doubleValue").as_double(), 0.25);
  EXPECT_EQ(Attribute(attributes, "sluice.stream").at("boolValue").as_bool(), true);
  EXPECT_EQ(Attribute(attributes, "quote").at("stringValue").as_string(), "a\"b\n");
  EXPECT_EQ(Attribute(attributes, "sluice.stream").size(), 1u);
  EXPECT_EQ(s.at("status").as_object().size(), 1u);
  EXPECT_EQ(s.at("status").at("code").as_int64(), 0);

  const json::object& c = encoded[1].as_object();
  EXPECT_EQ(c.at("traceId").as_string(), ToHex(server.trace_id));
  EXPECT_EQ(c.at("parentSpanId").as_string(), ToHex(server.span_id));
  EXPECT_EQ(c.at("kind").as_int64(), 3);
  EXPECT_TRUE(c.at("attributes").as_array().empty());
  EXPECT_EQ(c.at("status").at("code").as_int64(), 2);
  EXPECT_EQ(c.at("status").at("message").as_string(), "upstream_timeout");
}

TEST(OtlpJson, IdsAreLowercaseHexAndSpecialDoublesAreStrings) {
  SpanRecord span;
  span.trace_id.bytes.fill(0xAB);
  span.span_id.bytes.fill(0xCD);
  span.Add("nan", std::nan(""));
  span.Add("inf", std::numeric_limits<double>::infinity());
  span.Add("ninf", -std::numeric_limits<double>::infinity());
  span.start_unix_nanos = -5;  // a clock before 1970 is written as 0, never negative
  std::string text = EncodeOtlpTraces(std::span<const SpanRecord>(&span, 1), "s");
  json::value root = json::parse(text);
  const json::object& s =
      root.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").at(0).as_object();
  EXPECT_EQ(s.at("traceId").as_string(), "abababababababababababababababab");
  EXPECT_EQ(s.at("spanId").as_string(), "cdcdcdcdcdcdcdcd");
  EXPECT_EQ(s.at("kind").as_int64(), 1);
  EXPECT_EQ(s.at("startTimeUnixNano").as_string(), "0");
  const json::array& attributes = s.at("attributes").as_array();
  EXPECT_EQ(Attribute(attributes, "nan").at("doubleValue").as_string(), "NaN");
  EXPECT_EQ(Attribute(attributes, "inf").at("doubleValue").as_string(), "Infinity");
  EXPECT_EQ(Attribute(attributes, "ninf").at("doubleValue").as_string(), "-Infinity");
}

TEST(OtlpJson, NoSpansIsStillAValidRequest) {
  std::string text = EncodeOtlpTraces({}, "sluice");
  json::value root = json::parse(text);
  EXPECT_TRUE(root.at("resourceSpans").at(0).at("scopeSpans").at(0).at("spans").as_array().empty());
}

}  // namespace
}  // namespace sluice
