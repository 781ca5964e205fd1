// Everything known about one request while it moves through the gateway: the parsed
// HTTP request, the lazily parsed JSON body, the resolved model, timings, usage and the
// outcome. Created by the session, handed to every filter, read by OnComplete consumers
// (access log, later usage records and metrics). Owned by one session; not thread-safe.
#pragma once

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/errors.h"
#include "core/http_types.h"
#include "core/local_reply.h"
#include "core/principal.h"
#include "core/response_head.h"
#include "core/trace_identity.h"
#include "core/usage.h"

namespace sluice {

class Snapshot;
class StreamBudget;
struct ModelConfig;
struct BackendConfig;
class RequestContext;
namespace routing {
class RoutingTable;
}

enum class RouteKind : uint8_t {
  kNotFound,
  kChatCompletions,
  kCompletions,
  kEmbeddings,
  kListModels,
  kRetrieveModel,
  kHealthLive,
  kHealthReady,
  kHealthStartup,
  kAuthLogin,
  kAuthRefresh,
  kAuthLogout,
  kAuthRegister,
  // Admin listener only (routing/router.h MatchAdminRoute).
  kAdmin,    // /admin/...: the admin API resolves the resource and method itself
  kOpenApi,  // /openapi.json: the admin API's description, public
  kUsage,    // GET /v1/usage: the caller's own usage and remaining quota
  kMetrics,  // GET /metrics: Prometheus text (admin listener; main listener when enabled)
};
inline constexpr size_t kRouteKindCount = static_cast<size_t>(RouteKind::kMetrics) + 1;

// True for routes whose body names a model that is served by an upstream.
bool IsModelRoute(RouteKind route);
bool IsAuthRoute(RouteKind route);

// Resolves the request's model against the active configuration (implemented by
// routing/). Kept behind an interface so core does not depend on config.
class ModelResolver {
 public:
  virtual ~ModelResolver() = default;
  // Sets the context's model or its pending error.
  virtual void Resolve(RequestContext& ctx) const = 0;
};

class RequestContext {
 public:
  RequestContext();
  RequestContext(const RequestContext&) = delete;
  RequestContext& operator=(const RequestContext&) = delete;

  // Starts a new request on this (reused) context.
  void Begin(const HttpRequest& request, const Snapshot* snapshot, const ModelResolver* resolver,
             SteadyTime now, WallTime wall_now);

  const HttpRequest& request() const { return *request_; }
  const Snapshot& snapshot() const { return *snapshot_; }

  // Memory the JSON arena starts in (lent by the connection for this request); without
  // it the context allocates its own on first parse. REQUIRES: valid until ReleaseJson().
  void SetJsonScratch(unsigned char* data, size_t size) {
    scratch_ = data;
    scratch_size_ = size;
  }
  // Destroys the parsed body so the scratch memory can be lent to another request.
  void ReleaseJson();

  // The body parsed as a JSON object, on first call. nullptr when it is not one; the
  // reason is then in pending_error().
  boost::json::object* JsonBody();
  // The model entry the request asks for, resolved on first call. nullptr when the
  // request names no known model; the reason is then in pending_error().
  const ModelConfig* Model();
  // A client error found while parsing or resolving. A filter may reply with it itself;
  // otherwise the gateway replies with it once the request chain has run.
  std::optional<LocalReply>& pending_error() { return pending_error_; }
  void SetModel(const ModelConfig* model) { model_ = model; }
  // The model if it was resolved already (never resolves: for OnComplete consumers).
  const ModelConfig* resolved_model() const { return model_; }

  // --- Identity and routing.
  std::string request_id;
  // The model groups of the request's configuration generation (config/generation.h), set
  // by the session with the snapshot; null without a routing runtime.
  const routing::RoutingTable* routing_table = nullptr;
  RouteKind route = RouteKind::kNotFound;
  std::string_view route_param;  // e.g. the model id of /v1/models/{id}
  std::string_view client_ip;
  // "model" as the client sent it. A view into the JSON arena, which never frees memory
  // before the request ends, so it stays valid even if a filter rewrites the body.
  std::string_view requested_model;
  bool stream = false;              // client asked for SSE
  bool client_wants_usage = false;  // client set stream_options.include_usage
  // Traffic split (routing/traffic_split.h), set with the model when the requested model
  // splits its traffic: Model() is then the chosen arm's model. Views into the snapshot.
  const ModelConfig* split_model = nullptr;  // the model asked for
  std::string_view experiment_arm;           // the arm's name
  std::string_view experiment_label;         // "<model>=<arm>", header x-sluice-experiment
  void ClearSplit() {
    split_model = nullptr;
    experiment_arm = {};
    experiment_label = {};
  }

