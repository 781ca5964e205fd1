// Tests of HeaderBlock (the response headers filters may change) and of the HTTP vocabulary
// helpers (methods, case-insensitive header lookups).
#include "core/response_head.h"

#include <gtest/gtest.h>

#include <string>

#include "core/http_types.h"

namespace sluice {
namespace {

TEST(HeaderBlock, AddGetSetRemove) {
  HeaderBlock h;
  EXPECT_TRUE(h.empty());
  h.Add("X-A", "1");
  h.Add("X-B", "two words");
  h.Add("x-a", "3");
  EXPECT_EQ(h.wire(), "X-A: 1\r\nX-B: two words\r\nx-a: 3\r\n");
  EXPECT_EQ(h.Get("x-a"), "1");  // first match, case-insensitive
  EXPECT_EQ(h.Get("X-B"), "two words");
  EXPECT_EQ(h.Get("X-C"), "");
  h.Set("X-A", "only");
  EXPECT_EQ(h.wire(), "X-B: two words\r\nX-A: only\r\n");
  h.Remove("x-b");
  EXPECT_EQ(h.wire(), "X-A: only\r\n");
  h.Remove("missing");
  EXPECT_EQ(h.wire(), "X-A: only\r\n");
  h.Clear();
  EXPECT_TRUE(h.empty());
}

TEST(HeaderBlock, PrefixIsNotAMatch) {
  HeaderBlock h;
  h.Add("X-Request-Id-Extra", "a");
  h.Add("X-Request-Id", "b");
  EXPECT_EQ(h.Get("X-Request-Id"), "b");
  EXPECT_EQ(h.Get("X-Request"), "");
  h.Remove("X-Request-Id");
  EXPECT_EQ(h.wire(), "X-Request-Id-Extra: a\r\n");
}

TEST(HeaderBlock, EmptyValueAndColonInValue) {
  HeaderBlock h;
  h.Add("X-Empty", "");
  h.Add("Link", "<https://x>; rel=a");
  EXPECT_EQ(h.Get("X-Empty"), "");
  EXPECT_EQ(h.Get("link"), "<https://x>; rel=a");
  h.Remove("X-Empty");
  EXPECT_EQ(h.wire(), "Link: <https://x>; rel=a\r\n");
}

TEST(HeaderBlock, CompileTimeNamesCheckOnlyTheValue) {
  HeaderBlock h;
  h.Add(HeaderName("x-ratelimit-limit-requests"), "100");
  h.Add(HeaderName("X-A"), "v\r\nSet-Cookie: evil=1");  // the value is still checked
  h.Add(HeaderName("X-B"), "");
  h.Add(HeaderName("retry-after-ms"), int64_t{-1500});
  EXPECT_EQ(h.wire(), "x-ratelimit-limit-requests: 100\r\nX-B: \r\nretry-after-ms: -1500\r\n");
  static_assert(HeaderName("traceparent").view() == "traceparent");
  // HeaderName("X A") or HeaderName("") does not compile (consteval).
}

TEST(HeaderBlock, LongLinesAndGrowth) {
  HeaderBlock h;
  std::string long_value(5000, 'v');  // longer than the line assembled on the stack
  h.Add("X-Long", long_value);
  h.Add(HeaderName("X-Short"), "1");
  for (int i = 0; i < 100; ++i) h.Add("X-N", std::to_string(i));
  EXPECT_EQ(h.Get("x-long"), long_value);
  EXPECT_EQ(h.Get("x-short"), "1");
  EXPECT_EQ(h.wire().size(),
            6 + 2 + 5000 + 2 + 7 + 2 + 1 + 2 + 100 * (3 + 2 + 2) + 10 * 1 + 90 * 2);
  EXPECT_TRUE(h.wire().ends_with("X-N: 99\r\n"));
}

TEST(HeaderBlock, LineBreakInjectionIsDropped) {
  const struct {
    const char* name;
    const char* value;
  } kCases[] = {
      {"X-A", "v\r\nSet-Cookie: evil=1"},
      {"X-A", "v\nSet-Cookie: evil=1"},
      {"X-A", "v\r"},
      {"X-A\r\nSet-Cookie", "evil"},
      {"X-A\n", "v"},
      {"", "v"},
      {"X-A: b", "v"},  // a colon in the name would forge another field
      {"X A", "v"},
      {"X-\x01", "v"},
  };
  for (const auto& c : kCases) {
    HeaderBlock h;
    h.Add(c.name, c.value);
    EXPECT_TRUE(h.empty()) << testing::PrintToString(std::string(c.name)) << " "
                           << testing::PrintToString(std::string(c.value));
    h.Set(c.name, c.value);
    EXPECT_TRUE(h.empty());
  }
  // A line break anywhere in a long value: in an eight-byte step or in the tail.
  for (size_t at : {0, 7, 8, 31, 50, 54}) {
    for (char c : {'\r', '\n'}) {
      std::string value(55, 'a');
      value[at] = c;
      HeaderBlock h;
      h.Add(HeaderName("traceparent"), value);
      h.Add("traceparent", value);
      EXPECT_TRUE(h.empty()) << at;
    }
  }
  HeaderBlock kept;
  kept.Add("X-Ok", "1");
  kept.Set("X-Ok", "2\r\nX-Evil: 1");  // removes the old field, refuses the new one
  EXPECT_EQ(kept.wire(), "");
}

TEST(ResponseHead, Reset) {
  ResponseHead head;
  head.status = 502;
  head.content_type = "text/plain";
  head.headers.Add("X", "y");
  head.Reset();
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.content_type.empty());
  EXPECT_TRUE(head.headers.empty());
}

TEST(HttpTypes, Methods) {
  const struct {
    const char* text;
    Method method;
  } kCases[] = {{"GET", Method::kGet},       {"HEAD", Method::kHead},
                {"POST", Method::kPost},     {"PUT", Method::kPut},
                {"DELETE", Method::kDelete}, {"OPTIONS", Method::kOptions},
                {"PATCH", Method::kPatch},   {"get", Method::kOther},
                {"CONNECT", Method::kOther}, {"", Method::kOther}};
  for (const auto& c : kCases) {
    EXPECT_EQ(ParseMethod(c.text), c.method) << c.text;
    if (c.method != Method::kOther) {
      EXPECT_EQ(MethodName(c.method), c.text);
    }
  }
  EXPECT_EQ(MethodName(Method::kOther), "OTHER");
}

TEST(HttpTypes, EqualsIgnoreCase) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Length", "content-length"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("a", "ab"));
  // Only letters fold: '@' (0x40) and '`' (0x60) differ by 0x20 but are not letters.
  EXPECT_FALSE(EqualsIgnoreCase("@", "`"));
  EXPECT_FALSE(EqualsIgnoreCase("[", "{"));
  EXPECT_FALSE(EqualsIgnoreCase("\xC9", "\xE9"));
}

