// Model resolution and the body checks the core needs before proxying.
#include "routing/model_resolver.h"

#include <boost/json/object.hpp>
#include <chrono>
#include <random>

#include "config/snapshot.h"
#include "routing/traffic_split.h"

namespace sluice {
namespace {

void NotFound(RequestContext& ctx, std::string_view model) {
  std::string message = "The model `";
  message.append(model);
  message.append("` does not exist or you do not have access to it.");
  ctx.pending_error() = ErrorReply(ErrorClass::kModelNotFound, message, "model");
}

// The worker's generator for weighted random arms (not for secrets).
Xoshiro256& ThreadRandom() {
  thread_local Xoshiro256 random(
      std::random_device{}() ^
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  return random;
}

// A split model is served by one of its arms: the context gets the arm's model (so access
// checks, limits and prices apply to it) and remembers the split for headers and records.
void ResolveSplit(RequestContext& ctx, const ModelConfig& model) {
  routing::ArmChoice choice = routing::ChooseArm(model, ctx, ThreadRandom());
  if (choice.arm == nullptr || choice.arm->model == nullptr) {
    ctx.pending_error() = routing::UnknownArmReply(model, choice.header_value);
    return;
  }
  ctx.split_model = &model;
  ctx.experiment_arm = choice.arm->name;
  ctx.experiment_label = choice.arm->label;
  ctx.SetModel(choice.arm->model);
}

}  // namespace

const ModelTableResolver& ModelTableResolver::Instance() {
  static const ModelTableResolver resolver;
  return resolver;
}

void ModelTableResolver::Resolve(RequestContext& ctx) const {
  if (ctx.route == RouteKind::kRetrieveModel) {
    ctx.requested_model = ctx.route_param;
    const ModelConfig* m = ctx.snapshot().FindModel(ctx.route_param);
    if (m == nullptr) {
      NotFound(ctx, ctx.route_param);
    } else {
      ctx.SetModel(m);
    }
    return;
  }
  if (!IsModelRoute(ctx.route)) return;
  boost::json::object* body = ctx.JsonBody();
  if (body == nullptr) return;  // pending_error already says why
  const boost::json::value* model = body->if_contains("model");
  if (model == nullptr || model->is_null()) {
    ctx.pending_error() =
        ErrorReply(ErrorClass::kInvalidRequest, "you must provide a model parameter", "model");
    return;
  }
  if (!model->is_string() || model->get_string().empty()) {
    ctx.pending_error() =
        ErrorReply(ErrorClass::kInvalidRequest, "'model' must be a non-empty string.", "model");
    return;
  }
  std::string_view name = model->get_string();
  ctx.requested_model = name;
  if (const boost::json::value* stream = body->if_contains("stream")) {
    if (stream->is_bool()) {
      ctx.stream = stream->get_bool() && ctx.route != RouteKind::kEmbeddings;
    } else if (!stream->is_null()) {
      ctx.pending_error() =
          ErrorReply(ErrorClass::kInvalidRequest, "'stream' must be a boolean.", "stream");
      return;
    }
  }
  if (const boost::json::value* options = body->if_contains("stream_options");
      options != nullptr && options->is_object()) {
    const boost::json::value* include = options->get_object().if_contains("include_usage");
    ctx.client_wants_usage = include != nullptr && include->is_bool() && include->get_bool();
  }
  const ModelConfig* m = ctx.snapshot().FindModel(name);
  if (m == nullptr) {
    NotFound(ctx, name);
    return;
  }
  if (m->split.active()) {
    ResolveSplit(ctx, *m);
    return;
  }
  ctx.SetModel(m);
}

}  // namespace sluice
