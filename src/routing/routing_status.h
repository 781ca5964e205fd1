// The live state of a routing table as JSON, for GET /admin/status: per model group its
// balancer, retry budget and ejections, and per deployment its active health, breaker,
// ejection, in-flight attempts, latency EWMA and recent outcomes. Reads lock-free state (an
// ejection read may take the detector's mutex); allocates freely (admin path). Thread-safe.
#pragma once

#include <boost/json/array.hpp>

#include "core/clock.h"
#include "routing/routing_runtime.h"

namespace sluice::routing {

// One object per model of `table`'s snapshot, in configuration order.
boost::json::array RoutingStatusJson(const RoutingTable& table, SteadyTime now);

}  // namespace sluice::routing
