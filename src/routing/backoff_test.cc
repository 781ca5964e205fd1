// Tests of exponential backoff with full jitter (ceilings, the jitter's range and mean,
// deadline handling) and of the upstream retry hints (Retry-After in seconds and the three
// HTTP-date forms, retry-after-ms, OpenAI's x-ratelimit-reset-* durations, precedence).
#include "routing/backoff.h"

#include <gtest/gtest.h>

#include "routing/manual_clock.h"
#include "routing/retry_hint.h"

namespace sluice::routing {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(Backoff, CeilingDoublesUpToMax) {
  Backoff backoff({.base = milliseconds(100), .max = seconds(5)});
  const milliseconds expected[] = {milliseconds(100),  milliseconds(200),  milliseconds(400),
                                   milliseconds(800),  milliseconds(1600), milliseconds(3200),
                                   milliseconds(5000), milliseconds(5000)};
  for (uint32_t r = 0; r < std::size(expected); ++r) EXPECT_EQ(backoff.Ceiling(r), expected[r]);
  EXPECT_EQ(backoff.Ceiling(4'000'000'000u), seconds(5));
  EXPECT_EQ(Backoff({.base = Duration::zero()}).Ceiling(4'000'000'000u), Duration::zero());
}

TEST(Backoff, FullJitterCoversZeroToCeiling) {
  Backoff backoff({.base = milliseconds(100), .max = seconds(5)});
  Xoshiro256 random(11);
  Duration low = hours(1), high = Duration::zero(), sum = Duration::zero();
  for (int i = 0; i < 10'000; ++i) {
    const Duration d = backoff.Jittered(3, random);  // ceiling 800 ms
    ASSERT_GE(d, Duration::zero());
    ASSERT_LE(d, milliseconds(800));
    low = std::min(low, d);
    high = std::max(high, d);
    sum += d;
  }
  EXPECT_LT(low, milliseconds(10));
  EXPECT_GT(high, milliseconds(790));
  EXPECT_NEAR(ToMillis(sum / 10'000), 400, 20);  // uniform: mean = ceiling / 2
}

TEST(Backoff, DelayHonoursHintsAndTheDeadline) {
  Backoff backoff({.base = milliseconds(100), .max = seconds(1)});
  Xoshiro256 random(3);
  EXPECT_EQ(backoff.Delay(0, seconds(2), seconds(10), random), seconds(2));  // hint beats max
  EXPECT_EQ(backoff.Delay(0, seconds(10), seconds(10), random), std::nullopt);
  EXPECT_EQ(backoff.Delay(5, std::nullopt, Duration::zero(), random), std::nullopt);
  const auto jittered = backoff.Delay(2, std::nullopt, seconds(10), random);
  ASSERT_TRUE(jittered);
  EXPECT_LE(*jittered, milliseconds(400));
  EXPECT_EQ(backoff.Delay(0, Duration::zero(), seconds(1), random), Duration::zero());
}

TEST(RetryHint, RetryAfterSecondsAndDates) {
  ManualClock clock;
  const WallTime now = clock.WallNow();  // 2026-01-01 01:00:00 UTC, a Thursday
  EXPECT_EQ(ParseRetryAfter("120", now), seconds(120));
  EXPECT_EQ(ParseRetryAfter(" 3 ", now), seconds(3));
  EXPECT_EQ(ParseRetryAfter("0", now), Duration::zero());
  EXPECT_EQ(ParseRetryAfter("1.5", now), milliseconds(1500));
  EXPECT_EQ(ParseRetryAfter("99999999999999", now), kMaxRetryHint);
  EXPECT_EQ(ParseRetryAfter("Thu, 01 Jan 2026 01:00:30 GMT", now), seconds(30));
  EXPECT_EQ(ParseRetryAfter("Thursday, 01-Jan-26 01:02:00 GMT", now), minutes(2));
  EXPECT_EQ(ParseRetryAfter("Thu Jan  1 01:00:05 2026", now), seconds(5));
  EXPECT_EQ(ParseRetryAfter("Wed, 31 Dec 2025 23:00:00 GMT", now), Duration::zero());
  for (const char* bad :
       {"", "-1", "abc", "1e3", "12s", "1.", ".5", "Thu, 32 Jan 2026 01:00:30 GMT",
        "Thu, 01 Foo 2026 01:00:30 GMT", "Thu, 01 Jan 2026 25:00:30 GMT",
        "Thu, 01 Jan 2026 01:00:30 UTC", "Thu, 01 Jan 2026 01:00:30"}) {
    EXPECT_EQ(ParseRetryAfter(bad, now), std::nullopt) << bad;
  }
}

TEST(RetryHint, RetryAfterMs) {
  EXPECT_EQ(ParseRetryAfterMs("1500"), milliseconds(1500));
  EXPECT_EQ(ParseRetryAfterMs("20.5"), microseconds(20500));
  EXPECT_EQ(ParseRetryAfterMs("x"), std::nullopt);
  EXPECT_EQ(ParseRetryAfterMs("-5"), std::nullopt);
}

TEST(RetryHint, OpenAiResetDurations) {
  EXPECT_EQ(ParseResetDuration("1s"), seconds(1));
  EXPECT_EQ(ParseResetDuration("6m0s"), minutes(6));
  EXPECT_EQ(ParseResetDuration("20ms"), milliseconds(20));
  EXPECT_EQ(ParseResetDuration("1.5s"), milliseconds(1500));
  EXPECT_EQ(ParseResetDuration("2h30m"), minutes(150));
  EXPECT_EQ(ParseResetDuration("1m30.5s"), milliseconds(90'500));
  EXPECT_EQ(ParseResetDuration("0s"), Duration::zero());
  EXPECT_EQ(ParseResetDuration("100us"), microseconds(100));
  EXPECT_EQ(ParseResetDuration("7\xC2\xB5s"), microseconds(7));
  EXPECT_EQ(ParseResetDuration("900h"), kMaxRetryHint);
  for (const char* bad : {"", "5", "s", "1x", "1.s", "-1s", "1s 2s", "ms"}) {
    EXPECT_EQ(ParseResetDuration(bad), std::nullopt) << bad;
  }
}

TEST(RetryHint, ServerRetryHintPrecedence) {
  const WallTime now = ManualClock().WallNow();
  EXPECT_EQ(ServerRetryHint({}, now), std::nullopt);
  EXPECT_EQ(ServerRetryHint({.retry_after_ms = "250", .retry_after = "3"}, now), milliseconds(250));
  EXPECT_EQ(ServerRetryHint({.retry_after_ms = "junk", .retry_after = "3"}, now), seconds(3));
  EXPECT_EQ(ServerRetryHint({.retry_after = "2", .reset_requests = "20s"}, now), seconds(2));
  // Which limit ran out decides; without that, the shorter reset.
  const RetryHintHeaders tokens_out{.reset_requests = "1s",
                                    .reset_tokens = "6m0s",
                                    .remaining_requests = "59",
                                    .remaining_tokens = "0"};
  EXPECT_EQ(ServerRetryHint(tokens_out, now), minutes(6));
  const RetryHintHeaders requests_out{.reset_requests = "1s",
                                      .reset_tokens = "6m0s",
                                      .remaining_requests = "0",
                                      .remaining_tokens = "1000"};
  EXPECT_EQ(ServerRetryHint(requests_out, now), seconds(1));
  EXPECT_EQ(ServerRetryHint({.reset_requests = "1s", .reset_tokens = "6m0s"}, now), seconds(1));
  EXPECT_EQ(ServerRetryHint({.reset_tokens = "20ms"}, now), milliseconds(20));
}

}  // namespace
}  // namespace sluice::routing
