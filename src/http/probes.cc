// Probes and the metrics endpoint.
#include "http/probes.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "observability/metrics_registry.h"
#include "routing/routing_metrics.h"

namespace sluice {
namespace {
namespace json = boost::json;

json::object Check(bool ok, std::string_view detail = {}) {
  json::object out;
  out["ok"] = ok;
  if (!detail.empty()) out["detail"] = detail;
  return out;
}

LocalReply ProbeJson(bool ok, std::string_view good, std::string_view bad, json::object extra) {
  json::object body;
  body["status"] = ok ? good : bad;
  for (auto& [key, value] : extra) body[key] = std::move(value);
  return JsonReply(ok ? 200 : 503, json::serialize(body));
}

// Every required model group has a deployment that could take a request now.
bool CheckModels(const RequestContext& ctx, json::object& checks) {
  const auto& required = ctx.snapshot().observability.required_models;
  if (required.empty()) return true;
  json::object models;
  bool all = true;
  for (const std::string& name : required) {
    const ModelConfig* model = ctx.snapshot().FindModel(name);
    const routing::ModelGroup* group = model != nullptr && ctx.routing_table != nullptr
                                           ? ctx.routing_table->Group(*model)
                                           : nullptr;
    size_t available = group != nullptr ? routing::AvailableDeployments(*group) : 0;
    json::object entry = Check(available > 0, available > 0 ? "" : "no deployment available");
    entry["available"] = available;
    entry["deployments"] = group != nullptr ? group->size() : 0;
    all = all && available > 0;
    models[name] = std::move(entry);
  }
  models["ok"] = all;
  checks["models"] = std::move(models);
  return all;
}

LocalReply Ready(const Worker& worker, const RequestContext& ctx) {
  json::object checks;
  bool ready = true;
  bool started = worker.started();
  checks["started"] = Check(started, started ? "" : "starting");
  ready = ready && started;
  // A drain clears the process's ready flag at once; each worker learns it when posted.
  bool draining = worker.draining() || (started && !worker.ready());
  checks["draining"] = Check(!draining, draining ? "draining" : "");
  ready = ready && !draining;
  json::object config = Check(true);
  config["version"] = ctx.config_version;
  config["content_id"] = ctx.snapshot().content_id;
  checks["config"] = std::move(config);
  for (const ReadinessCheck& check : worker.services().readiness_checks) {
    std::string detail;
    bool ok = check.check(detail);
    json::object entry = Check(ok, detail);
    if (!check.required) entry["required"] = false;
    checks[check.name] = std::move(entry);
    if (check.required) ready = ready && ok;
  }
  ready = CheckModels(ctx, checks) && ready;
  json::object extra;
  extra["checks"] = std::move(checks);
  return ProbeJson(ready, "ready", "not_ready", std::move(extra));
}

}  // namespace

LocalReply ProbeReply(const Worker& worker, const RequestContext& ctx) {
  switch (ctx.route) {
    case RouteKind::kHealthLive:
      // The worker's loop answered: the process is alive (a stuck loop cannot answer).
      return JsonReply(200, "{\"status\":\"ok\"}");
    case RouteKind::kHealthStartup:
      return worker.started() ? JsonReply(200, "{\"status\":\"started\"}")
                              : JsonReply(503, "{\"status\":\"starting\"}");
    default:
      return Ready(worker, ctx);
  }
}

LocalReply MetricsReply(const Worker& worker, const RequestContext& ctx) {
  const MetricsConfig& config = ctx.snapshot().observability.metrics;
  MetricsRegistry* registry = worker.services().metrics;
  bool served =
      config.enabled && registry != nullptr && (worker.admin() || config.on_main_listener);
  if (!served) {
    std::string message = "Invalid URL (";
    message.append(ctx.request().method_text);
    message.append(" /metrics)");
    return ErrorReply(ErrorClass::kRouteNotFound, message);
  }
  LocalReply reply;
  reply.status = 200;
  reply.content_type = "text/plain; version=0.0.4; charset=utf-8";
  reply.body = registry->Scrape();
  return reply;
}

}  // namespace sluice
