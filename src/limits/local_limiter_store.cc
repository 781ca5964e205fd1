// LocalLimiterStore: the sharded lock-free counter table and the three counter kinds.
#include "limits/local_limiter_store.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <random>

#include "limits/epoch_reclaim.h"
#include "limits/gcra.h"

namespace sluice::limits {

// A counter's value: the TAT (rate), the number in flight (concurrency) or the units spent
// (budget); kDead once Sweep has unlinked it. Own cache line: hot counters do not share.
struct alignas(64) LocalLimiterStore::Counter {
  std::atomic<int64_t> value{0};
  uint64_t hash = 0;
  CounterKind kind = CounterKind::kRate;
  int64_t window_end_us = 0;
  std::string key;
};

// Open addressing, linear probing; slots are only ever set (under the shard mutex) from
// null to a counter or from a counter to the tombstone, so a lock-free probe is safe.
struct LocalLimiterStore::Table {
  explicit Table(size_t capacity)
      : mask(capacity - 1), slots(std::make_unique<std::atomic<Counter*>[]>(capacity)) {}
  size_t mask;
  size_t used = 0;  // non-null slots, tombstones included; under the shard mutex
  std::unique_ptr<std::atomic<Counter*>[]> slots;
};

namespace {

using Counter = LocalLimiterStore::Counter;
constexpr int64_t kDead = std::numeric_limits<int64_t>::min();
char g_tombstone_byte;
Counter* const kTombstone = reinterpret_cast<Counter*>(&g_tombstone_byte);

__extension__ typedef unsigned __int128 Uint128;  // __extension__: GCC's, fine under -pedantic

// The 64-bit product of a and b folded to 64 bits (wyhash's "mum").
uint64_t Mix(uint64_t a, uint64_t b) {
  const Uint128 product = static_cast<Uint128>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

// A process-wide random seed, so counter names cannot be chosen to collide.
uint64_t HashSeed() {
  static const uint64_t seed = [] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }();
  return seed;
}

// Hash of a counter name: 8 bytes per multiply, then a final mix so that both the top bits
// (the shard) and the low bits (the slot) are well spread. Names are 30-80 bytes and every
// request hashes several (decision and settlement): std::hash (murmur) took ~110
// instructions per name, this ~60.
uint64_t HashKey(std::string_view key) {
  constexpr uint64_t kP0 = 0xa0761d6478bd642full;
  constexpr uint64_t kP1 = 0xe7037ed1a0b428dbull;
  const char* p = key.data();
  const size_t size = key.size();
  uint64_t h = HashSeed() ^ size;
  uint64_t last = 0;  // the final (up to) 8 bytes
  if (size >= 8) {
    for (size_t i = 0; i + 8 < size; i += 8) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      h = Mix(word ^ kP0, h ^ kP1);
    }
    std::memcpy(&last, p + size - 8, 8);  // may overlap the last word: the size is mixed in
  } else {
    for (size_t i = 0; i < size; ++i) last |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  }
  h = Mix(last ^ kP0, h ^ kP1);
  return Mix(h ^ kP0, kP1);
}

// What charging `amount` would do to a counter holding `value` (kDead never reaches here).
struct Outcome {
  bool allowed = false;
  int64_t new_value = 0;
  int64_t retry_after_us = 0;
  CounterState state;
};

Outcome Evaluate(const Check& c, int64_t value, int64_t amount, int64_t now_us) {
  Outcome o;
  o.state.limit = c.limit;
  if (c.kind == CounterKind::kRate) {
    const GcraResult r =
        GcraCharge(value, now_us, amount, MakeGcraParams(c.limit, c.period_us, c.burst));
    o.allowed = r.allowed;
    o.new_value = r.new_tat;
    o.retry_after_us = r.retry_after_us;
    o.state.remaining = r.remaining;
    o.state.reset_us = r.reset_us;
    return o;
  }
  // Concurrency and budget: a plain counter against `limit`.
  const int64_t limit = std::max<int64_t>(0, c.limit);
  const int64_t reset =
      c.kind == CounterKind::kBudget ? std::max<int64_t>(0, c.window_end_us - now_us) : 0;
  o.state.reset_us = reset;
  o.allowed = amount <= limit && value <= limit - amount;
  o.new_value = o.allowed ? value + amount : value;
  o.state.remaining = std::max<int64_t>(0, limit - o.new_value);
  if (!o.allowed) {
    // Concurrency: unknown (when a request finishes), reported as 0; budget: window end.
    o.retry_after_us = amount > limit ? kNeverUs : reset;
  }
  return o;
}

// An adjusted value; `delta` may be negative (refund, release) or positive (extra charge).
int64_t Adjusted(const Check& c, int64_t value, int64_t delta, int64_t now_us) {
  if (c.kind == CounterKind::kRate) {
    return GcraAdjust(value, now_us, delta, MakeGcraParams(c.limit, c.period_us, c.burst));
  }
  int64_t r = 0;
  if (__builtin_add_overflow(value, delta, &r)) r = std::numeric_limits<int64_t>::max();
  return std::max<int64_t>(0, r);
}

bool Idle(const Counter& c, int64_t value, int64_t now_us) {
  switch (c.kind) {
    case CounterKind::kRate:
      return value <= now_us;
    case CounterKind::kConcurrency:
      return value == 0;
    case CounterKind::kBudget:
      return now_us >= c.window_end_us;
  }
  return false;
}

void Insert(LocalLimiterStore::Table& t, Counter* c) {
  for (size_t i = c->hash & t.mask;; i = (i + 1) & t.mask) {
    if (t.slots[i].load(std::memory_order_relaxed) == nullptr) {
      t.slots[i].store(c, std::memory_order_seq_cst);  // seq_cst: epoch_reclaim.h
      ++t.used;
      return;
    }
  }
}

}  // namespace

