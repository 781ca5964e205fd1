// A deployment's own rate limits (issue 5: "optional own limits (requests/tokens per minute,
// to stay under a provider's quota)"): one GCRA counter (limits/gcra.h) per configured limit,
// each allowing its whole per-minute amount at once and refilling continuously. Held by
// DeploymentState, so every group that lists the deployment shares it; ModelGroup::Begin skips
// a deployment without room and charges the one it picks, End settles the tokens with the real
// usage. Counted per gateway instance (docs/routing.md, "Deployment limits"). Thread-safe and
// lock-free: each counter is one atomic theoretical arrival time changed by CAS.
#pragma once

#include <atomic>
#include <cstdint>

#include "config/routing_config.h"
#include "core/clock.h"
#include "limits/gcra.h"

namespace sluice::routing {

// WaitFor's answer when a request can never pass (more tokens than a whole minute's limit).
inline constexpr Duration kNeverRoom = Duration::max();

class DeploymentLimiter {
 public:
  explicit DeploymentLimiter(const DeploymentLimitsConfig& config);
  DeploymentLimiter(const DeploymentLimiter&) = delete;
  DeploymentLimiter& operator=(const DeploymentLimiter&) = delete;

  bool enabled() const { return requests_.on || tokens_.on; }
  bool limits_tokens() const { return tokens_.on; }

  // How long until a request of `tokens` (prompt + completion estimate) would pass: zero when
  // it would pass now (or nothing is limited), kNeverRoom when `tokens` exceed the whole
  // per-minute token limit. No side effect.
  Duration WaitFor(int64_t tokens, SteadyTime now) const;
  bool HasRoom(int64_t tokens, SteadyTime now) const { return WaitFor(tokens, now).count() == 0; }
  // Charges one request and `tokens`, all or nothing; false (nothing charged) without room.
  // A concurrent decider may see the request charge of a refused take for an instant.
  bool TryTake(int64_t tokens, SteadyTime now);
  // Gives back what TryTake charged: the attempt never reached the provider.
  void Refund(int64_t tokens, SteadyTime now);
  // Turns a reservation of `reserved` tokens into the `used` ones (a refund or an extra charge;
  // an extra charge may put the counter in debt, which later requests wait out).
  void SettleTokens(int64_t reserved, int64_t used, SteadyTime now);

  // What is left at `now` (for status pages and tests); -1 when the limit is off.
  int64_t RemainingRequests(SteadyTime now) const { return requests_.Remaining(Ns(now)); }
  int64_t RemainingTokens(SteadyTime now) const { return tokens_.Remaining(Ns(now)); }

 private:
  // One GCRA counter over nanoseconds of the steady clock (fine enough for limits up to
  // 6e10 per minute; the loader allows less).
  struct Counter {
    bool on = false;
    limits::GcraParams params;
    std::atomic<int64_t> tat_ns{0};

    void Configure(int64_t per_minute);
    int64_t WaitNs(int64_t amount, int64_t now_ns) const;
    bool TryCharge(int64_t amount, int64_t now_ns);
    void Adjust(int64_t delta, int64_t now_ns);
    int64_t Remaining(int64_t now_ns) const;
  };

  static int64_t Ns(SteadyTime t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }

  Counter requests_;
  Counter tokens_;
};

}  // namespace sluice::routing
