// Settings of model groups (issue 5): a model's deployments, its balancer and hash key,
// retries, circuit breaker, outlier detection and fallbacks, plus the `routing:` defaults
// every model inherits. Plain values read by config/routing_loader; routing/routing_runtime
// turns them into live objects (balancers, breakers, detectors, budgets). Part of the
// immutable Snapshot; thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice {

struct BackendConfig;
struct ModelConfig;

// A deployment's own rate limits (`limits:`), to stay under a provider's quota; 0: no limit.
// Counted per gateway instance (docs/routing.md, "Deployment limits").
struct DeploymentLimitsConfig {
  int64_t requests_per_minute = 0;
  int64_t tokens_per_minute = 0;  // prompt + completion tokens
  bool any() const { return requests_per_minute > 0 || tokens_per_minute > 0; }
  bool operator==(const DeploymentLimitsConfig&) const = default;
};

// One deployment of a model group: a backend plus the model name sent to it.
struct DeploymentConfig {
  const BackendConfig* backend = nullptr;
  std::string upstream_model;
  uint32_t weight = 1;                                    // 0: drained (never picked)
  std::vector<std::pair<std::string, std::string>> tags;  // informational (region, tier, cost)
  DeploymentLimitsConfig limits;                          // skipped while over them
  // "<backend>/<upstream_model>": the deployment's identity. Live state (stats, breaker) is
  // keyed by it, consistent hashing places the deployment by it.
  std::string key;
};

// The balancer names routing/balancer.h ParseBalancerKind accepts (config/ cannot depend on
// routing/; a routing test checks the two lists agree).
inline constexpr std::array<std::string_view, 7> kBalancerNames{
    "round_robin", "weighted_round_robin", "random", "least_outstanding", "p2c_ewma", "ring_hash",
    "maglev"};

// What the consistent-hash balancers hash: the principal's user, its API key, a request
// header or the client address. A request without the key hashes its client address.
enum class HashKeyKind : uint8_t { kNone, kUser, kApiKey, kHeader, kClientIp };

struct HashKeyConfig {
  HashKeyKind kind = HashKeyKind::kNone;
  std::string header;  // kHeader: the header name
};

struct RetryConfig {
  uint32_t attempts = 2;  // retries after the first attempt, each on another deployment
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_max{2'000};
  double budget_ratio = 0.2;
  uint32_t budget_min_concurrent = 3;
};

struct BreakerConfig {
  uint32_t consecutive_failures = 5;  // 0: off
  double failure_ratio = 0;           // 0: off
  uint32_t minimum_requests = 20;
  std::chrono::milliseconds window{10'000};
  std::chrono::milliseconds open_duration{30'000};
  uint32_t half_open_probes = 1;
  bool operator==(const BreakerConfig&) const = default;
};

struct OutlierConfig {
  uint32_t consecutive_errors = 5;            // 0: off
  uint32_t consecutive_connect_failures = 0;  // 0: off
  std::chrono::milliseconds base_ejection_time{30'000};
  std::chrono::milliseconds max_ejection_time{300'000};
  std::chrono::milliseconds interval{10'000};
  double max_ejection_percent = 10;
  double panic_threshold_percent = 50;
  bool operator==(const OutlierConfig&) const = default;
};

// Active health checks of a backend (`health_check:` on a backend, `routing.health_check`
// defaults): a GET (or HEAD) of `path` on the backend's host every `interval`; never a
// completion endpoint. routing/health_checker runs them, routing/backend_health keeps the
// verdict.
struct HealthStatusRange {
  uint16_t low = 200;
  uint16_t high = 299;
  bool operator==(const HealthStatusRange&) const = default;
};

struct HealthCheckConfig {
  bool enabled = false;          // off unless configured
  std::string path = "/health";  // from the root of the host, not under the URL's base path
  std::string method = "GET";    // GET or HEAD
  std::chrono::milliseconds interval{10'000};
  std::chrono::milliseconds timeout{2'000};
  uint32_t healthy_threshold = 2;    // successes in a row that bring an unhealthy backend back
  uint32_t unhealthy_threshold = 3;  // failures in a row that make a backend unhealthy
  std::vector<HealthStatusRange> expected_status{HealthStatusRange{}};  // default 200-299
  bool operator==(const HealthCheckConfig&) const = default;
};

// Error classes after which a request moves on to a fallback group (bits of `on`).
enum FallbackOn : uint8_t {
  kFallbackRateLimited = 1 << 0,    // the last attempt got 429
  kFallbackUnavailable = 1 << 1,    // connect failure, reset, timeout, 5xx, no deployment
  kFallbackContextWindow = 1 << 2,  // 400 context_length_exceeded
  kFallbackContentPolicy = 1 << 3,  // 400 content_policy_violation / content_filter
};

struct FallbackConfig {
  uint8_t on = kFallbackRateLimited | kFallbackUnavailable;
  std::string to;                      // model name or alias, as configured
  const ModelConfig* model = nullptr;  // resolved by the loader
};

// Traffic splits (`split:` + `experiment:`, read by config/split_loader; arms chosen by
// routing/traffic_split). A model with a split has no deployments of its own: each request
// is served by the model of one arm.
// What sticky assignment hashes. kAuto: the API key (or principal) when the request is
// authenticated, else the client address. kNone: weighted random per request.
enum class SplitSticky : uint8_t { kAuto, kNone, kUser, kApiKey, kClientIp };

struct SplitArm {
  std::string name;                    // unique in the split; [A-Za-z0-9._-], at most 64
  std::string model_name;              // as configured (a model name or alias)
  const ModelConfig* model = nullptr;  // resolved by the loader; never itself split
  uint32_t weight = 1;                 // > 0, relative
  uint64_t weight_end = 0;             // running sum of weights up to this arm, inclusive
  std::string label;                   // "<split model>=<arm>": x-sluice-experiment
};

struct SplitConfig {
  std::vector<SplitArm> arms;           // empty: the model does not split
  std::string header = "X-Experiment";  // names an arm to force it; empty: off
  SplitSticky sticky = SplitSticky::kAuto;
  uint64_t total_weight = 0;  // == arms.back().weight_end
  bool active() const { return !arms.empty(); }
};

// The `routing:` section: what every model group uses unless it overrides a block.
struct RoutingDefaults {
  RetryConfig retries;
  BreakerConfig circuit_breaker;
  OutlierConfig outlier_detection;
  HealthCheckConfig health_check;  // backends without their own health_check: use this
};

}  // namespace sluice
