// RequestContext: reset between requests and the lazy JSON body parse.
#include "core/request_context.h"

#include <boost/json/parse.hpp>

namespace sluice {

bool IsModelRoute(RouteKind route) {
  return route == RouteKind::kChatCompletions || route == RouteKind::kCompletions ||
         route == RouteKind::kEmbeddings;
}

bool IsAuthRoute(RouteKind route) {
  return route == RouteKind::kAuthLogin || route == RouteKind::kAuthRefresh ||
         route == RouteKind::kAuthLogout || route == RouteKind::kAuthRegister;
}

RequestContext::RequestContext() = default;

void RequestContext::Begin(const HttpRequest& request, const Snapshot* snapshot,
                           const ModelResolver* resolver, SteadyTime now, WallTime wall_now) {
  request_ = &request;
  snapshot_ = snapshot;
  resolver_ = resolver;
  json_.reset();
  json_arena_.reset();
  json_parsed_ = false;
  model_resolved_ = false;
  model_ = nullptr;
  pending_error_.reset();
  request_id.clear();
  route = RouteKind::kNotFound;
  route_param = {};
  client_ip = {};
  requested_model = {};
  stream = false;
  client_wants_usage = false;
  ClearSplit();
  upstream_headers.Clear();
  stream_budget = nullptr;
  stream_token_allowance = -1;
  principal.reset();
  start = now;
  wall_start = wall_now;
  upstream_sent = upstream_first_byte = first_byte_sent = end = SteadyTime{};
  status = 0;
  upstream_status = 0;
  backend = {};
  upstream_model = {};
  bytes_in = request.body.size();
  bytes_out = 0;
  usage = Usage{};
  error = ErrorClass::kNone;
  error_detail.clear();
  usage_recorded = false;
  upstream_began = upstream_ended = first_event_sent = SteadyTime{};
  attempts = 0;
  fell_back = false;
  served_model = {};
  limit_outcome = limit_policy = limit_fallback = {};
  config_version = 0;
  trace = TraceIdentity{};
  filter_wait_count = 0;
  attempt_trace_count = 0;
}

void RequestContext::ReleaseJson() {
  json_.reset();
  json_arena_.reset();
  json_parsed_ = false;
  model_resolved_ = false;
  model_ = nullptr;
  requested_model = {};
  ClearSplit();
  if (own_scratch_ == nullptr) {
    scratch_ = nullptr;
    scratch_size_ = 0;
  }
}

boost::json::object* RequestContext::JsonBody() {
  if (!json_parsed_) {
    json_parsed_ = true;
    boost::system::error_code ec;
    boost::json::parse_options options;
    options.max_depth = 64;
    if (scratch_ == nullptr) {
      own_scratch_ = std::make_unique<unsigned char[]>(kJsonScratchBytes);
      scratch_ = own_scratch_.get();
      scratch_size_ = kJsonScratchBytes;
    }
    json_arena_.emplace(scratch_, scratch_size_);
    // Move-constructed, so the value keeps the arena as its storage.
    json_.emplace(
        boost::json::parse(request_->body, ec, boost::json::storage_ptr(&*json_arena_), options));
    if (ec) {
      json_.reset();
      pending_error_ = ErrorReply(ErrorClass::kInvalidJson,
                                  "We could not parse the JSON body of your request. The body "
                                  "must be a valid JSON object.");
    } else if (!json_->is_object()) {
      pending_error_ =
          ErrorReply(ErrorClass::kInvalidJson, "The request body must be a JSON object.");
    }
  }
  return json_ && json_->is_object() ? &json_->get_object() : nullptr;
}

const ModelConfig* RequestContext::Model() {
  if (!model_resolved_) {
    model_resolved_ = true;
    if (resolver_ != nullptr) resolver_->Resolve(*this);
  }
  return model_;
}

}  // namespace sluice
