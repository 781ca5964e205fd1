// Routing families for /metrics and the available-deployment count for /health/ready.
#include "routing/routing_metrics.h"

#include <string>
#include <vector>

namespace sluice::routing {
namespace {

bool Unhealthy(const ModelGroup& group, size_t i) {
  const BackendHealth* health = group.health(i);
  return health != nullptr && health->state() == HealthState::kUnhealthy;
}

bool Ejected(const ModelGroup& group, size_t i) {
  const OutlierDetector& outliers = group.group_state().outliers;
  return i < outliers.size() && outliers.IsEjected(i);
}

double CircuitValue(BreakerState state) {
  switch (state) {
    case BreakerState::kOpen:
      return 2;
    case BreakerState::kHalfOpen:
      return 1;
    default:
      return 0;
  }
}

struct DeploymentRow {
  std::string model;
  std::string deployment;
  const ModelGroup* group;
  size_t index;
};

}  // namespace

size_t AvailableDeployments(const ModelGroup& group) {
  size_t available = 0;
  for (size_t i = 0; i < group.size(); ++i) {
    if (Unhealthy(group, i) || Ejected(group, i)) continue;
    if (group.state(i).breaker.state() == BreakerState::kOpen) continue;
    ++available;
  }
  return available;
}

void AppendRoutingMetrics(const RoutingTable& table, SteadyTime now, PrometheusText& out) {
  std::vector<DeploymentRow> rows;
  std::vector<std::pair<std::string, uint64_t>> refused;
  for (const auto& model : table.snapshot().models) {
    const ModelGroup* group = table.Group(*model);
    if (group == nullptr) continue;
    refused.emplace_back(model->name, group->group_state().budget.Refused());
    for (size_t i = 0; i < group->size(); ++i) {
      const DeploymentConfig& d = group->deployment(i);
      std::string name = d.backend != nullptr ? d.backend->name : std::string();
      name.push_back('/');
      name.append(d.upstream_model);
      rows.push_back({model->name, std::move(name), group, i});
    }
  }
  auto family = [&](std::string_view name, std::string_view type, std::string_view help,
                    auto value) {
    out.Family(name, type, help);
    for (const DeploymentRow& row : rows) {
      out.Sample(name, {{"model", row.model}, {"deployment", row.deployment}},
                 static_cast<double>(value(row)));
    }
  };
  family("sluice_deployment_healthy", "gauge",
         "1 when the deployment passes its active health checks (or has none), else 0.",
         [](const DeploymentRow& r) { return Unhealthy(*r.group, r.index) ? 0 : 1; });
  family("sluice_deployment_ejected", "gauge", "1 while outlier detection ejects the deployment.",
         [](const DeploymentRow& r) { return Ejected(*r.group, r.index) ? 1 : 0; });
  family("sluice_deployment_circuit_state", "gauge",
         "Circuit breaker state: 0 closed, 1 half-open, 2 open.", [](const DeploymentRow& r) {
           return CircuitValue(r.group->state(r.index).breaker.state());
         });
  family("sluice_deployment_in_flight", "gauge", "Upstream attempts in flight.",
         [](const DeploymentRow& r) { return r.group->state(r.index).stats.InFlight(); });
  family("sluice_deployment_latency_ewma_seconds", "gauge",
         "Latency EWMA the balancer sees, in seconds.", [now](const DeploymentRow& r) {
           return r.group->state(r.index).stats.CostMillis(now) / 1000.0;
         });
  out.Family("sluice_retry_budget_exhausted_total", "counter",
             "Retries refused because the model group's retry budget was spent.");
  for (const auto& [model, count] : refused) {
    out.Sample("sluice_retry_budget_exhausted_total", {{"model", model}}, count);
  }
}

}  // namespace sluice::routing