LocalLimiterStore::LocalLimiterStore() = default;

LocalLimiterStore::~LocalLimiterStore() {
  for (Shard& shard : shards_) {
    std::unique_ptr<Table> table(shard.table.load());
    if (!table) continue;
    for (size_t i = 0; i <= table->mask; ++i) {
      Counter* c = table->slots[i].load();
      if (c != nullptr && c != kTombstone) std::unique_ptr<Counter> owned(c);
    }
  }
}

Counter* LocalLimiterStore::Find(const Shard& shard, uint64_t hash, std::string_view key) const {
  const Table* t = shard.table.load(std::memory_order_seq_cst);
  if (t == nullptr) return nullptr;
  for (size_t i = hash & t->mask, n = 0; n <= t->mask; i = (i + 1) & t->mask, ++n) {
    Counter* c = t->slots[i].load(std::memory_order_seq_cst);
    if (c == nullptr) return nullptr;
    if (c != kTombstone && c->hash == hash && c->key == key) return c;
  }
  return nullptr;
}

Counter* LocalLimiterStore::FindOrCreate(Shard& shard, uint64_t hash, const Check& check) {
  std::vector<Retired> retired;
  Counter* found = nullptr;
  {
    std::lock_guard lock(shard.mutex);
    // Under the mutex no counter is dead: Sweep marks and unlinks in one critical section.
    found = Find(shard, hash, check.key);
    if (found == nullptr) {
      Table* t = shard.table.load(std::memory_order_relaxed);
      if (t == nullptr || (t->used + 1) * 2 > t->mask + 1) {
        GrowLocked(shard, retired);
        t = shard.table.load(std::memory_order_relaxed);
      }
      auto counter = std::make_unique<Counter>();
      counter->hash = hash;
      counter->kind = check.kind;
      counter->window_end_us = check.window_end_us;
      counter->key = check.key.view();
      found = counter.release();  // owned by the table from here; freed by Sweep or ~Store
      Insert(*t, found);
      ++shard.live;
    }
  }
  if (!retired.empty()) {
    std::lock_guard lock(retired_mutex_);
    for (Retired& r : retired) retired_.push_back(std::move(r));
  }
  return found;
}

