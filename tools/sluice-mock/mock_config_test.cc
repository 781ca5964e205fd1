// Tests of the per-request "mock" overrides, flag resolution and listen-address parsing
// (mock_config.h). Single-threaded.
#include "mock_config.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "mock_text.h"

namespace sluice {
namespace {

TEST(MockConfigTest, ParsesEveryOverride) {
  auto mock = boost::json::parse(
      R"({"tokens":64,"ttft_ms":5,"itl_ms":20,"jitter_ms":2,"latency_ms":7,"status":503,
          "reset_after":3,"response_bytes":1400,"future_field":true})");
  RequestOverrides o;
  std::string message, param;
  ASSERT_TRUE(ParseOverrides(&mock, o, message, param)) << message;
  EXPECT_EQ(o.tokens, 64);
  EXPECT_EQ(o.ttft_ms, 5);
  EXPECT_EQ(o.itl_ms, 20);
  EXPECT_EQ(o.jitter_ms, 2);
  EXPECT_EQ(o.latency_ms, 7);
  EXPECT_EQ(o.status, 503);
  EXPECT_EQ(o.reset_after, 3);
  EXPECT_EQ(o.response_bytes, 1400);
}

TEST(MockConfigTest, AbsentOrNullMeansNoOverride) {
  RequestOverrides o;
  std::string message, param;
  ASSERT_TRUE(ParseOverrides(nullptr, o, message, param));
  EXPECT_FALSE(o.tokens.has_value());
  auto null_value = boost::json::parse("null");
  ASSERT_TRUE(ParseOverrides(&null_value, o, message, param));
  auto partial = boost::json::parse(R"({"tokens":null,"itl_ms":1})");
  ASSERT_TRUE(ParseOverrides(&partial, o, message, param));
  EXPECT_FALSE(o.tokens.has_value());
  EXPECT_EQ(o.itl_ms, 1);
}

TEST(MockConfigTest, RejectsBadOverridesNamingTheField) {
  struct Case {
    const char* json;
    const char* param;
  };
  for (Case c : {Case{R"([1])", "mock"}, Case{R"({"tokens":-1})", "mock.tokens"},
                 Case{R"({"tokens":"5"})", "mock.tokens"}, Case{R"({"itl_ms":1.5})", "mock.itl_ms"},
                 Case{R"({"status":200})", "mock.status"}, Case{R"({"status":600})", "mock.status"},
                 Case{R"({"ttft_ms":18446744073709551615})", "mock.ttft_ms"}}) {
    auto mock = boost::json::parse(c.json);
    RequestOverrides o;
    std::string message, param;
    EXPECT_FALSE(ParseOverrides(&mock, o, message, param)) << c.json;
    EXPECT_EQ(param, c.param) << c.json;
    EXPECT_FALSE(message.empty());
  }
}

TEST(MockConfigTest, ResolvePrefersOverridesOverFlags) {
  MockConfig config;
  config.tokens = 16;
  config.itl_ms = 9;
  config.latency_ms = 3;
  RequestOverrides o;
  o.tokens = 4;
  o.latency_ms = 0;
  Effective e = Resolve(config, o, /*stream=*/true);
  EXPECT_EQ(e.tokens, 4);
  EXPECT_EQ(e.itl_ms, 9);
  EXPECT_EQ(e.latency_ms, 0);
}

TEST(MockConfigTest, TokenCountComesFromTheMostSpecificSource) {
  MockConfig config;
  config.tokens = 16;
  RequestOverrides none;
  EXPECT_EQ(Resolve(config, none, false).tokens, 16);
  config.response_bytes = 1000;  // the flag shapes non-stream replies only
  EXPECT_EQ(Resolve(config, none, false).tokens, TokensForBytes(1000));
  EXPECT_EQ(Resolve(config, none, true).tokens, 16);
  RequestOverrides tokens;
  tokens.tokens = 64;
  EXPECT_EQ(Resolve(config, tokens, false).tokens, 64);
  EXPECT_EQ(Resolve(config, tokens, true).tokens, 64);
  RequestOverrides bytes = tokens;
  bytes.response_bytes = 300;  // beats mock.tokens, for streams too
  EXPECT_EQ(Resolve(config, bytes, false).tokens, TokensForBytes(300));
  EXPECT_EQ(Resolve(config, bytes, true).tokens, TokensForBytes(300));
}

TEST(MockConfigTest, SplitsHostAndPort) {
  std::string host;
  uint16_t port = 0;
  ASSERT_TRUE(SplitHostPort("127.0.0.1:8081", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8081);
  ASSERT_TRUE(SplitHostPort("[::1]:0", host, port));
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(SplitHostPort("localhost:80", host, port));
  EXPECT_EQ(host, "localhost");
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", ":80", "::1:80", "h:65536", "h:8x"}) {
    EXPECT_FALSE(SplitHostPort(bad, host, port)) << bad;
  }
}

}  // namespace
}  // namespace sluice