TEST(HttpTypes, HeaderListLookups) {
  HeaderList list;
  list.Add("Host", "a");
  list.Add("X-Tag", "1");
  list.Add("x-tag", "2");
  EXPECT_EQ(list.Get("HOST"), "a");
  EXPECT_EQ(list.Get("x-TAG"), "1");
  EXPECT_TRUE(list.Has("x-tag"));
  EXPECT_FALSE(list.Has("x-ta"));
  EXPECT_EQ(list.Count("X-Tag"), 2);
  EXPECT_EQ(list.Count("missing"), 0);
  list.Clear();
  EXPECT_EQ(list.size(), 0u);
}

TEST(HttpTypes, RequestReset) {
  HttpRequest r;
  r.method = Method::kPost;
  r.path = "/x";
  r.headers.Add("a", "b");
  r.keep_alive = false;
  r.chunked = true;
  r.content_length = 5;
  r.minor_version = 0;
  r.Reset();
  EXPECT_EQ(r.method, Method::kOther);
  EXPECT_TRUE(r.path.empty());
  EXPECT_EQ(r.headers.size(), 0u);
  EXPECT_TRUE(r.keep_alive);
  EXPECT_FALSE(r.chunked);
  EXPECT_EQ(r.content_length, 0u);
  EXPECT_EQ(r.minor_version, 1);
}

}  // namespace
}  // namespace sluice