// Rebuilds the shard's table without tombstones, at least 4x the live counters.
void LocalLimiterStore::GrowLocked(Shard& shard, std::vector<Retired>& retired) {
  Table* old = shard.table.load(std::memory_order_relaxed);
  const size_t capacity = std::bit_ceil(std::max<size_t>(16, (shard.live + 1) * 4));
  auto fresh = std::make_unique<Table>(capacity);
  if (old != nullptr) {
    for (size_t i = 0; i <= old->mask; ++i) {
      Counter* c = old->slots[i].load(std::memory_order_relaxed);
      if (c != nullptr && c != kTombstone) Insert(*fresh, c);
    }
  }
  shard.table.store(fresh.release(), std::memory_order_seq_cst);
  if (old != nullptr) {
    Retired r;
    r.table.reset(old);
    r.tag = RetireEpoch();  // after the unlink (the store above)
    retired.push_back(std::move(r));
  }
}

std::optional<Decision> LocalLimiterStore::AcquireNow(std::span<const Check> checks,
                                                      int64_t now_us) {
  // Built in place: a Decision is ~400 bytes, and copying it was a third of a decision.
  std::optional<Decision> result(std::in_place);
  Decision& d = *result;
  if (checks.size() > kMaxChecks) {
    d.denied = static_cast<int>(kMaxChecks);
    d.retry_after_us = kNeverUs;
    return result;
  }
  d.count = checks.size();
  std::array<Counter*, kMaxChecks> charged;  // [0, i) set below; not zeroed (hot path)
  EpochGuard guard;
  size_t i = 0;
  for (; i < checks.size(); ++i) {
    const Check& c = checks[i];
    const int64_t amount = std::max<int64_t>(0, c.amount);
    const uint64_t hash = HashKey(c.key);
    Shard& shard = ShardFor(hash);
    Counter* counter = Find(shard, hash, c.key);
    if (counter == nullptr && amount == 0) {  // nothing to charge: report a fresh counter
      d.counters[i] = Evaluate(c, 0, 0, now_us).state;
      charged[i] = nullptr;
      continue;
    }
    Outcome o;
    for (;;) {
      if (counter == nullptr) counter = FindOrCreate(shard, hash, c);
      int64_t v = counter->value.load(std::memory_order_acquire);
      bool retry_lookup = false;
      for (;;) {
        if (v == kDead) {  // swept since we found it: look it up again under the mutex
          counter = nullptr;
          retry_lookup = true;
          break;
        }
        o = Evaluate(c, v, amount, now_us);
        if (!o.allowed || o.new_value == v) break;
        if (counter->value.compare_exchange_weak(v, o.new_value, std::memory_order_acq_rel,
                                                 std::memory_order_acquire)) {
          break;
        }
      }
      if (!retry_lookup) break;
    }
    d.counters[i] = o.state;
    if (!o.allowed) {
      d.denied = static_cast<int>(i);
      d.retry_after_us = o.retry_after_us;
      break;
    }
    charged[i] = counter;
  }
  if (d.denied < 0) {
    d.allowed = true;
    return result;
  }
  // Undo what was charged, then report every other counter as it stands.
  for (size_t j = 0; j < i; ++j) {
    Counter* counter = charged[j];
    if (counter == nullptr) continue;
    int64_t v = counter->value.load(std::memory_order_acquire);
    while (v != kDead) {
      const int64_t undone =
          Adjusted(checks[j], v, -std::max<int64_t>(0, checks[j].amount), now_us);
      if (counter->value.compare_exchange_weak(v, undone, std::memory_order_acq_rel,
                                               std::memory_order_acquire)) {
        break;
      }
    }
  }
  for (size_t j = 0; j < checks.size(); ++j) {
    if (j == i) continue;
    const uint64_t hash = HashKey(checks[j].key);
    const Counter* counter = Find(ShardFor(hash), hash, checks[j].key);
    int64_t v = counter == nullptr ? 0 : counter->value.load(std::memory_order_acquire);
    if (v == kDead) v = 0;
    d.counters[j] = Evaluate(checks[j], v, 0, now_us).state;
  }
  return result;
}

