// Tests of the configuration value formats: durations, sizes, listen addresses and ${ENV}
// interpolation. Each table is the spec of its format.
#include "config/units.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

namespace sluice {
namespace {

using std::chrono::milliseconds;

TEST(Units, Durations) {
  const struct {
    const char* text;
    std::optional<int64_t> ms;
  } kCases[] = {
      {"250ms", 250},
      {"10s", 10'000},
      {"2m", 120'000},
      {"1h", 3'600'000},
      {"1.5s", 1'500},
      {"0s", 0},
      {"0ms", 0},
      {"10 s", 10'000},
      {"120s", 120'000},
      {"999999999s", 999'999'999'000},
      {"", std::nullopt},
      {"10", std::nullopt},  // a unit is required
      {"s", std::nullopt},
      {"-1s", std::nullopt},
      {"+1s", std::nullopt},
      {"10sec", std::nullopt},
      {"10S", std::nullopt},
      {"1d", 86'400'000},
      {"7d", 604'800'000},
      {"1e3s", std::nullopt},
      {"1..5s", std::nullopt},
      {"ten s", std::nullopt},
      {"10s ", std::nullopt},
      {"99999999999h", std::nullopt},  // beyond the 1e12 ms cap
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.text);
    std::optional<milliseconds> parsed = ParseDuration(c.text);
    ASSERT_EQ(parsed.has_value(), c.ms.has_value());
    if (c.ms) {
      EXPECT_EQ(parsed->count(), *c.ms);
    }
  }
}

TEST(Units, Sizes) {
  const struct {
    const char* text;
    std::optional<uint64_t> bytes;
  } kCases[] = {
      {"0", 0},
      {"512", 512},
      {"512B", 512},
      {"64KiB", 64 * 1024},
      {"10MiB", 10 * 1024 * 1024},
      {"1GiB", 1024ull * 1024 * 1024},
      {"1.5KiB", 1536},
      {"1KB", 1000},
      {"1kB", 1000},
      {"2MB", 2'000'000},
      {"1GB", 1'000'000'000},
      {"8 KiB", 8192},
      {"", std::nullopt},
      {"KiB", std::nullopt},
      {"-1", std::nullopt},
      {"10kb", std::nullopt},
      {"10KiBs", std::nullopt},
      {"2PB", std::nullopt},
      {"1e3", std::nullopt},
      {"0x10", std::nullopt},
      {"2000000GB", std::nullopt},  // beyond the 1e15 cap
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.text);
    std::optional<uint64_t> parsed = ParseSize(c.text);
    ASSERT_EQ(parsed.has_value(), c.bytes.has_value());
    if (c.bytes) {
      EXPECT_EQ(*parsed, *c.bytes);
    }
  }
}

TEST(Units, ListenAddresses) {
  const struct {
    const char* text;
    bool ok;
    const char* host;
    uint16_t port;
  } kCases[] = {
      {"127.0.0.1:8080", true, "127.0.0.1", 8080},
      {"0.0.0.0:0", true, "0.0.0.0", 0},
      {":8080", true, "0.0.0.0", 8080},
      {"10.1.2.3:65535", true, "10.1.2.3", 65535},
      {"[::1]:0", true, "::1", 0},
      {"[::]:8080", true, "::", 8080},
      {"[2001:db8::1]:443", true, "2001:db8::1", 443},
      {"localhost:8080", false, "", 0},  // numeric addresses only
      {"127.0.0.1", false, "", 0},
      {"127.0.0.1:", false, "", 0},
      {"127.0.0.1:65536", false, "", 0},
      {"127.0.0.1:-1", false, "", 0},
      {"127.0.0.1:+80", false, "", 0},
      {"127.0.0.1:80x", false, "", 0},
      {"256.0.0.1:80", false, "", 0},
      {"[::1]", false, "", 0},
      {"[::1]8080", false, "", 0},
      {"[::1:8080", false, "", 0},
      {"[]:80", false, "", 0},   // empty brackets are not "any address"
      {"::1:80", false, "", 0},  // IPv6 needs brackets
      {"::80", false, "", 0},
      {"", false, "", 0},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.text);
    std::optional<ListenAddress> parsed = ParseListenAddress(c.text);
    ASSERT_EQ(parsed.has_value(), c.ok);
    if (c.ok) {
      EXPECT_EQ(parsed->host, c.host);
      EXPECT_EQ(parsed->port, c.port);
    }
  }
}

class InterpolateEnvTest : public testing::Test {
 protected:
  void SetUp() override {
    setenv("SLUICE_UT_A", "alpha", 1);
    setenv("SLUICE_UT_EMPTY", "", 1);
    unsetenv("SLUICE_UT_UNSET");
  }
  void TearDown() override {
    unsetenv("SLUICE_UT_A");
    unsetenv("SLUICE_UT_EMPTY");
  }
};

TEST_F(InterpolateEnvTest, Substitutions) {
  const struct {
    const char* text;
    const char* expected;
  } kCases[] = {
      {"plain", "plain"},
      {"", ""},
      {"${SLUICE_UT_A}", "alpha"},
      {"x-${SLUICE_UT_A}-${SLUICE_UT_A}", "x-alpha-alpha"},
      {"${SLUICE_UT_UNSET:-fallback}", "fallback"},
      {"${SLUICE_UT_A:-fallback}", "alpha"},
      {"${SLUICE_UT_EMPTY:-fallback}", "fallback"},  // empty counts as unset
      {"${SLUICE_UT_UNSET:-}", ""},
      {"${SLUICE_UT_UNSET:-a:b-c}", "a:b-c"},
      {"$$", "$"},
      {"$${SLUICE_UT_A}", "${SLUICE_UT_A}"},
      {"$$$${SLUICE_UT_A}", "$${SLUICE_UT_A}"},
      {"price $5", "price $5"},
      {"a$", "a$"},
      {"$SLUICE_UT_A", "$SLUICE_UT_A"},  // only the braced form is a reference
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.text);
    std::string out = "stale";
    std::string error;
    ASSERT_TRUE(InterpolateEnv(c.text, out, error)) << error;
    EXPECT_EQ(out, c.expected);
  }
}

TEST_F(InterpolateEnvTest, Errors) {
  const struct {
    const char* text;
    const char* message_part;
  } kCases[] = {
      {"${SLUICE_UT_UNSET}", "SLUICE_UT_UNSET is not set"},
      {"key-${SLUICE_UT_EMPTY}", "SLUICE_UT_EMPTY is not set"},
      {"${SLUICE_UT_A", "unterminated"},
      {"${1BAD}", "invalid environment variable name"},
      {"${BAD-NAME}", "invalid environment variable name"},
      {"${}", "invalid environment variable name"},
      {"${:-x}", "invalid environment variable name"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.text);
    std::string out;
    std::string error;
    EXPECT_FALSE(InterpolateEnv(c.text, out, error));
    EXPECT_NE(error.find(c.message_part), std::string::npos) << error;
  }
}

}  // namespace
}  // namespace sluice
