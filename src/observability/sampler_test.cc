// Tests of parent-based ratio sampling: parents are followed, 0 and 1 are exact, the ratio
// holds statistically over random ids, and the decision depends on the trace id alone.
#include "observability/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace sluice {
namespace {

TraceId IdWithLowBytes(uint64_t low) {
  TraceId id;
  id.bytes[0] = 0x01;
  for (int i = 15; i >= 8; --i) {
    id.bytes[i] = static_cast<uint8_t>(low & 0xff);
    low >>= 8;
  }
  return id;
}

TEST(Sampler, FollowsAValidParentWhateverTheRatio) {
  IdGenerator ids(1);
  TraceParent sampled{ids.NewTraceId(), ids.NewSpanId(), true};
  TraceParent unsampled{ids.NewTraceId(), ids.NewSpanId(), false};
  for (double ratio : {0.0, 0.5, 1.0}) {
    Sampler sampler(ratio);
    EXPECT_TRUE(sampler.ShouldSample(&sampled, sampled.trace_id)) << ratio;
    EXPECT_FALSE(sampler.ShouldSample(&unsampled, unsampled.trace_id)) << ratio;
  }
}

TEST(Sampler, RatioZeroNeverAndOneAlways) {
  Sampler never(0.0);
  Sampler always(1.0);
  IdGenerator ids(2);
  for (int i = 0; i < 10000; ++i) {
    TraceId id = ids.NewTraceId();
    EXPECT_FALSE(never.ShouldSample(nullptr, id));
    EXPECT_TRUE(always.ShouldSample(nullptr, id));
  }
  EXPECT_FALSE(never.SampleRoot(IdWithLowBytes(0)));
  EXPECT_TRUE(always.SampleRoot(IdWithLowBytes(std::numeric_limits<uint64_t>::max())));
}

TEST(Sampler, RatioIsClamped) {
  EXPECT_EQ(Sampler(-0.5).ratio(), 0.0);
  EXPECT_EQ(Sampler(2.0).ratio(), 1.0);
  EXPECT_EQ(Sampler(std::nan("")).ratio(), 0.0);
  EXPECT_FALSE(Sampler(-0.5).SampleRoot(IdWithLowBytes(0)));
  EXPECT_TRUE(Sampler(2.0).SampleRoot(IdWithLowBytes(std::numeric_limits<uint64_t>::max())));
  EXPECT_FALSE(Sampler(std::nan("")).SampleRoot(IdWithLowBytes(0)));
}

TEST(Sampler, ThresholdIsTheLowerEightBytesBigEndian) {
  Sampler half(0.5);  // threshold 2^63
  EXPECT_TRUE(half.SampleRoot(IdWithLowBytes((uint64_t{1} << 63) - 1)));
  EXPECT_FALSE(half.SampleRoot(IdWithLowBytes(uint64_t{1} << 63)));
  // The upper 8 bytes play no part.
  TraceId id = IdWithLowBytes(5);
  for (int i = 0; i < 8; ++i) id.bytes[i] = 0xff;
  EXPECT_TRUE(half.SampleRoot(id));
}

TEST(Sampler, TenPercentOfRandomIdsWithinOnePoint) {
  Sampler sampler(0.1);
  IdGenerator ids(3);
  int sampled = 0;
  constexpr int kIds = 100000;
  for (int i = 0; i < kIds; ++i) sampled += sampler.ShouldSample(nullptr, ids.NewTraceId());
  double share = static_cast<double>(sampled) / kIds;
  EXPECT_NEAR(share, 0.1, 0.01) << sampled;
}

TEST(Sampler, DecisionIsDeterministicPerTraceId) {
  IdGenerator ids(4);
  Sampler first(0.3);
  Sampler second(0.3);
  for (int i = 0; i < 1000; ++i) {
    TraceId id = ids.NewTraceId();
    bool decision = first.SampleRoot(id);
    for (int repeat = 0; repeat < 3; ++repeat) {
      EXPECT_EQ(first.SampleRoot(id), decision);
      EXPECT_EQ(second.SampleRoot(id), decision);
    }
  }
}

}  // namespace
}  // namespace sluice
