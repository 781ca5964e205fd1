// RoutingStatusJson: model groups and deployments as the admin status shows them.
#include "routing/routing_status.h"

#include <boost/json/object.hpp>
#include <cmath>

namespace sluice::routing {
namespace {
namespace json = boost::json;

std::string_view BreakerName(BreakerState state) {
  switch (state) {
    case BreakerState::kOpen:
      return "open";
    case BreakerState::kHalfOpen:
      return "half_open";
    default:
      return "closed";
  }
}

std::string_view HealthName(const BackendHealth* health) {
  if (health == nullptr) return "not_checked";
  switch (health->state()) {
    case HealthState::kHealthy:
      return "healthy";
    case HealthState::kUnhealthy:
      return "unhealthy";
    default:
      return "unknown";
  }
}

double Round3(double value) { return std::round(value * 1000.0) / 1000.0; }

json::object DeploymentJson(const ModelGroup& group, size_t i, SteadyTime now) {
  const DeploymentConfig& d = group.deployment(i);
  const DeploymentState& state = group.state(i);
  const OutlierDetector& outliers = group.group_state().outliers;
  json::object out;
  out["key"] = d.key;
  out["backend"] = d.backend != nullptr ? d.backend->name : "";
  out["upstream_model"] = d.upstream_model;
  out["weight"] = d.weight;
  const BackendHealth* health = group.health(i);
  out["health"] = HealthName(health);
  if (health != nullptr && !health->last_error().empty()) {
    out["health_last_error"] = health->last_error();
  }
  out["breaker"] = BreakerName(state.breaker.state());
  bool ejected = i < outliers.size() && outliers.IsEjected(i);
  out["ejected"] = ejected;
  if (ejected) {
    out["ejected_for_ms"] =
        std::chrono::duration_cast<std::chrono::milliseconds>(outliers.EjectedUntil(i) - now)
            .count();
    out["ejections"] = outliers.Ejections(i);
  }
  out["in_flight"] = state.stats.InFlight();
  out["ewma_latency_ms"] = Round3(state.stats.CostMillis(now));
  WindowTotals recent = state.stats.RecentOutcomes(now);
  out["recent_requests"] = recent.requests;
  out["recent_failures"] = recent.failures;
  out["recent_error_rate"] = Round3(recent.FailureRatio());
  return out;
}

}  // namespace

json::array RoutingStatusJson(const RoutingTable& table, SteadyTime now) {
  json::array models;
  for (const auto& model : table.snapshot().models) {
    const ModelGroup* group = table.Group(*model);
    if (group == nullptr) continue;
    json::object entry;
    entry["name"] = model->name;
    json::array aliases;
    for (const std::string& alias : model->aliases) aliases.emplace_back(alias);
    entry["aliases"] = std::move(aliases);
    entry["balancer"] = model->balancer;
    const GroupState& state = group->group_state();
    entry["ejected"] = state.outliers.EjectedCount();
    json::object budget;
    budget["requests_in_flight"] = state.budget.RequestsInFlight();
    budget["retries_in_flight"] = state.budget.RetriesInFlight();
    budget["retries_allowed"] = state.budget.Allowed();
    budget["retries_refused"] = state.budget.Refused();
    entry["retry_budget"] = std::move(budget);
    json::array deployments;
    for (size_t i = 0; i < group->size(); ++i)
      deployments.push_back(DeploymentJson(*group, i, now));
    entry["deployments"] = std::move(deployments);
    models.push_back(std::move(entry));
  }
  return models;
}

}  // namespace sluice::routing
