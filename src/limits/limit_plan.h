// Turns the limit policies of a configuration into the counters one request is checked
// against: which policies apply (models, tiers, routes), the subject of each (per key,
// user, team, tier, model, route, client IP), and what the request charges each counter
// (1 request, an estimate of its tokens, an estimate of its cost, 1 slot in flight).
// Built once per configuration; immutable and thread-safe. The per-request output lives in
// the rate_limit filter.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <utility>

#include "config/limits_config.h"
#include "core/request_context.h"
#include "limits/limiter_store.h"

namespace sluice::limits {
class TimeZone;
}

namespace sluice::limits {

// What a check counts, for settlement and for the x-ratelimit-* headers.
enum class CheckRole : uint8_t { kRequests, kTokens, kConcurrency, kBudgetTokens, kBudgetMoney };

// One request's estimate, made before it is sent upstream.
struct RequestEstimate {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;  // the reservation (max_tokens or the default)
  int64_t cost_micro_usd = 0;
};

// At most N elements kept inside the object, with the part of std::vector's interface the
// checks of one request are built and read with. PlannedChecks lives in the rate_limit
// filter, which is created for every request: inline storage makes planning allocate
// nothing, and only the elements in use are ever constructed (no zeroing of N of them).
// Adding to a full vector does not add (the element handed out is a spare, overwritten by
// the next such call): LimitPlan never plans more than kMaxChecks counters (the loader
// bounds the policies), and a decision takes no more.
// REQUIRES: default-initialising a T initialises all of it (default member initializers).
// Not thread-safe (a value).
template <typename T, size_t N>
class InlineVector {
 public:
  InlineVector() = default;
  InlineVector(const InlineVector& other) { *this = other; }
  InlineVector& operator=(const InlineVector& other) {
    if (this == &other) return *this;
    clear();
    for (const T& item : other) push_back(item);
    return *this;
  }
  ~InlineVector() { clear(); }

  static constexpr size_t capacity() { return N; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == N; }

  T* data() { return std::launder(reinterpret_cast<T*>(storage_)); }
  const T* data() const { return std::launder(reinterpret_cast<const T*>(storage_)); }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  T& back() { return data()[size_ - 1]; }
  const T& back() const { return data()[size_ - 1]; }

  // A default-initialised element at the end.
  T& emplace_back() {
    if (size_ == N) {
      spare_ = T{};
      return spare_;
    }
    return *::new (static_cast<void*>(data() + size_++)) T;
  }
  void push_back(const T& item) { emplace_back() = item; }
  void push_back(T&& item) { emplace_back() = std::move(item); }
  // Shrinks, or grows with default-initialised elements (up to N).
  void resize(size_t n) {
    while (size_ > n) data()[--size_].~T();
    while (size_ < std::min(n, N)) emplace_back();
  }
  void clear() { resize(0); }

 private:
  alignas(T) std::byte storage_[N * sizeof(T)];  // [0, size_) constructed
  size_t size_ = 0;
  T spare_;
};

// The checks of one request, in decision order, with what each is for. Stored inline
// (kMaxChecks of each, ~2.6 KB): a member of the per-request filter, it is built without
// allocating (counter names included: CounterName).
struct PlannedChecks {
  InlineVector<Check, kMaxChecks> checks;
  struct Meta {
    CheckRole role = CheckRole::kRequests;
    TokenCount token_count = TokenCount::kTotal;
    uint16_t policy = 0;  // index into the plan's policies
  };
  InlineVector<Meta, kMaxChecks> meta;
  void Clear() {
    checks.clear();
    meta.clear();
  }
};

// The store's failure policy for a configured one.
OnStoreFailure ToStorePolicy(StoreFailurePolicy policy);

class LimitPlan {
 public:
  LimitPlan(const LimitsConfig& config, const limits::TimeZone& zone);

  // Nothing to check: no limits: section. (A section without policies still enforces the
  // limits stored with API keys.)
  bool empty() const { return !config_.configured && config_.policies.empty(); }
  // The policies of the config, then the implicit `key` policy of per-key overrides
  // (index policies.size(), limits/key_overrides.h).
  const LimitPolicyConfig& policy(size_t index) const;

  // Appends the checks `ctx` must pass, the caller's key's own limits applied: at most
  // kMaxChecks, since the loader refuses policies defining more than kMaxLimitCounters in
  // all and a key adds at most kMaxKeyOverrideCounters. `now_us` is wall time (budgets).
  void Build(RequestContext& ctx, const RequestEstimate& estimate, int64_t now_us,
             PlannedChecks& out) const;

  // What a check's amount should have been, given the request's final usage.
  static int64_t Actual(const PlannedChecks::Meta& meta, int64_t prompt_tokens,
                        int64_t completion_tokens, int64_t cost_micro_usd);

 private:
  bool Applies(const LimitPolicyConfig& policy, RequestContext& ctx) const;
  // "key=key_ab|model=gpt-4o"; false when a subject is missing (no key, no team...).
  static bool Subject(const LimitPolicyConfig& policy, RequestContext& ctx, std::string& out);

  const LimitsConfig& config_;
  const limits::TimeZone& zone_;
};

}  // namespace sluice::limits
