// The contract between the traffic-control filter and the places counters live: the
// in-process store (limits/local_limiter_store) and Redis (limits/redis_limiter_store).
// A decision checks a request against several counters at once (requests per minute of
// the key, tokens per minute of the team, a monthly money budget, in-flight requests...)
// and is all-or-nothing: either every counter is charged or none is, so a rejected request
// consumes no quota. Charges are later adjusted (token settlement, concurrency release).
// Units are integers: requests, tokens, micro-dollars (1e-6 USD). Times are Unix
// microseconds. Implementations are thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <boost/asio/awaitable.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>

namespace sluice::limits {

enum class CounterKind : uint8_t {
  kRate,         // GCRA: `limit` units per `period_us`, at most `burst` units at once
  kConcurrency,  // in flight: at most `limit`; released by an Adjust of -amount
  kBudget,       // fixed (calendar) window: at most `limit` units until `window_end_us`
};

// What a decision does when the shared store (Redis) cannot be reached in time.
enum class OnStoreFailure : uint8_t {
  kLocalFallback,  // decide in process against ceil(limit / instances) (default for rates)
  kFailOpen,       // admit without counting
  kFailClosed,     // refuse (default for budgets)
};

// A counter's name: an owning string that keeps names of up to kInline characters inside
// the object and longer ones on the heap. The traffic-control filter builds one for every
// counter of every request; typical names ("sl:{key=key_3f9a…}:per-key:usd:2026-11-26",
// 30-70 characters) are past std::string's 15-character small-string buffer, so with
// std::string each cost a malloc and a free per request. Offers the part of std::string's
// interface names are built and read with (append, push_back, assignment from any string,
// comparison, conversion to std::string_view). Not thread-safe (a value).
class CounterName {
 public:
  static constexpr size_t kInline = 80;

  // Not `= default`: a value-initialised name (`CounterName{}`) need not zero its buffer.
  CounterName() noexcept {}  // NOLINT(modernize-use-equals-default)
  explicit CounterName(std::string_view text) { append(text); }
  CounterName(const CounterName& other) { append(other.view()); }
  CounterName(CounterName&& other) noexcept { *this = std::move(other); }
  ~CounterName() = default;
  CounterName& operator=(const CounterName& other) {
    if (this != &other) assign(other.view());
    return *this;
  }
  CounterName& operator=(CounterName&& other) noexcept {
    if (this == &other) return *this;
    if (other.heap_) {  // take the buffer
      heap_ = std::move(other.heap_);
      capacity_ = other.capacity_;
      size_ = other.size_;
    } else {
      assign(other.view());  // fits inline (or in our heap buffer)
    }
    other.capacity_ = kInline;
    other.size_ = 0;
    return *this;
  }
  CounterName& operator=(std::string_view text) { return assign(text); }

