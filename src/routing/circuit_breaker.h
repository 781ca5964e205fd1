// A circuit breaker per deployment: closed -> open after `consecutive_failures` failures in
// a row, or a failure ratio >= `failure_ratio` over `window` once `minimum_requests` were
// seen -> half-open after `open_duration` -> admits `half_open_probes` requests -> closed
// when all of them succeed, open again (for a new `open_duration`) at the first failure.
// The proxy asks AllowsPick() while building a balancer's exclusions, then TryAcquire() on
// the deployment it picked, and reports the outcome with the permit. Thread-safe and
// lock-free: the state is one atomic word changed by CAS; time comes from the Clock.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>

#include "core/clock.h"
#include "routing/windowed_counts.h"

namespace sluice::routing {

enum class BreakerState : uint8_t { kClosed, kOpen, kHalfOpen };

struct CircuitBreakerOptions {
  uint32_t consecutive_failures = 5;  // 0: no consecutive rule
  double failure_ratio = 0;           // 0: no ratio rule (e.g. 0.5 = half of the requests)
  uint32_t minimum_requests = 20;     // the ratio rule needs at least this many in the window
  Duration window = std::chrono::seconds(10);
  Duration open_duration = std::chrono::seconds(30);  // the cool-down before probing
  uint32_t half_open_probes = 1;                      // 1..65535
};

class CircuitBreaker {
 public:
  // Ties a reported outcome to the state that admitted it: outcomes of requests admitted
  // before the last transition (stragglers) are ignored.
  struct Permit {
    uint32_t generation = 0;
  };

  // REQUIRES: `clock` outlives the breaker.
  CircuitBreaker(const Clock& clock, const CircuitBreakerOptions& options);

  // True when TryAcquire could admit now: no side effect, for building exclusions.
  bool AllowsPick() const;
  // Admits one request: always when closed; after the cool-down the first caller moves the
  // breaker to half-open; half-open admits until `half_open_probes` are out. A half-open
  // breaker whose probes never reported for another open_duration admits a new round.
  std::optional<Permit> TryAcquire();
  void OnSuccess(Permit permit);
  void OnFailure(Permit permit);
  // Neither success nor failure (client went away, a 4xx): a half-open probe slot is freed.
  void OnNeutral(Permit permit);

  // The state as a caller would meet it (an open breaker past its cool-down is kHalfOpen).
  BreakerState state() const;

 private:
  bool CoolDownOver() const;
  bool TryMove(uint64_t& expected, uint64_t next);
  bool Trip(uint64_t word);  // -> open with a new generation; false if the word changed

  const Clock& clock_;
  CircuitBreakerOptions options_;
  // {state:2, generation:30, a:16, b:16}. Closed: a:b = consecutive failures (32 bits).
  // Half-open: a = probes admitted, b = probe successes.
  std::atomic<uint64_t> word_{0};
  // When the current state began (steady ns): set just before the CAS that enters it, so a
  // reader that sees the state (acquire) sees at least that time.
  std::atomic<int64_t> since_ns_{0};
  WindowedCounts outcomes_;  // the ratio rule's window (closed state only)
};

}  // namespace sluice::routing
