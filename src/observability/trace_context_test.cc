// Tests of W3C Trace Context: the traceparent table (the spec's own samples and every
// malformed variant), formatting round trips, tracestate validation and id generation.
#include "observability/trace_context.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>

namespace sluice {
namespace {

constexpr std::string_view kSpecSample = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

struct TraceparentCase {
  std::string header;
  bool valid;
  bool sampled = false;
};

TEST(Traceparent, ParsesTheSpecSample) {
  TraceParent parent;
  ASSERT_TRUE(ParseTraceparent(kSpecSample, parent));
  EXPECT_EQ(ToHex(parent.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(ToHex(parent.parent_id), "00f067aa0ba902b7");
  EXPECT_TRUE(parent.sampled);
  EXPECT_EQ(parent.trace_id.bytes[0], 0x4b);
  EXPECT_EQ(parent.trace_id.bytes[15], 0x36);
  EXPECT_EQ(parent.parent_id.bytes[1], 0xf0);
}

TEST(Traceparent, Table) {
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string span = "00f067aa0ba902b7";
  const std::string base = "-" + trace + "-" + span + "-";
  const std::vector<TraceparentCase> cases = {
      // Valid: the spec's samples, flags other than bit 0 ignored.
      {"00" + base + "01", true, true},
      {"00" + base + "00", true, false},
      {"00" + base + "09", true, true},
      {"00" + base + "02", true, false},
      {"00" + base + "ff", true, true},
      // Future versions: the version-00 prefix, then '-' or the end.
      {"cc" + base + "01", true, true},
      {"cc" + base + "01-what-the-future-will-be-like", true, true},
      {"01" + base + "00-", true, false},
      {"fe" + base + "01-x", true, true},
      // Length.
      {"", false},
      {"00", false},
      {("00" + base + "01").substr(0, 54), false},
      {"00" + base + "01 ", false},
      {"00" + base + "01-", false},
      {"00" + base + "010", false},
      {"cc" + base + "01x", false},
      {"cc" + base + "0", false},
      // Version.
      {"ff" + base + "01", false},
      {"ff" + base + "01-future", false},
      {"0A" + base + "01", false},
      {"0g" + base + "01", false},
      {"-0" + base + "01", false},
      // Uppercase or non-hex anywhere.
      {"00-4BF92F3577B34DA6A3CE929D0E0E4736-" + span + "-01", false},
      {"00-" + trace + "-00F067AA0BA902B7-01", false},
      {"00" + base + "0A", false},
      {"00-4bf92f3577b34da6a3ce929d0e0e473g-" + span + "-01", false},
      {"00-" + trace + "-00f067aa0ba902bz-01", false},
      {"00" + base + "xx", false},
      {"00" + base + " 1", false},
      // All-zero ids.
      {"00-00000000000000000000000000000000-" + span + "-01", false},
      {"00-" + trace + "-0000000000000000-01", false},
      // Separators.
      {"00_" + trace + "-" + span + "-01", false},
      {"00-" + trace + "_" + span + "-01", false},
      {"00-" + trace + "-" + span + "_01", false},
      {"00-" + trace + "-" + span + "001", false},
      {"00--" + trace + span + "-01", false},
      // Ids of the wrong length shifting the separators.
      {"00-" + trace + "0-" + span.substr(1) + "-01", false},
      {"00-" + trace.substr(1) + "-" + span + "0-01", false},
  };
  for (const TraceparentCase& c : cases) {
    TraceParent parent;
    bool ok = ParseTraceparent(c.header, parent);
    EXPECT_EQ(ok, c.valid) << "'" << c.header << "'";
    if (ok && c.valid) {
      EXPECT_EQ(parent.sampled, c.sampled) << c.header;
      EXPECT_EQ(ToHex(parent.trace_id), trace) << c.header;
      EXPECT_EQ(ToHex(parent.parent_id), span) << c.header;
    }
  }
}

TEST(Traceparent, FormatRoundTripsAndAppendsWithoutAllocating) {
  TraceParent parsed;
  ASSERT_TRUE(ParseTraceparent(kSpecSample, parsed));
  std::string out = "traceparent: ";
  out.reserve(out.size() + kTraceparentLength);
  const char* data = out.data();
  size_t capacity = out.capacity();
  FormatTraceparent(parsed.trace_id, parsed.parent_id, true, out);
  EXPECT_EQ(out, "traceparent: " + std::string(kSpecSample));
  EXPECT_EQ(out.data(), data);
  EXPECT_EQ(out.capacity(), capacity);

  IdGenerator ids(42);
  for (int i = 0; i < 1000; ++i) {
    TraceId trace = ids.NewTraceId();
    SpanId span = ids.NewSpanId();
    bool sampled = i % 2 == 0;
    std::string header;
    FormatTraceparent(trace, span, sampled, header);
    ASSERT_EQ(header.size(), kTraceparentLength);
    EXPECT_EQ(header.substr(0, 3), "00-");
    EXPECT_EQ(header.substr(53), sampled ? "01" : "00");
    TraceParent back;
    ASSERT_TRUE(ParseTraceparent(header, back)) << header;
    EXPECT_EQ(back.trace_id, trace);
    EXPECT_EQ(back.parent_id, span);
    EXPECT_EQ(back.sampled, sampled);
  }
}

TEST(TraceIds, HexAndValidity) {
  TraceId trace;
  SpanId span;
  EXPECT_FALSE(trace.valid());
  EXPECT_FALSE(span.valid());
  EXPECT_EQ(ToHex(trace), std::string(32, '0'));
  EXPECT_EQ(ToHex(span), std::string(16, '0'));
  trace.bytes[15] = 0xab;
  span.bytes[0] = 0x0c;
  EXPECT_TRUE(trace.valid());
  EXPECT_TRUE(span.valid());
  EXPECT_EQ(ToHex(trace), std::string(30, '0') + "ab");
  EXPECT_EQ(ToHex(span), "0c" + std::string(14, '0'));
  std::string appended = "x";
  AppendHex(appended, span);
  EXPECT_EQ(appended, "x0c" + std::string(14, '0'));
  EXPECT_NE(trace, TraceId{});
  EXPECT_EQ(span, span);
}

TEST(IdGenerator, IdsAreValidUniqueAndReproducibleFromASeed) {
  IdGenerator a(7);
  IdGenerator b(7);
  std::set<std::string> traces;
  std::set<std::string> spans;
  for (int i = 0; i < 10000; ++i) {
    TraceId trace = a.NewTraceId();
    SpanId span = a.NewSpanId();
    ASSERT_TRUE(trace.valid());
    ASSERT_TRUE(span.valid());
    EXPECT_EQ(trace, b.NewTraceId());
    EXPECT_EQ(span, b.NewSpanId());
    traces.insert(ToHex(trace));
    spans.insert(ToHex(span));
  }
  EXPECT_EQ(traces.size(), 10000u);
  EXPECT_EQ(spans.size(), 10000u);
}

TEST(IdGenerator, EachThreadHasItsOwnSeededGenerator) {
  TraceId here = ThreadIds().NewTraceId();
  TraceId there;
  IdGenerator* there_generator = nullptr;
  std::thread thread([&] {
    there = ThreadIds().NewTraceId();
    there_generator = &ThreadIds();
  });
  thread.join();
  EXPECT_NE(&ThreadIds(), there_generator);
  EXPECT_TRUE(here.valid());
  EXPECT_TRUE(there.valid());
  EXPECT_NE(here, there);
}

TEST(Tracestate, Table) {
  std::string members32;
  for (int i = 0; i < 32; ++i) members32 += (i ? "," : "") + ("k" + std::to_string(i)) + "=v";
  std::string members33 = members32 + ",k32=v";
  std::string long_values =
      "a=" + std::string(200, 'x') + ",b=" + std::string(200, 'y') + ",c=" + std::string(200, 'z');
  const std::vector<std::pair<std::string, bool>> cases = {
      {"rojo=00f067aa0ba902b7", true},
      {"congo=t61rcWkgMzE", true},
      {"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", true},
      {"rojo=1 , congo=2", true},
      {"\trojo=1\t,\tcongo=2 ", true},
      {"a=1,,b=2", true},
      {"a=1,", true},
      {"tenant@vendor=x", true},
      {"1tenant@vendor=x", true},
      {"a_b-c*d/e0=v", true},
      {"k=a b", true},
      {"k=!\"#$%&'()*+-./:;<>?@[\\]^_`{|}~", true},
      {"k=" + std::string(256, 'v'), true},
      {std::string("a") + std::string(255, 'b') + "=v", true},
      {members32, true},
      {"", false},
      {" ", false},
      {",", false},
      {" , ", false},
      {"Rojo=1", false},
      {"1abc=2", false},
      {"_a=1", false},
      {"k=", false},
      {"=v", false},
      {"k", false},
      {"k=v,b", false},
      {"k==v", false},
      {"k=v=", false},
      {"k=v,w", false},
      {"k=v\x01", false},
      {"k=\x7f", false},
      {"k=\xc3\xa9", false},
      {"a=1,a=2", false},
      {"a=1,b=2,a=3", false},
      {"t@=1", false},
      {"@v=1", false},
      {"t@Vendor=1", false},
      {"t@1vendor=1", false},
      {"t@abcdefghijklmno=1", false},
      {"_t@v=1", false},
      {"k=" + std::string(257, 'v'), false},
      {std::string("a") + std::string(256, 'b') + "=v", false},
      {members33, false},
      {long_values, false},
  };
  for (const auto& [header, valid] : cases) {
    EXPECT_EQ(ValidTracestate(header), valid) << "'" << header << "'";
  }
  EXPECT_LE(members32.size(), kMaxTracestateLength);
  EXPECT_GT(long_values.size(), kMaxTracestateLength);
}

}  // namespace
}  // namespace sluice
