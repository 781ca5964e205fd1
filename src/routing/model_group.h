// One model group of a routing table: a model's deployments with their live state, the
// group's balancer, outlier detector, retry budget and backoff. The proxy asks it which
// deployment serves each attempt (Begin) and reports how the attempt went (End); see
// docs/routing.md. Immutable after construction and shared by all workers; thread-safe (the
// live state is lock-free, an ejection takes the detector's mutex). Begin and End allocate
// nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/snapshot.h"
#include "core/random.h"
#include "core/request_context.h"
#include "routing/backoff.h"
#include "routing/balancer.h"
#include "routing/deployment_registry.h"

namespace sluice::routing {

// How one upstream attempt ended, as routing sees it.
enum class AttemptResult : uint8_t {
  kSuccess,         // 2xx/3xx; a stream that ended well
  kServerError,     // 5xx, reset, timeout, malformed response, broken stream
  kConnectFailure,  // connect refused or unreachable, DNS, TLS
  kRateLimited,     // 429: neutral for breaker and detector, a failure for the latency EWMA
  kClientError,     // any other 4xx: neutral
  kCancelled,       // the client went away: neutral
};

// An attempt in flight: the deployment and the breaker permit it was admitted with.
struct AttemptTicket {
  size_t index = 0;
  CircuitBreaker::Permit permit;
  bool limited = false;         // the deployment's own limits were charged
  int64_t reserved_tokens = 0;  // ... with this many tokens (settled by End)
};

// End's `used_tokens` when the attempt's usage is not known: the reservation stands.
inline constexpr int64_t kUsedTokensUnknown = -1;

// Why Begin found no deployment, as far as the deployments' own limits are concerned.
struct OverLimits {
  bool all = false;                   // every deployment still in play was over its own limits
  Duration retry_after = kNeverRoom;  // until the first of them has room (kNeverRoom: never)
};

class ModelGroup {
 public:
  // Takes the live state of the model's deployments and group from `registry`. Null with
  // `error` when the balancer refuses the deployment list (the loader checks it first).
  static std::unique_ptr<ModelGroup> Build(const ModelConfig& model, RoutingRegistry& registry,
                                           std::string& error);

  const ModelConfig& config() const { return config_; }
  size_t size() const { return states_.size(); }
  const DeploymentConfig& deployment(size_t i) const { return config_.deployments[i]; }
  DeploymentState& state(size_t i) const { return *states_[i]; }
  // The active health of deployment i's backend; null when it has no health_check.
  BackendHealth* health(size_t i) const { return health_[i].get(); }
  GroupState& group_state() const { return *group_; }
  const Backoff& backoff() const { return backoff_; }
  const Balancer& balancer() const { return *balancer_; }

  // True when the balancer places requests by a key (ring_hash, maglev).
  bool uses_key_hash() const { return config_.hash_key.kind != HashKeyKind::kNone; }
  // StableHash64 of the request's hash key (user, API key, header or client address; the
  // client address when the request has no such key).
  uint64_t KeyHash(const RequestContext& ctx) const;

  // Picks the deployment of the next attempt: not in `tried`, breaker closed (or admitting
  // probes), not ejected (unless the group is in panic), with room under its own limits for
  // one request of `estimated_tokens`, admitted by its breaker; charges its limits and starts
  // the attempt in its statistics. nullopt when no deployment can take it; `over_limits`, if
  // given, then says whether the deployments' own limits were the reason.
  // Deployments whose backend fails its active health checks are skipped unless all do.
  std::optional<AttemptTicket> Begin(const DeploymentMask& tried, uint64_t key_hash,
                                     Xoshiro256& random, SteadyTime now,
                                     int64_t estimated_tokens = 0,
                                     OverLimits* over_limits = nullptr) const;
  // Ends an attempt Begin started: statistics (`latency` is what the balancer learns),
  // breaker, outlier detector, own limits (a connect failure gives the request back; the
  // tokens are settled to `used_tokens`). REQUIRES: once per ticket.
  void End(const AttemptTicket& ticket, AttemptResult result, SteadyTime now, Duration latency,
           int64_t used_tokens = kUsedTokensUnknown) const;
  // True when some deployment has a tokens_per_minute limit (Begin then needs the estimate).
  bool limits_tokens() const { return limits_tokens_; }

 private:
  ModelGroup(const ModelConfig& config, std::vector<std::shared_ptr<DeploymentState>> states,
             std::shared_ptr<GroupState> group);
  std::optional<AttemptTicket> Choose(const DeploymentMask& tried, uint64_t key_hash,
                                      Xoshiro256& random, SteadyTime now, int64_t tokens) const;
  // Breaker permit, then own limits, of deployment `i`; nullopt (nothing held) when refused.
  std::optional<AttemptTicket> Admit(size_t i, int64_t tokens, SteadyTime now) const;
  OverLimits CheckOverLimits(const DeploymentMask& tried, int64_t tokens, SteadyTime now) const;

  // Active health checks: adds the deployments on an unhealthy backend to `excluded`,
  // unless every deployment's backend is unhealthy (then health is ignored, like panic).
  void ExcludeUnhealthy(DeploymentMask& excluded) const;

  const ModelConfig& config_;
  std::vector<std::shared_ptr<DeploymentState>> states_;  // index-aligned with deployments
  std::vector<std::shared_ptr<BackendHealth>> health_;    // index-aligned; null: no checks
  bool has_health_checks_ = false;                        // some backend has a health_check
  std::shared_ptr<GroupState> group_;
  std::unique_ptr<Balancer> balancer_;
  Backoff backoff_;
  bool has_limits_ = false;     // some deployment has own limits
  bool limits_tokens_ = false;  // some deployment limits tokens per minute
};

}  // namespace sluice::routing
