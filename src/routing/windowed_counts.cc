// The sliding window of WindowedCounts (see the header for the slice layout).
#include "routing/windowed_counts.h"

#include <algorithm>

namespace sluice::routing {
namespace {

constexpr uint64_t kCountMax = 0xFFFF;

uint32_t EpochOf(uint64_t word) { return static_cast<uint32_t>(word >> 32); }
uint64_t RequestsOf(uint64_t word) { return (word >> 16) & kCountMax; }
uint64_t FailuresOf(uint64_t word) { return word & kCountMax; }
uint64_t Pack(uint32_t epoch, uint64_t requests, uint64_t failures) {
  return (uint64_t{epoch} << 32) | (requests << 16) | failures;
}
// Signed distance between two 32-bit epochs (they wrap after 2^32 slices).
int32_t EpochDistance(uint32_t later, uint32_t earlier) {
  return static_cast<int32_t>(later - earlier);
}

}  // namespace

WindowedCounts::WindowedCounts(Duration window, uint32_t buckets)
    : buckets_(std::clamp<uint32_t>(buckets, 1, 3600)),
      slice_(std::max<Duration>(window / buckets_, Duration(1))),
      slices_(new std::atomic<uint64_t>[buckets_]) {
  Reset();
}

int64_t WindowedCounts::Tick(SteadyTime now) const { return now.time_since_epoch() / slice_; }

void WindowedCounts::Record(SteadyTime now, bool failure) {
  const int64_t tick = Tick(now);
  const uint32_t epoch = static_cast<uint32_t>(tick);
  const auto index = static_cast<size_t>(((tick % buckets_) + buckets_) % buckets_);
  std::atomic<uint64_t>& slice = slices_[index];
  uint64_t old = slice.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t next;
    const int32_t age = EpochDistance(epoch, EpochOf(old));
    if (age == 0) {
      if (RequestsOf(old) == kCountMax) return;  // saturated: keep the ratio as it is
      next = Pack(epoch, RequestsOf(old) + 1, FailuresOf(old) + (failure ? 1 : 0));
    } else if (age > 0) {
      next = Pack(epoch, 1, failure ? 1 : 0);  // the slice's previous lap is over
    } else {
      return;  // a late thread with an older time: its slice is already reused
    }
    if (slice.compare_exchange_weak(old, next, std::memory_order_relaxed)) return;
  }
}

WindowTotals WindowedCounts::Totals(SteadyTime now) const {
  const auto epoch = static_cast<uint32_t>(Tick(now));
  WindowTotals totals;
  for (uint32_t i = 0; i < buckets_; ++i) {
    const uint64_t word = slices_[i].load(std::memory_order_relaxed);
    const int32_t age = EpochDistance(epoch, EpochOf(word));
    if (age < 0 || age >= static_cast<int32_t>(buckets_)) continue;
    totals.requests += RequestsOf(word);
    totals.failures += FailuresOf(word);
  }
  return totals;
}

void WindowedCounts::Reset() {
  // Epoch 0 with zero counts is harmless whatever the current epoch: it adds nothing.
  for (uint32_t i = 0; i < buckets_; ++i) slices_[i].store(0, std::memory_order_relaxed);
}

}  // namespace sluice::routing
