// DeploymentLimiter: GCRA counters for a deployment's requests and tokens per minute.
#include "routing/deployment_limits.h"

#include <algorithm>

namespace sluice::routing {
namespace {

constexpr int64_t kMinuteNs = 60'000'000'000;

}  // namespace

void DeploymentLimiter::Counter::Configure(int64_t per_minute) {
  on = per_minute > 0;
  // The burst is the whole minute's allowance: an idle deployment takes `per_minute` at once,
  // then one more every minute / per_minute.
  if (on) params = limits::MakeGcraParams(per_minute, kMinuteNs, per_minute);
}

int64_t DeploymentLimiter::Counter::WaitNs(int64_t amount, int64_t now_ns) const {
  if (!on) return 0;
  limits::GcraResult r =
      limits::GcraCharge(tat_ns.load(std::memory_order_relaxed), now_ns, amount, params);
  if (r.allowed) return 0;
  if (r.never_passes) return -1;
  return std::max<int64_t>(1, r.retry_after_us);  // nanoseconds here (see Counter)
}

bool DeploymentLimiter::Counter::TryCharge(int64_t amount, int64_t now_ns) {
  if (!on) return true;
  int64_t tat = tat_ns.load(std::memory_order_relaxed);
  for (;;) {
    limits::GcraResult r = limits::GcraCharge(tat, now_ns, amount, params);
    if (!r.allowed) return false;
    if (tat_ns.compare_exchange_weak(tat, r.new_tat, std::memory_order_relaxed)) return true;
  }
}

void DeploymentLimiter::Counter::Adjust(int64_t delta, int64_t now_ns) {
  if (!on || delta == 0) return;
  int64_t tat = tat_ns.load(std::memory_order_relaxed);
  while (!tat_ns.compare_exchange_weak(tat, limits::GcraAdjust(tat, now_ns, delta, params),
                                       std::memory_order_relaxed)) {
  }
}

int64_t DeploymentLimiter::Counter::Remaining(int64_t now_ns) const {
  if (!on) return -1;
  return limits::GcraPeek(tat_ns.load(std::memory_order_relaxed), now_ns, params).remaining;
}

DeploymentLimiter::DeploymentLimiter(const DeploymentLimitsConfig& config) {
  requests_.Configure(config.requests_per_minute);
  tokens_.Configure(config.tokens_per_minute);
}

Duration DeploymentLimiter::WaitFor(int64_t tokens, SteadyTime now) const {
  const int64_t now_ns = Ns(now);
  const int64_t for_tokens = tokens_.WaitNs(std::max<int64_t>(0, tokens), now_ns);
  if (for_tokens < 0) return kNeverRoom;
  const int64_t wait = std::max(requests_.WaitNs(1, now_ns), for_tokens);
  return std::chrono::duration_cast<Duration>(std::chrono::nanoseconds(wait));
}

bool DeploymentLimiter::TryTake(int64_t tokens, SteadyTime now) {
  const int64_t now_ns = Ns(now);
  tokens = std::max<int64_t>(0, tokens);
  if (!requests_.TryCharge(1, now_ns)) return false;
  if (!tokens_.TryCharge(tokens, now_ns)) {
    requests_.Adjust(-1, now_ns);  // all or nothing: the request slot goes back
    return false;
  }
  return true;
}

void DeploymentLimiter::Refund(int64_t tokens, SteadyTime now) {
  const int64_t now_ns = Ns(now);
  requests_.Adjust(-1, now_ns);
  tokens_.Adjust(-std::max<int64_t>(0, tokens), now_ns);
}

void DeploymentLimiter::SettleTokens(int64_t reserved, int64_t used, SteadyTime now) {
  tokens_.Adjust(std::max<int64_t>(0, used) - std::max<int64_t>(0, reserved), Ns(now));
}

}  // namespace sluice::routing
