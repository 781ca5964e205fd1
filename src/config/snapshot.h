// The validated, immutable configuration: server limits and timeouts, backends (upstream
// model servers), models (public name → a group of deployments, each a backend + upstream
// model name, with balancing, retry, breaker and fallback settings) and the filter chain. Built
// once per load by config/loader and shared by all workers through std::shared_ptr<const Snapshot>;
// never mutated after construction, so thread-safe.
#pragma once

#include <array>
#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/auth_config.h"
#include "config/limits_config.h"
#include "config/observability_config.h"
#include "config/routing_config.h"
#include "config/units.h"
#include "core/clock.h"
#include "core/filter_chain.h"
#include "core/request_context.h"
#include "limits/price_table.h"

namespace sluice {

using std::chrono::milliseconds;

struct ServerConfig {
  ListenAddress listen{"127.0.0.1", 8080};
  int workers = 1;  // "auto" resolves to the number of cores at load time
  uint64_t max_head_bytes = 64 * 1024;
  size_t max_header_fields = 100;
  uint64_t max_uri_bytes = 8 * 1024;
  uint64_t max_body_bytes = 10 * 1024 * 1024;
  milliseconds header_timeout{10'000};
  milliseconds body_timeout{15'000};
  milliseconds write_timeout{30'000};
  milliseconds keepalive_timeout{60'000};
  milliseconds idle_release_after{1'000};
  milliseconds drain_timeout{120'000};
  uint64_t max_sse_event_bytes = 1024 * 1024;
  bool watch_config = true;  // reload when the configuration file changes
};

// Per-route overrides (routes: in YAML), keyed by RouteKind. A zero timeout means the
// backend's own.
struct RouteConfig {
  uint64_t max_body_bytes = 0;  // 0 → server.max_body_bytes
  milliseconds first_byte_timeout{0};
  milliseconds idle_timeout{0};
  milliseconds total_timeout{0};
};

// The upstream timeouts of one attempt: the route's where it sets one, else the backend's.
struct UpstreamTimeouts {
  milliseconds first_byte;  // request sent → response head (streams: → first event)
  milliseconds idle;        // between two events of a stream
  milliseconds total;       // the whole response (non-streaming), or the stream's end
};

struct BackendConfig {
  size_t index = 0;
  std::string name;
  std::string url;  // as configured, for logs and status (never contains secrets)
  bool tls = false;
  std::string host;  // DNS name or IP literal
  uint16_t port = 0;
  std::string base_path;  // e.g. "/v1", no trailing slash
  std::string host_header;
  std::string api_key;  // secret, from api_key_env; never logged
  std::string api_key_env;
  std::string extra_headers;  // "Name: value\r\n" lines sent on every request
  milliseconds connect_timeout{5'000};
  milliseconds first_byte_timeout{60'000};
  milliseconds idle_timeout{60'000};
  milliseconds total_timeout{600'000};
  milliseconds pool_idle_timeout{60'000};
  size_t max_idle_connections = 64;  // per worker
  uint64_t max_response_bytes = 64 * 1024 * 1024;
  bool tls_verify = true;
  std::string server_name;  // SNI and certificate name; defaults to host
  std::string tls_ca_file;  // extra CA file (empty: the system's)
  std::shared_ptr<boost::asio::ssl::context> tls_context;
  HealthCheckConfig health_check;  // its own health_check:, else routing.health_check
};

// A model group: the public name (and aliases) clients send, and the deployments that serve
// it. Live state (stats, breakers, ejections, retry budget) is not here but in
// routing/routing_runtime, keyed by deployment, so that it can outlive a snapshot.
struct ModelConfig {
  std::string name;
  std::vector<std::string> aliases;
  // The first deployment's backend and upstream model (the whole model with the one-backend
  // shorthand `backend:` + `upstream_model:`).
  const BackendConfig* backend = nullptr;
  std::string upstream_model;
  limits::ModelPrice price;  // zero: the model costs nothing
  size_t index = 0;          // position in Snapshot::models (routing tables are indexed by it)
  std::vector<DeploymentConfig> deployments;  // at least one once loaded
  std::string balancer = "p2c_ewma";          // one of kBalancerNames
  HashKeyConfig hash_key;                     // ring_hash and maglev only
  RetryConfig retries;
  BreakerConfig circuit_breaker;
  OutlierConfig outlier_detection;
  std::vector<FallbackConfig> fallbacks;  // in order; the first whose `on` matches is taken
  SplitConfig split;  // active: no deployments; each request goes to one arm's model
};

// Sections a hot reload cannot change: the listeners and workers, the store, identity and
// the limiter's store and policies are opened once at start (docs/routing.md, "Hot reload").
inline constexpr std::array<std::string_view, 7> kRestartOnlySections{
    "server", "admin", "store", "auth", "limits", "observability", "logging"};

class Snapshot {
 public:
  ServerConfig server;
  std::vector<std::unique_ptr<BackendConfig>> backends;
  std::vector<std::unique_ptr<ModelConfig>> models;
  RouteConfig routes[kRouteKindCount];
  FilterChain chain;
  AuthConfig auth;
  StoreConfig store;
  AdminConfig admin;
  LimitsConfig limits;
  RoutingDefaults routing;  // routing: defaults (already applied to every model)
  ObservabilityConfig observability;
  LoggingConfig logging;
  std::string source;  // file path the snapshot was loaded from
  WallTime loaded_at{};
  // "sha256:" + the first 12 hex digits of the SHA-256 of the file's text: which file
  // this is, in logs, /admin/status and reload answers.
  std::string content_id;
  // The YAML of each section only a restart applies (kRestartOnlySections), in that order,
  // as the loader read it (before ${ENV} interpolation). A reload compares them.
  std::vector<std::string> restart_only_sections;

  // True when the config uses identity and access (auth filters, an admin listener, an
  // auth: or store: section): the server then opens the store and the auth runtime.
  bool UsesAuth() const;
  // Looks up a model by public name or alias.
  const ModelConfig* FindModel(std::string_view name) const;
  // The body of GET /v1/models, built once.
  const std::string& models_json() const { return models_json_; }
  // The same list restricted to the models `include` accepts.
  std::string ModelsJson(const std::function<bool(const ModelConfig&)>& include) const;
  // One model object of that list.
  void AppendModelJson(std::string& out, const ModelConfig& model) const;
  uint64_t MaxBodyBytes(RouteKind route) const;
  UpstreamTimeouts Timeouts(RouteKind route, const BackendConfig& backend) const;
  const RouteConfig& route(RouteKind kind) const { return routes[static_cast<size_t>(kind)]; }

  // Called by the loader once everything is in place.
  void Finalize();

  // The restart-only sections whose text differs between `running` and this snapshot.
  std::vector<std::string_view> RestartOnlyChanges(const Snapshot& running) const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, const ModelConfig*, StringHash, std::equal_to<>> model_index_;
  std::string models_json_;
};

}  // namespace sluice
