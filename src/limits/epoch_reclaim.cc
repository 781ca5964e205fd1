// Epoch-based reclamation (see epoch_reclaim.h). The ordering argument uses only seq_cst
// atomics (no standalone fences, which ThreadSanitizer cannot check): a reader publishes the
// epoch it entered in (seq_cst exchange) before loading any shared pointer (seq_cst loads);
// a writer unlinks (seq_cst store), advances the epoch and then scans the slots (seq_cst
// loads). In the single total order of seq_cst operations either the scan sees the reader's
// slot (and keeps the object unless the reader entered after the unlink), or the reader's
// loads come after the unlink and cannot find the object.
#include "limits/epoch_reclaim.h"

#include <array>
#include <atomic>

namespace sluice::limits {
namespace {

struct alignas(64) Slot {
  std::atomic<uint64_t> entered{0};  // 0: quiescent, else the epoch seen on entry
  std::atomic<bool> owned{false};
};

std::array<Slot, kMaxEpochThreads> g_slots;
std::atomic<uint64_t> g_epoch{1};
std::atomic<int> g_high_water{0};  // slots [0, g_high_water) may be owned
std::mutex g_overflow_mutex;

// A thread's slot, claimed on first use and given back when the thread ends.
struct ThreadSlot {
  int index = -2;  // -2: not yet claimed; -1: none free (overflow reader)
  ~ThreadSlot() {
    if (index >= 0) g_slots[index].owned.store(false, std::memory_order_release);
  }
  int Get() {
    if (index != -2) return index;
    index = -1;
    for (int i = 0; i < kMaxEpochThreads; ++i) {
      bool expected = false;
      if (g_slots[i].owned.compare_exchange_strong(expected, true)) {
        index = i;
        int high = g_high_water.load();
        while (high < i + 1 && !g_high_water.compare_exchange_weak(high, i + 1)) {
        }
        break;
      }
    }
    return index;
  }
};

thread_local ThreadSlot t_slot;

}  // namespace

EpochGuard::EpochGuard() : slot_(t_slot.Get()) {
  if (slot_ < 0) {
    g_overflow_mutex.lock();
    return;
  }
  g_slots[slot_].entered.exchange(g_epoch.load(std::memory_order_seq_cst),
                                  std::memory_order_seq_cst);
}

EpochGuard::~EpochGuard() {
  if (slot_ < 0) {
    g_overflow_mutex.unlock();
    return;
  }
  g_slots[slot_].entered.store(0, std::memory_order_release);
}

uint64_t RetireEpoch() { return g_epoch.fetch_add(1, std::memory_order_seq_cst); }

uint64_t OldestActiveEpoch() {
  uint64_t oldest = UINT64_MAX;
  const int high = g_high_water.load(std::memory_order_seq_cst);
  for (int i = 0; i < high; ++i) {
    const uint64_t e = g_slots[i].entered.load(std::memory_order_seq_cst);
    if (e != 0 && e < oldest) oldest = e;
  }
  return oldest;
}

std::mutex& OverflowMutex() { return g_overflow_mutex; }

}  // namespace sluice::limits