boost::asio::awaitable<Decision> LocalLimiterStore::Acquire(std::span<const Check> checks,
                                                            int64_t now_us) {
  co_return *AcquireNow(checks, now_us);
}

Decision LocalLimiterStore::Peek(std::span<const Check> checks, int64_t now_us) const {
  Decision d;
  d.allowed = true;
  d.count = std::min(checks.size(), kMaxChecks);
  EpochGuard guard;
  for (size_t j = 0; j < d.count; ++j) {
    const uint64_t hash = HashKey(checks[j].key);
    const Counter* counter = Find(ShardFor(hash), hash, checks[j].key);
    int64_t v = counter == nullptr ? 0 : counter->value.load(std::memory_order_acquire);
    if (v == kDead) v = 0;
    d.counters[j] = Evaluate(checks[j], v, 0, now_us).state;
  }
  return d;
}

void LocalLimiterStore::Adjust(std::span<const Check> deltas, int64_t now_us) {
  EpochGuard guard;
  for (const Check& c : deltas) {
    if (c.amount == 0) continue;
    const uint64_t hash = HashKey(c.key);
    Shard& shard = ShardFor(hash);
    Counter* counter = Find(shard, hash, c.key);
    for (;;) {
      if (counter == nullptr) {
        if (c.amount < 0) break;  // an idle (or swept) counter has nothing to refund
        counter = FindOrCreate(shard, hash, c);
      }
      int64_t v = counter->value.load(std::memory_order_acquire);
      while (v != kDead && !counter->value.compare_exchange_weak(
                               v, Adjusted(c, v, c.amount, now_us), std::memory_order_acq_rel,
                               std::memory_order_acquire)) {
      }
      if (v != kDead) break;
      counter = nullptr;  // swept meanwhile: charge a fresh one (or nothing to refund)
    }
  }
}

size_t LocalLimiterStore::Sweep(int64_t now_us) {
  size_t unlinked = 0;
  std::vector<Retired> retired;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    Table* t = shard.table.load(std::memory_order_relaxed);
    if (t == nullptr) continue;
    for (size_t i = 0; i <= t->mask; ++i) {
      Counter* c = t->slots[i].load(std::memory_order_relaxed);
      if (c == nullptr || c == kTombstone) continue;
      int64_t v = c->value.load(std::memory_order_acquire);
      // Marking it dead first makes a concurrent charge that found it start over.
      if (!Idle(*c, v, now_us) ||
          !c->value.compare_exchange_strong(v, kDead, std::memory_order_acq_rel)) {
        continue;
      }
      t->slots[i].store(kTombstone, std::memory_order_seq_cst);
      --shard.live;
      ++unlinked;
      Retired r;
      r.counter.reset(c);
      retired.push_back(std::move(r));
    }
  }
  const uint64_t tag = RetireEpoch();
  for (Retired& r : retired) r.tag = tag;
  {
    std::lock_guard lock(retired_mutex_);
    for (Retired& r : retired) retired_.push_back(std::move(r));
  }
  FreeRetired();
  return unlinked;
}

// Frees what no reader can still see. The two mutexes are never held together: an overflow
// reader holds OverflowMutex() and may take retired_mutex_ (growing a table).
void LocalLimiterStore::FreeRetired() {
  std::vector<Retired> pending;
  {
    std::lock_guard lock(retired_mutex_);
    pending.swap(retired_);
  }
  {
    std::lock_guard overflow(OverflowMutex());
    const uint64_t oldest = OldestActiveEpoch();
    std::erase_if(pending, [oldest](const Retired& r) { return r.tag < oldest; });
  }
  std::lock_guard lock(retired_mutex_);
  for (Retired& r : pending) retired_.push_back(std::move(r));
}

size_t LocalLimiterStore::size() const {
  size_t n = 0;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    n += shard.live;
  }
  return n;
}

}  // namespace sluice::limits
