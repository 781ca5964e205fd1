// The long-lived runtime components that filters and handlers need beyond the config
// snapshot (identity and access, traffic control, routing state). Passed to the filter
// registry and the workers by the server; absent (nullptr) in `sluice config check`, where
// factories only validate. Forward declarations only, to keep core free of the components'
// dependencies.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace sluice {

class AuthRuntime;
class GatewayControl;
class MetricsRegistry;
class Tracer;
class UsageRecorder;
namespace limits {
class LimitsRuntime;
}
namespace routing {
class HealthChecker;
class RoutingRuntime;
}  // namespace routing

// A dependency /health/ready reports on (the store, the limiter's Redis). `check` runs on a
// worker thread at probe time and must not block (it reads state others keep up to date);
// it sets `detail` when not ok. A check that is not `required` is shown but does not make
// the gateway unready (a degraded dependency with a fallback).
struct ReadinessCheck {
  std::string name;
  bool required = true;
  std::function<bool(std::string& detail)> check;
};

struct Services {
  AuthRuntime* auth = nullptr;
  limits::LimitsRuntime* limits = nullptr;  // when the config has a limits: section
  UsageRecorder* usage = nullptr;           // when usage records are kept (a store)
  // Model groups' live state (balancers, breakers, ejections, retry budgets). Null: the
  // proxy sends each model to its first deployment, without retries or fallbacks.
  routing::RoutingRuntime* routing = nullptr;
  // Active health checks; a reload hands it the new routing table.
  routing::HealthChecker* health = nullptr;
  // Configuration reload and status, for the admin API (set once the server exists).
  GatewayControl* control = nullptr;
  // Per-thread metric cells are taken from it by each worker; null: nothing is counted.
  MetricsRegistry* metrics = nullptr;
  // Request tracing (observability/request_trace.h); null when observability.tracing has
  // no endpoint (an incoming traceparent is then still logged and passed upstream).
  Tracer* tracer = nullptr;
  std::vector<ReadinessCheck> readiness_checks;
};

}  // namespace sluice
