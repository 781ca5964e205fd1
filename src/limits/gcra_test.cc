// Boundary cases of the GCRA arithmetic (gcra.h): the table of numbers the Redis Lua script
// must reproduce.
#include "limits/gcra.h"

#include <gtest/gtest.h>

namespace sluice::limits {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kNow = 1'790'000'000 * kSecond;  // late 2026

TEST(GcraTest, EmissionIntervalRoundsUp) {
  EXPECT_EQ(EmissionIntervalUs(100, kMinute), 600'000);
  EXPECT_EQ(EmissionIntervalUs(1000, kSecond), 1000);
  EXPECT_EQ(EmissionIntervalUs(7, kMinute), 8'571'429);  // 8571428.57 rounded up
  EXPECT_EQ(EmissionIntervalUs(3'000'000, kSecond), 1);  // clamped to 1 unit per µs
  EXPECT_EQ(EmissionIntervalUs(0, kSecond), kSecond);    // nonsense limits do not divide by 0
}

TEST(GcraTest, BurstPassesAtOnceThenRefusesWithRetryAfter) {
  const GcraParams p = MakeGcraParams(100, kMinute, 100);  // T = 600 ms
  int64_t tat = 0;
  for (int i = 1; i <= 100; ++i) {
    const GcraResult r = GcraCharge(tat, kNow, 1, p);
    ASSERT_TRUE(r.allowed) << i;
    EXPECT_EQ(r.remaining, 100 - i);
    EXPECT_EQ(r.reset_us, i * 600'000);
    tat = r.new_tat;
  }
  EXPECT_EQ(tat, kNow + kMinute);
  const GcraResult refused = GcraCharge(tat, kNow, 1, p);
  EXPECT_FALSE(refused.allowed);
  EXPECT_FALSE(refused.never_passes);
  EXPECT_EQ(refused.new_tat, tat);  // nothing changes
  EXPECT_EQ(refused.retry_after_us, 600'000);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.reset_us, kMinute);
  // One microsecond early is still refused; exactly at retry_after it passes.
  EXPECT_FALSE(GcraCharge(tat, kNow + 599'999, 1, p).allowed);
  EXPECT_EQ(GcraCharge(tat, kNow + 599'999, 1, p).retry_after_us, 1);
  const GcraResult later = GcraCharge(tat, kNow + 600'000, 1, p);
  EXPECT_TRUE(later.allowed);
  EXPECT_EQ(later.remaining, 0);
}

TEST(GcraTest, QuantityChargesAndExactCapacity) {
  const GcraParams p = MakeGcraParams(1000, kMinute, 1000);  // tokens: T = 60 ms
  GcraResult r = GcraCharge(0, kNow, 1000, p);               // exactly the capacity
  ASSERT_TRUE(r.allowed);
  EXPECT_EQ(r.remaining, 0);
  EXPECT_EQ(r.reset_us, kMinute);
  r = GcraCharge(r.new_tat, kNow + 30 * kSecond, 600, p);  // 500 back, 600 asked
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.retry_after_us, 100 * 60'000);  // 100 more units: 6 s
  EXPECT_EQ(r.remaining, 500);
  EXPECT_EQ(r.reset_us, 30 * kSecond);
}

TEST(GcraTest, AmountLargerThanBurstNeverPasses) {
  const GcraParams p = MakeGcraParams(10, kSecond, 5);
  const GcraResult r = GcraCharge(0, kNow, 6, p);
  EXPECT_FALSE(r.allowed);
  EXPECT_TRUE(r.never_passes);
  EXPECT_EQ(r.retry_after_us, kNeverUs);
  EXPECT_EQ(r.new_tat, 0);
  EXPECT_EQ(r.remaining, 5);
  EXPECT_TRUE(GcraCharge(0, kNow, 5, p).allowed);
}

TEST(GcraTest, BurstSmallerThanLimitSpreadsRequests) {
  const GcraParams p = MakeGcraParams(10, kSecond, 2);  // T = 100 ms, tau = 200 ms
  GcraResult a = GcraCharge(0, kNow, 1, p);
  GcraResult b = GcraCharge(a.new_tat, kNow, 1, p);
  GcraResult c = GcraCharge(b.new_tat, kNow, 1, p);
  EXPECT_TRUE(a.allowed);
  EXPECT_TRUE(b.allowed);
  EXPECT_FALSE(c.allowed);
  EXPECT_EQ(c.retry_after_us, 100'000);
  EXPECT_EQ(b.remaining, 0);
  EXPECT_EQ(a.remaining, 1);
}

TEST(GcraTest, AdjustRefundsAndExtraCharges) {
  const GcraParams p = MakeGcraParams(1000, kMinute, 1000);  // T = 60 ms
  const int64_t tat = GcraCharge(0, kNow, 500, p).new_tat;   // kNow + 30 s
  EXPECT_EQ(GcraAdjust(tat, kNow, -200, p), kNow + 18 * kSecond);
  EXPECT_EQ(GcraAdjust(tat, kNow, -800, p), kNow);                // never below now
  EXPECT_EQ(GcraAdjust(tat, kNow + 40 * kSecond, -100, p), tat);  // idle: nothing to refund
  EXPECT_EQ(GcraAdjust(tat, kNow, 700, p), kNow + 72 * kSecond);  // past the capacity
  EXPECT_EQ(GcraAdjust(tat, kNow + 40 * kSecond, 10, p), kNow + 40 * kSecond + 600'000);
  EXPECT_EQ(GcraAdjust(tat, kNow, 0, p), tat);
  // After an overshoot the counter refuses until the debt is paid.
  const int64_t over = GcraAdjust(tat, kNow, 700, p);
  const GcraResult r = GcraCharge(over, kNow, 1, p);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.retry_after_us, 12 * kSecond + 60'000);
  EXPECT_EQ(r.remaining, 0);
}

TEST(GcraTest, TimeGoingBackwardsIsTolerated) {
  const GcraParams p = MakeGcraParams(10, kSecond, 10);
  const int64_t tat = GcraCharge(0, kNow, 5, p).new_tat;  // kNow + 500 ms
  // A caller whose clock reads 1 s earlier sees the counter further ahead: stricter.
  const GcraResult r = GcraCharge(tat, kNow - kSecond, 1, p);
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.retry_after_us, 600'000);
  EXPECT_EQ(r.reset_us, 1'500'000);
  EXPECT_EQ(r.remaining, 0);
  EXPECT_TRUE(GcraCharge(tat, kNow - 400'000, 1, p).allowed);
}

TEST(GcraTest, PeekReportsWithoutCharging) {
  const GcraParams p = MakeGcraParams(100, kMinute, 100);
  const GcraResult fresh = GcraPeek(0, kNow, p);
  EXPECT_EQ(fresh.remaining, 100);
  EXPECT_EQ(fresh.reset_us, 0);
  const GcraResult used = GcraPeek(kNow + 6 * kSecond, kNow, p);  // 10 used
  EXPECT_EQ(used.remaining, 90);
  EXPECT_EQ(used.reset_us, 6 * kSecond);
  EXPECT_EQ(used.new_tat, kNow + 6 * kSecond);
}

TEST(GcraTest, HugeValuesSaturateInsteadOfOverflowing) {
  const GcraParams p{std::numeric_limits<int64_t>::max() / 2, 4};
  const GcraResult r = GcraCharge(0, kNow, 3, p);
  EXPECT_TRUE(r.allowed);  // tau saturates at INT64_MAX
  EXPECT_GE(r.new_tat, kNow);
}

}  // namespace
}  // namespace sluice::limits
