// Epoch-based reclamation for the in-process limiter store: lets lock-free readers use
// counters and hash tables while Sweep unlinks them, and frees them only once no reader
// that could still hold a pointer is active. Used only by LocalLimiterStore.
// One process-wide domain of per-thread slots (each on its own cache line); thread-safe.
//
// Reader: EpochGuard g;  ...load and use shared pointers...  (destructor leaves)
// Writer: unlink under its own lock, then `tag = RetireEpoch()`; later, holding
//         OverflowMutex(), free the objects whose tag < OldestActiveEpoch().
#pragma once

#include <cstdint>
#include <mutex>

namespace sluice::limits {

// Entering costs one atomic exchange on the thread's own slot (~5-10 ns), leaving one
// release store; no shared cache line is written, so readers on different threads never
// contend. Readers load the shared pointers it protects with seq_cst loads (plain loads on
// x86) and writers unlink with seq_cst stores: see epoch_reclaim.cc.
// A thread beyond the first kMaxEpochThreads live ones reads under OverflowMutex() instead.
class EpochGuard {
 public:
  EpochGuard();
  ~EpochGuard();
  EpochGuard(const EpochGuard&) = delete;
  EpochGuard& operator=(const EpochGuard&) = delete;

 private:
  int slot_ = -1;  // -1: overflow reader holding OverflowMutex()
};

inline constexpr int kMaxEpochThreads = 512;

// Called by a writer after unlinking objects (their tag) and before deciding to free them:
// returns the tag to remember with the unlinked objects and advances the global epoch.
uint64_t RetireEpoch();

// The smallest epoch a reader still inside a guard entered in (UINT64_MAX when none): an
// object retired with tag t may be freed when t < OldestActiveEpoch().
// REQUIRES: the caller holds OverflowMutex() while it checks and frees.
uint64_t OldestActiveEpoch();

std::mutex& OverflowMutex();

}  // namespace sluice::limits
