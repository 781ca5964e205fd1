// The wait before a retry: exponential backoff with full jitter (AWS Architecture Blog,
// "Exponential Backoff and Jitter": sleep = uniform(0, min(max, base x 2^retry))), or the
// upstream's own hint (retry_hint.h) when it gave one, and never past the deadline of the
// whole attempt sequence. Full jitter spreads the retries of many clients that failed
// together. Immutable; thread-safe (the generator is the caller's, one per worker).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "core/clock.h"
#include "core/random.h"

namespace sluice::routing {

struct BackoffOptions {
  Duration base = std::chrono::milliseconds(100);
  Duration max = std::chrono::seconds(5);
};

class Backoff {
 public:
  explicit Backoff(const BackoffOptions& options = {});

  // min(max, base x 2^retry); retry 0 is the first retry.
  Duration Ceiling(uint32_t retry) const;
  // Uniform in [0, Ceiling(retry)].
  Duration Jittered(uint32_t retry, Xoshiro256& random) const;
  // The wait before retry number `retry`: the server's hint as given when present (it
  // knows when capacity returns; not capped by `max`), else Jittered. nullopt when waiting
  // would use up `time_left` (the route's deadline): the caller gives up, or fails over
  // at once to a deployment the hint does not concern.
  std::optional<Duration> Delay(uint32_t retry, std::optional<Duration> server_hint,
                                Duration time_left, Xoshiro256& random) const;

 private:
  BackoffOptions options_;
};

}  // namespace sluice::routing
