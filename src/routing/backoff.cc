// Exponential backoff with full jitter (see the header).
#include "routing/backoff.h"

#include <algorithm>

namespace sluice::routing {

Backoff::Backoff(const BackoffOptions& options) : options_(options) {
  options_.base = std::max(options_.base, Duration::zero());
  options_.max = std::max(options_.max, options_.base);
}

Duration Backoff::Ceiling(uint32_t retry) const {
  Duration ceiling = options_.base;
  // Doubling stops as soon as max is reached, so it neither overflows nor loops `retry` times.
  for (uint32_t i = 0; i < retry && ceiling > Duration::zero() && ceiling < options_.max; ++i) {
    ceiling *= 2;
  }
  return std::min(ceiling, options_.max);
}

Duration Backoff::Jittered(uint32_t retry, Xoshiro256& random) const {
  const auto ceiling = static_cast<double>(Ceiling(retry).count());
  return Duration(static_cast<Duration::rep>(random.NextDouble() * (ceiling + 1)));
}

std::optional<Duration> Backoff::Delay(uint32_t retry, std::optional<Duration> server_hint,
                                       Duration time_left, Xoshiro256& random) const {
  const Duration wait =
      server_hint ? std::max(*server_hint, Duration::zero()) : Jittered(retry, random);
  if (wait >= time_left) return std::nullopt;
  return wait;
}

}  // namespace sluice::routing