  // --- Set by the auth filter: who is calling (nullptr until authenticated).
  std::shared_ptr<const Principal> principal;

  // --- Upstream request additions made by filters (e.g. request id propagation).
  HeaderBlock upstream_headers;

  // --- Set by the filter that reserved a token budget (rate_limit): how far a stream may
  // run. The relay counts the completion tokens it forwards only when stream_budget is set;
  // past the allowance it asks stream_budget->Extend and adds what is granted to it, and
  // cuts the stream when nothing is. The budget object must outlive the relay (a filter
  // does: filters live until OnComplete).
  StreamBudget* stream_budget = nullptr;
  int64_t stream_token_allowance = -1;  // completion tokens before Extend; -1 = unlimited

  // --- Outcome, filled by the HTTP layer for OnComplete consumers.
  SteadyTime start{};
  WallTime wall_start{};
  // The wall clock at steady time `now`, derived from the request's start (no clock read).
  WallTime WallAt(SteadyTime now) const {
    return wall_start + std::chrono::duration_cast<WallTime::duration>(now - start);
  }
  SteadyTime upstream_sent{};        // request written upstream
  SteadyTime upstream_first_byte{};  // first response byte from upstream
  SteadyTime first_byte_sent{};      // first response byte written to the client
  SteadyTime end{};
  int status = 0;
  int upstream_status = 0;
  std::string_view backend;         // backend name that served the request
  std::string_view upstream_model;  // model name sent upstream
  uint64_t bytes_in = 0;            // request body bytes from the client
  uint64_t bytes_out = 0;           // response body bytes to the client
  Usage usage;
  ErrorClass error = ErrorClass::kNone;
  std::string error_detail;     // short human-readable cause (no secrets)
  bool usage_recorded = false;  // the usage record was journaled (usage/usage_recorder)

  // --- Observability (metrics, access log, traces), filled along the way.
  SteadyTime upstream_began{};    // first byte written upstream by the first attempt
  SteadyTime upstream_ended{};    // last byte read from the upstream (any attempt)
  SteadyTime first_event_sent{};  // streams: the first event written to the client
  uint32_t attempts = 0;          // upstream attempts (retries = attempts - 1)
  bool fell_back = false;         // a fallback group served (or ended) the request
  std::string_view served_model;  // the model group of the last attempt (fallbacks differ)
  // The rate_limit filter's decision: "allowed", "rejected", "blocked", "unavailable" ("" when
  // no limit applied), the deciding policy when rejected, and the failure policy that decided
  // while the shared store was unreachable ("local_fallback", "fail_open"...; "" normally).
  std::string_view limit_outcome;
  std::string_view limit_policy;
  std::string_view limit_fallback;
  uint64_t config_version = 0;  // the configuration generation the request ran on
  // Tracing (observability/request_trace.h). The timings below are recorded only when
  // trace.sampled.
  TraceIdentity trace;
  std::array<FilterWait, kMaxTracedFilterWaits> filter_waits{};
  uint8_t filter_wait_count = 0;
  std::array<AttemptTrace, kMaxTracedAttempts> attempt_traces{};
  uint8_t attempt_trace_count = 0;

 private:
  const HttpRequest* request_ = nullptr;
  const Snapshot* snapshot_ = nullptr;
  const ModelResolver* resolver_ = nullptr;
  // The JSON arena is rebuilt for every request over a scratch buffer the context keeps:
  // small bodies parse without touching malloc, and no growth carries over between
  // requests (monotonic_resource::release() keeps its doubled block size).
  static constexpr size_t kJsonScratchBytes = 4096;
  std::unique_ptr<unsigned char[]> own_scratch_;
  unsigned char* scratch_ = nullptr;
  size_t scratch_size_ = 0;
  std::optional<boost::json::monotonic_resource> json_arena_;
  std::optional<boost::json::value> json_;  // declared after the arena it lives in
  bool json_parsed_ = false;
  bool model_resolved_ = false;
  const ModelConfig* model_ = nullptr;
  std::optional<LocalReply> pending_error_;
};

}  // namespace sluice
