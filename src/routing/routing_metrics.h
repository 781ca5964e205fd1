// The routing table's live state as Prometheus families (per deployment: health, ejection,
// breaker, in-flight, latency EWMA; per group: retries refused by the budget), and the
// readiness question "can this model group take a request now?". Read at scrape or probe
// time from lock-free state (an ejection read may take the detector's mutex); allocates
// freely (admin path). Thread-safe.
#pragma once

#include "core/clock.h"
#include "observability/prometheus_text.h"
#include "routing/routing_runtime.h"

namespace sluice::routing {

void AppendRoutingMetrics(const RoutingTable& table, SteadyTime now, PrometheusText& out);

// Deployments of `group` a request could be sent to now: not failing active health checks,
// not ejected, breaker not open.
size_t AvailableDeployments(const ModelGroup& group);

}  // namespace sluice::routing
