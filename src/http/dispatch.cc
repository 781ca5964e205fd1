// Dispatch: filters first, then the route's handler.
#include "http/dispatch.h"

#include <array>

#include "admin/admin_api.h"
#include "config/snapshot.h"
#include "core/json_text.h"
#include "http/auth_endpoints.h"
#include "http/probes.h"
#include "http/proxy.h"
#include "http/response_writer.h"
#include "http/timing_headers.h"
#include "http/usage_endpoint.h"
#include "routing/traffic_split.h"

namespace sluice {
namespace asio = boost::asio;

namespace {

LocalReply ModelReply(const Snapshot& snapshot, const ModelConfig& model) {
  std::string body;
  snapshot.AppendModelJson(body, model);
  return JsonReply(200, std::move(body));
}

LocalReply TakePendingError(RequestContext& ctx) {
  if (ctx.pending_error()) return std::move(*ctx.pending_error());
  return ErrorReply(ErrorClass::kInternal, "The request could not be resolved.");
}

// The reply for a request no filter answered and no upstream serves.
std::optional<LocalReply> RouteReply(const Worker& worker, RequestContext& ctx,
                                     const RouteMatch& route) {
  const HttpRequest& request = ctx.request();
  if (route.kind == RouteKind::kNotFound) {
    std::string message = "Invalid URL (";
    message.append(request.method_text);
    message.push_back(' ');
    message.append(request.path);
    message.push_back(')');
    return ErrorReply(ErrorClass::kRouteNotFound, message);
  }
  if (!route.method_allowed) {
    std::string message = "Method ";
    message.append(request.method_text);
    message.append(" is not allowed for ");
    message.append(request.path);
    message.append(".");
    LocalReply reply = ErrorReply(ErrorClass::kMethodNotAllowed, message);
    reply.headers.Add("Allow", route.allow);
    return reply;
  }
  switch (route.kind) {
    case RouteKind::kHealthLive:
    case RouteKind::kHealthReady:
    case RouteKind::kHealthStartup:
      return ProbeReply(worker, ctx);
    case RouteKind::kMetrics:
      return MetricsReply(worker, ctx);
    case RouteKind::kListModels:
      return JsonReply(200, ctx.snapshot().models_json());
    case RouteKind::kRetrieveModel:
      if (const ModelConfig* model = ctx.Model()) return ModelReply(ctx.snapshot(), *model);
      return TakePendingError(ctx);
    default:
      break;
  }
  if (ctx.Model() == nullptr) return TakePendingError(ctx);
  return std::nullopt;  // a model request with a known model: proxy it
}

}  // namespace

asio::awaitable<void> SendLocalReply(ClientSink& client, RequestContext& ctx, ChainRun& chain,
                                     LocalReply& reply) {
  ResponseHead head;
  head.status = reply.status;
  head.content_type = std::move(reply.content_type);
  head.headers = std::move(reply.headers);
  if (!ctx.experiment_label.empty()) {
    head.headers.Add(routing::kExperimentHeader, ctx.experiment_label);
  }
  if (reply.error != ErrorClass::kNone) ctx.error = reply.error;
  AddTimingHeaders(ctx, head.headers);
  chain.ResponseHead(head);
  if (chain.wants_response_body()) chain.ResponseBody(reply.body);
  ctx.status = head.status;
  bool head_only = ctx.request().method == Method::kHead;
  std::string& out = client.buffers().head;
  out.clear();
  HeadFraming framing;
  framing.content_length = reply.body.size();
  framing.keep_alive = client.keep_alive();
  framing.minor_version = client.minor_version();
  AppendResponseHead(out, head.status, head.content_type, head.headers, ctx.request_id, framing);
  std::array<asio::const_buffer, 2> buffers{asio::buffer(out), asio::buffer(reply.body)};
  size_t count = head_only ? 1 : 2;
  ctx.first_byte_sent = std::chrono::steady_clock::now();
  if (co_await client.Write(std::span(buffers.data(), count))) {
    ctx.bytes_out = head_only ? 0 : reply.body.size();
  } else {
    ctx.error = ErrorClass::kClientClosed;
  }
}

asio::awaitable<void> Dispatch(Worker& worker, ClientSink& client, RequestContext& ctx,
                               ChainRun& chain, const RouteMatch& route) {
  std::optional<LocalReply> reply = co_await chain.RunRequest();
  if (!reply && route.method_allowed && IsAuthRoute(route.kind)) {
    reply = co_await HandleAuthEndpoint(worker.services().auth, ctx);
  }
  if (!reply && route.kind == RouteKind::kAdmin) {
    reply = co_await HandleAdminRequest(worker.services(), ctx);
  }
  if (!reply && route.method_allowed && route.kind == RouteKind::kOpenApi) reply = OpenApiReply();
  if (!reply && route.method_allowed && route.kind == RouteKind::kUsage) {
    reply = co_await HandleUsageRequest(worker.services(), ctx);
  }
  if (!reply) reply = RouteReply(worker, ctx, route);
  if (reply) {
    co_await SendLocalReply(client, ctx, chain, *reply);
    co_return;
  }
  co_await ForwardToUpstream(worker, client, ctx, chain, *ctx.Model());
}

}  // namespace sluice
