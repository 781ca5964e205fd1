// JwksCache: when to fetch an issuer's JWK Set (on a schedule; on an unknown kid at most
// once per min_refresh_interval; one fetch at a time) and the current set. keys() is the
// hot path: one atomic shared_ptr load. The decisions take a mutex (rare: per fetch or per
// unknown kid). Thread-safe.
#include <atomic>
#include <mutex>

#include "auth/jwt/jwt.h"

namespace sluice::jwt {
namespace {
// A caller that said it would fetch and never called Finish() (crashed coroutine, lost
// connection without a timeout) must not stop refreshes forever.
constexpr std::chrono::seconds kLostFetchAfter{60};
}  // namespace

struct JwksCache::State {
  using TimePoint = std::chrono::steady_clock::time_point;

  std::chrono::seconds refresh_interval;
  std::chrono::seconds min_refresh_interval;
  std::atomic<std::shared_ptr<const KeySet>> keys{std::make_shared<const KeySet>()};

  mutable std::mutex mu;
  bool in_flight = false;                  // guarded by mu
  std::optional<TimePoint> last_begin;     // guarded by mu
  std::optional<TimePoint> next_schedule;  // guarded by mu; nullopt: due now
  uint64_t fetches = 0;                    // guarded by mu
};

JwksCache::JwksCache(std::chrono::seconds refresh_interval,
                     std::chrono::seconds min_refresh_interval)
    : state_(std::make_shared<State>()) {
  state_->refresh_interval = refresh_interval;
  state_->min_refresh_interval = min_refresh_interval;
}

std::shared_ptr<const KeySet> JwksCache::keys() const {
  return state_->keys.load(std::memory_order_acquire);
}

bool JwksCache::BeginRefresh(std::chrono::steady_clock::time_point now, bool unknown_kid) {
  State& s = *state_;
  std::lock_guard lock(s.mu);
  if (s.in_flight && s.last_begin && now - *s.last_begin < kLostFetchAfter) return false;
  bool due = !s.next_schedule || now >= *s.next_schedule;
  if (!due && unknown_kid) {
    due = !s.last_begin || now - *s.last_begin >= s.min_refresh_interval;
  }
  if (!due) return false;
  s.in_flight = true;
  s.last_begin = now;
  ++s.fetches;
  return true;
}

void JwksCache::Finish(std::optional<KeySet> keys, std::chrono::steady_clock::time_point now) {
  State& s = *state_;
  std::lock_guard lock(s.mu);
  s.in_flight = false;
  if (keys) {
    s.keys.store(std::make_shared<const KeySet>(std::move(*keys)), std::memory_order_release);
    s.next_schedule = now + s.refresh_interval;
  } else {
    // Keep the old keys; try again sooner than a full interval, but not in a loop.
    s.next_schedule = now + std::min(s.min_refresh_interval, s.refresh_interval);
  }
}

uint64_t JwksCache::fetches() const {
  std::lock_guard lock(state_->mu);
  return state_->fetches;
}

}  // namespace sluice::jwt
