// RoutingRegistry: the keyed live state of deployments and groups.
#include "routing/deployment_registry.h"

#include <sstream>

namespace sluice::routing {

CircuitBreakerOptions ToBreakerOptions(const BreakerConfig& c) {
  CircuitBreakerOptions o;
  o.consecutive_failures = c.consecutive_failures;
  o.failure_ratio = c.failure_ratio;
  o.minimum_requests = c.minimum_requests;
  o.window = c.window;
  o.open_duration = c.open_duration;
  o.half_open_probes = c.half_open_probes;
  return o;
}

OutlierOptions ToOutlierOptions(const OutlierConfig& c) {
  OutlierOptions o;
  o.consecutive_errors = c.consecutive_errors;
  o.consecutive_connect_failures = c.consecutive_connect_failures;
  o.base_ejection_time = c.base_ejection_time;
  o.max_ejection_time = c.max_ejection_time;
  o.interval = c.interval;
  o.max_ejection_percent = c.max_ejection_percent;
  o.panic_threshold_percent = c.panic_threshold_percent;
  return o;
}

namespace {

RetryBudgetOptions ToBudgetOptions(const RetryConfig& c) {
  RetryBudgetOptions o;
  o.ratio = c.budget_ratio;
  o.min_concurrent = c.budget_min_concurrent;
  return o;
}

// Everything a group's live state depends on: a group whose signature is unchanged keeps
// its ejections and budget across tables.
std::string GroupSignature(const ModelConfig& m) {
  std::ostringstream out;
  out << m.name << '|';
  for (const DeploymentConfig& d : m.deployments) out << d.key << ',';
  const OutlierConfig& o = m.outlier_detection;
  out << '|' << o.consecutive_errors << ',' << o.consecutive_connect_failures << ','
      << o.base_ejection_time.count() << ',' << o.max_ejection_time.count() << ','
      << o.interval.count() << ',' << o.max_ejection_percent << ',' << o.panic_threshold_percent
      << '|' << m.retries.budget_ratio << ',' << m.retries.budget_min_concurrent;
  return out.str();
}

}  // namespace

GroupState::GroupState(const Clock& clock, const ModelConfig& model)
    : outliers(clock, model.deployments.size(), ToOutlierOptions(model.outlier_detection)),
      budget(ToBudgetOptions(model.retries)) {}

std::shared_ptr<DeploymentState> RoutingRegistry::Deployment(const DeploymentConfig& d,
                                                             const BreakerConfig& breaker) {
  std::lock_guard lock(mu_);
  auto& entry = deployments_[d.key];
  if (!entry || !(entry->breaker_config == breaker) || !(entry->limits_config == d.limits)) {
    entry = std::make_shared<DeploymentState>(clock_, breaker, d.limits);
  }
  return entry;
}

std::shared_ptr<GroupState> RoutingRegistry::Group(const ModelConfig& model) {
  std::string signature = GroupSignature(model);
  std::lock_guard lock(mu_);
  auto& entry = groups_[signature];
  if (!entry) entry = std::make_shared<GroupState>(clock_, model);
  return entry;
}

std::shared_ptr<BackendHealth> RoutingRegistry::Health(const BackendConfig& backend) {
  if (!backend.health_check.enabled) return nullptr;
  std::string key = BackendHealthKey(backend);
  std::lock_guard lock(mu_);
  auto& entry = health_[key];
  if (!entry) entry = std::make_shared<BackendHealth>(backend.name, backend.health_check);
  return entry;
}

void RoutingRegistry::Prune() {
  std::lock_guard lock(mu_);
  std::erase_if(deployments_, [](const auto& e) { return e.second.use_count() == 1; });
  std::erase_if(groups_, [](const auto& e) { return e.second.use_count() == 1; });
  std::erase_if(health_, [](const auto& e) { return e.second.use_count() == 1; });
}

size_t RoutingRegistry::deployment_count() const {
  std::lock_guard lock(mu_);
  return deployments_.size();
}

size_t RoutingRegistry::group_count() const {
  std::lock_guard lock(mu_);
  return groups_.size();
}

size_t RoutingRegistry::health_count() const {
  std::lock_guard lock(mu_);
  return health_.size();
}

}  // namespace sluice::routing