  std::string_view view() const { return {data(), size_}; }
  operator std::string_view() const { return view(); }  // NOLINT: implicit, as std::string's
  const char* data() const { return heap_ ? heap_.get() : inline_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void clear() { size_ = 0; }  // keeps a heap buffer for the next name
  void reserve(size_t capacity) {
    if (capacity > capacity_) Grow(capacity);
  }
  CounterName& assign(std::string_view text) {
    size_ = 0;
    return append(text);
  }
  CounterName& append(std::string_view text);
  void push_back(char c) { append(std::string_view(&c, 1)); }

  friend bool operator==(const CounterName& a, const CounterName& b) {
    return a.view() == b.view();
  }
  friend bool operator==(const CounterName& a, std::string_view b) { return a.view() == b; }
  friend std::ostream& operator<<(std::ostream& out, const CounterName& name) {
    return out << name.view();
  }

 private:
  char* mutable_data() { return heap_ ? heap_.get() : inline_; }
  void Grow(size_t capacity);

  std::unique_ptr<char[]> heap_;  // null while the name fits inline_
  uint32_t size_ = 0;
  uint32_t capacity_ = kInline;  // of the buffer in use
  char inline_[kInline];         // not initialised: only [0, size_) is ever read
};

inline CounterName& CounterName::append(std::string_view text) {
  if (text.empty()) return *this;
  const size_t needed = size_ + text.size();
  if (needed > capacity_) {
    // A bigger buffer; `text` may point into the current one, which lives until copied.
    const size_t capacity = std::max<size_t>(needed, 2 * size_t{capacity_});
    auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
    std::memcpy(bigger.get(), data(), size_);
    std::memcpy(bigger.get() + size_, text.data(), text.size());
    heap_ = std::move(bigger);
    capacity_ = static_cast<uint32_t>(capacity);
  } else {
    std::memmove(mutable_data() + size_, text.data(), text.size());
  }
  size_ = static_cast<uint32_t>(needed);
  return *this;
}

inline void CounterName::Grow(size_t capacity) {
  auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
  std::memcpy(bigger.get(), data(), size_);
  heap_ = std::move(bigger);
  capacity_ = static_cast<uint32_t>(capacity);
}

// One counter and what this request charges it.
struct Check {
  // The counter's full name, unique per policy, subject and window. The part in braces is
  // a Redis Cluster hash tag naming the subject, e.g. "sl:{key:key_ab12}:p3:rpm" or, for
  // a budget, "sl:{team:team_9f}:p5:2026-11" (the window's start is part of the name).
  CounterName key;
  CounterKind kind = CounterKind::kRate;
  int64_t limit = 0;          // units per period (rate), max in flight, max per window
  int64_t period_us = 0;      // kRate only
  int64_t burst = 0;          // kRate only: capacity in units (>= 1; usually = limit)
  int64_t window_end_us = 0;  // kBudget only: when the window's counter resets (and expires)
  int64_t amount = 0;         // what this request charges (>= 0; may exceed burst: refused)
  OnStoreFailure on_store_failure = OnStoreFailure::kLocalFallback;
};

// A counter's state after a decision, for the x-ratelimit-* headers.
struct CounterState {
  int64_t limit = 0;
  int64_t remaining = 0;  // units still admissible now (never negative)
  int64_t reset_us = 0;   // until the counter is back to full (rate) / the window ends (budget)
};

inline constexpr size_t kMaxChecks = 16;  // counters per decision

struct Decision {
  bool allowed = false;
  int denied = -1;             // index of the first check that refused, when !allowed
  int64_t retry_after_us = 0;  // when !allowed: wait at least this long before retrying
                               // (kNeverUs in limits/gcra.h: this request can never pass)
  size_t count = 0;            // counters[0, count) correspond to the checks, in order
  std::array<CounterState, kMaxChecks> counters{};
  // Set when the decision was not made by the configured store (Redis unreachable) but by
  // a failure policy: "local_fallback", "fail_open" or "fail_closed".
  const char* fallback = nullptr;
};

class LimiterStore {
 public:
  virtual ~LimiterStore() = default;

  // Decides without suspending when the store can (the in-process one always can);
  // std::nullopt means "await Acquire instead" (a remote store).
  // REQUIRES: checks.size() <= kMaxChecks.
  virtual std::optional<Decision> AcquireNow(std::span<const Check> checks, int64_t now_us) {
    (void)checks;
    (void)now_us;
    return std::nullopt;
  }

  // All-or-nothing check-and-charge. Never throws; a store failure is turned into a
  // decision by the store's failure policy.
  virtual boost::asio::awaitable<Decision> Acquire(std::span<const Check> checks,
                                                   int64_t now_us) = 0;

  // Changes charges made earlier: each check's `amount` is a delta (negative: refund or
  // release; positive: an extra charge, which may take a counter past its limit, making
  // later requests wait). Fire and forget; applied in call order per caller.
  virtual void Adjust(std::span<const Check> deltas, int64_t now_us) = 0;

  // Called once the worker loops have stopped (Server::Join) and before they are
  // destroyed: a store with per-worker connections closes them while their io_contexts
  // still exist. No call may follow.
  virtual void CloseConnections() {}
};

}  // namespace sluice::limits
