// The circuit breaker's state machine on one atomic word (see the header).
#include "routing/circuit_breaker.h"

#include <algorithm>

namespace sluice::routing {
namespace {

constexpr uint64_t kGenerationMask = (uint64_t{1} << 30) - 1;

BreakerState StateOf(uint64_t w) { return static_cast<BreakerState>(w >> 62); }
uint32_t GenerationOf(uint64_t w) { return static_cast<uint32_t>((w >> 32) & kGenerationMask); }
uint32_t Low32(uint64_t w) { return static_cast<uint32_t>(w); }
uint32_t AdmittedOf(uint64_t w) { return (Low32(w) >> 16) & 0xFFFF; }
uint32_t SucceededOf(uint64_t w) { return Low32(w) & 0xFFFF; }
uint64_t Pack(BreakerState state, uint64_t generation, uint32_t low) {
  return (uint64_t{static_cast<uint8_t>(state)} << 62) | ((generation & kGenerationMask) << 32) |
         low;
}
uint32_t HalfOpenLow(uint32_t admitted, uint32_t succeeded) { return (admitted << 16) | succeeded; }
int64_t Ns(SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

CircuitBreaker::CircuitBreaker(const Clock& clock, const CircuitBreakerOptions& options)
    : clock_(clock), options_(options), outcomes_(options.window, 10) {
  options_.half_open_probes = std::clamp<uint32_t>(options_.half_open_probes, 1, 0xFFFF);
  since_ns_.store(Ns(clock_.Now()), std::memory_order_relaxed);
}

bool CircuitBreaker::CoolDownOver() const {
  const int64_t since = since_ns_.load(std::memory_order_relaxed);
  const int64_t cool_down =
      std::chrono::duration_cast<std::chrono::nanoseconds>(options_.open_duration).count();
  return Ns(clock_.Now()) - since >= cool_down;
}

bool CircuitBreaker::TryMove(uint64_t& expected, uint64_t next) {
  return word_.compare_exchange_strong(expected, next, std::memory_order_acq_rel,
                                       std::memory_order_acquire);
}

bool CircuitBreaker::Trip(uint64_t word) {
  since_ns_.store(Ns(clock_.Now()), std::memory_order_relaxed);
  return TryMove(word, Pack(BreakerState::kOpen, GenerationOf(word) + 1, 0));
}

bool CircuitBreaker::AllowsPick() const {
  const uint64_t w = word_.load(std::memory_order_acquire);
  switch (StateOf(w)) {
    case BreakerState::kClosed:
      return true;
    case BreakerState::kOpen:
      return CoolDownOver();
    case BreakerState::kHalfOpen:
      return AdmittedOf(w) < options_.half_open_probes || CoolDownOver();
  }
  return false;
}

std::optional<CircuitBreaker::Permit> CircuitBreaker::TryAcquire() {
  uint64_t w = word_.load(std::memory_order_acquire);
  for (;;) {
    const uint32_t generation = GenerationOf(w);
    switch (StateOf(w)) {
      case BreakerState::kClosed:
        return Permit{generation};
      case BreakerState::kOpen:
      case BreakerState::kHalfOpen: {
        if (StateOf(w) == BreakerState::kHalfOpen && AdmittedOf(w) < options_.half_open_probes) {
          if (TryMove(w, Pack(BreakerState::kHalfOpen, generation,
                              HalfOpenLow(AdmittedOf(w) + 1, SucceededOf(w))))) {
            return Permit{generation};
          }
          continue;
        }
        // Open past its cool-down, or half-open with every probe out for a whole cool-down
        // (their outcomes were lost): start a round of probes with this request.
        if (!CoolDownOver()) return std::nullopt;
        since_ns_.store(Ns(clock_.Now()), std::memory_order_relaxed);
        const uint32_t next = (generation + 1) & kGenerationMask;
        if (TryMove(w, Pack(BreakerState::kHalfOpen, next, HalfOpenLow(1, 0)))) {
          return Permit{next};
        }
        continue;
      }
    }
    return std::nullopt;
  }
}

void CircuitBreaker::OnSuccess(Permit permit) {
  uint64_t w = word_.load(std::memory_order_acquire);
  if (GenerationOf(w) != permit.generation) return;
  if (StateOf(w) == BreakerState::kClosed && options_.failure_ratio > 0) {
    outcomes_.Record(clock_.Now(), false);
  }
  for (;;) {
    if (GenerationOf(w) != permit.generation) return;
    if (StateOf(w) == BreakerState::kClosed) {
      if (Low32(w) == 0 || TryMove(w, Pack(BreakerState::kClosed, permit.generation, 0))) return;
    } else if (StateOf(w) == BreakerState::kHalfOpen) {
      const uint32_t succeeded = SucceededOf(w) + 1;
      if (succeeded >= options_.half_open_probes) {
        if (TryMove(w, Pack(BreakerState::kClosed, permit.generation + 1, 0))) {
          outcomes_.Reset();  // the closed state starts with a clean window
          return;
        }
      } else if (TryMove(w, Pack(BreakerState::kHalfOpen, permit.generation,
                                 HalfOpenLow(AdmittedOf(w), succeeded)))) {
        return;
      }
    } else {
      return;
    }
  }
}

void CircuitBreaker::OnFailure(Permit permit) {
  uint64_t w = word_.load(std::memory_order_acquire);
  if (GenerationOf(w) != permit.generation) return;
  bool ratio_trips = false;
  if (StateOf(w) == BreakerState::kClosed && options_.failure_ratio > 0) {
    const SteadyTime now = clock_.Now();
    outcomes_.Record(now, true);
    const WindowTotals totals = outcomes_.Totals(now);
    ratio_trips = totals.requests >= options_.minimum_requests &&
                  totals.FailureRatio() >= options_.failure_ratio;
  }
  for (;;) {
    if (GenerationOf(w) != permit.generation) return;
    if (StateOf(w) == BreakerState::kClosed) {
      const uint32_t failures = Low32(w) == UINT32_MAX ? UINT32_MAX : Low32(w) + 1;
      const bool trips = ratio_trips || (options_.consecutive_failures > 0 &&
                                         failures >= options_.consecutive_failures);
      if (trips ? Trip(w) : TryMove(w, Pack(BreakerState::kClosed, permit.generation, failures))) {
        return;
      }
      w = word_.load(std::memory_order_acquire);
    } else if (StateOf(w) == BreakerState::kHalfOpen) {
      if (Trip(w)) return;  // a failed probe: open again for a full cool-down
      w = word_.load(std::memory_order_acquire);
    } else {
      return;
    }
  }
}

void CircuitBreaker::OnNeutral(Permit permit) {
  uint64_t w = word_.load(std::memory_order_acquire);
  while (GenerationOf(w) == permit.generation && StateOf(w) == BreakerState::kHalfOpen &&
         AdmittedOf(w) > SucceededOf(w)) {
    if (TryMove(w, Pack(BreakerState::kHalfOpen, permit.generation,
                        HalfOpenLow(AdmittedOf(w) - 1, SucceededOf(w))))) {
      return;
    }
  }
}

BreakerState CircuitBreaker::state() const {
  const uint64_t w = word_.load(std::memory_order_acquire);
  if (StateOf(w) == BreakerState::kOpen && CoolDownOver()) return BreakerState::kHalfOpen;
  return StateOf(w);
}

}  // namespace sluice::routing
