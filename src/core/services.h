// The long-lived runtime components that filters and handlers need beyond the config
// snapshot (identity and access, traffic control, routing state). Passed to the filter
// registry and the workers by the server; absent (nullptr) in `sluice config check`, where
// factories only validate. Forward declarations only, to keep core free of the components'
// dependencies.
#pragma once

namespace sluice {

class AuthRuntime;
class GatewayControl;
class UsageRecorder;
namespace limits {
class LimitsRuntime;
}
namespace routing {
class HealthChecker;
class RoutingRuntime;
}  // namespace routing

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
};

}  // namespace sluice
