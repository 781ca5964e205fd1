// Live routing state that must outlive one configuration snapshot: per deployment (latency
// and load statistics, circuit breaker, own limits), keyed by "<backend>/<upstream_model>",
// and per model group (outlier detector, retry budget), keyed by the group's name,
// deployment list and settings, and per backend (active health, keyed by BackendHealthKey).
// A routing table built for a snapshot takes its entries from here, so a table built for a
// reloaded snapshot (hot reload is planned) keeps the health, EWMA and breaker state of
// every deployment and group that did not change. Thread-safe: a mutex guards the maps
// (taken only while a table is built); the entries are lock-free (see their headers).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "config/snapshot.h"
#include "core/clock.h"
#include "routing/backend_health.h"
#include "routing/circuit_breaker.h"
#include "routing/deployment_limits.h"
#include "routing/deployment_stats.h"
#include "routing/outlier_detector.h"
#include "routing/retry_budget.h"

namespace sluice::routing {

CircuitBreakerOptions ToBreakerOptions(const BreakerConfig& config);
OutlierOptions ToOutlierOptions(const OutlierConfig& config);

// One deployment's live state, shared by every group that lists the deployment. Its identity
// in the registry includes the breaker settings and the own limits: a change gets new state.
struct DeploymentState {
  DeploymentState(const Clock& clock, const BreakerConfig& breaker_config,
                  const DeploymentLimitsConfig& limits_config = {})
      : breaker_config(breaker_config),
        limits_config(limits_config),
        breaker(clock, ToBreakerOptions(breaker_config)),
        limiter(limits_config) {}
  const BreakerConfig breaker_config;
  const DeploymentLimitsConfig limits_config;
  DeploymentStats stats;
  CircuitBreaker breaker;
  DeploymentLimiter limiter;  // requests/tokens per minute; off without `limits:`
};

// One group's live state: ejections are relative to the group (max_ejection_percent), and
// the retry budget counts the group's requests.
struct GroupState {
  GroupState(const Clock& clock, const ModelConfig& model);
  OutlierDetector outliers;
  RetryBudget budget;
};

class RoutingRegistry {
 public:
  // REQUIRES: `clock` outlives the registry and every entry handed out.
  explicit RoutingRegistry(const Clock& clock) : clock_(clock) {}

  // The state of deployment `d`; a new one when none exists or its breaker settings or own
  // limits changed.
  std::shared_ptr<DeploymentState> Deployment(const DeploymentConfig& d,
                                              const BreakerConfig& breaker);
  // The state of `model`'s group; a new one when the group's deployments or settings changed.
  std::shared_ptr<GroupState> Group(const ModelConfig& model);
  // The active health of `backend` (BackendHealthKey); null when it has no health_check.
  std::shared_ptr<BackendHealth> Health(const BackendConfig& backend);
  // Forgets the entries no routing table holds any more.
  void Prune();

  size_t deployment_count() const;
  size_t group_count() const;
  size_t health_count() const;

 private:
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<DeploymentState>, std::less<>> deployments_;
  std::map<std::string, std::shared_ptr<GroupState>, std::less<>> groups_;
  std::map<std::string, std::shared_ptr<BackendHealth>, std::less<>> health_;
};

}  // namespace sluice::routing
