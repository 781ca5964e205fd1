// The completion and embedding endpoints of sluice-mock: body validation, token counts
// and usage, then the non-stream body or the stream's head and plan (see mock_handler.h).
#include <algorithm>
#include <boost/json/value.hpp>
#include <ctime>
#include <limits>

#include "http/response_writer.h"
#include "mock_embeddings.h"
#include "mock_handler.h"  // the class these members belong to
#include "mock_text.h"

namespace sluice {
namespace json = boost::json;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

constexpr std::string_view kEventStream = "text/event-stream; charset=utf-8";

// Reads an optional positive integer field. False when present, non-null and invalid.
bool OptionalPositive(const json::object& body, std::string_view name, int64_t max,
                      int64_t& value) {
  const json::value* v = body.if_contains(name);
  if (v == nullptr || v->is_null()) return true;
  if (const int64_t* i = v->if_int64()) {
    if (*i < 1 || *i > max) return false;
    value = *i;
    return true;
  }
  if (const uint64_t* u = v->if_uint64()) {
    value = static_cast<int64_t>(std::min<uint64_t>(*u, static_cast<uint64_t>(max)));
    return *u <= static_cast<uint64_t>(max);
  }
  return false;
}

}  // namespace

bool MockService::ReadOverridesAndModel(Request& r, RequestOverrides& overrides,
                                        std::string_view& model) {
  const json::object& body = *r.body;
  std::string message, param;
  if (!ParseOverrides(body.if_contains("mock"), overrides, message, param)) {
    WriteError(r, 400, message, "invalid_request_error", param, {});
    return false;
  }
  const json::value* model_value = body.if_contains("model");
  if (model_value != nullptr && model_value->is_string()) model = model_value->get_string();
  if (model.empty()) {
    WriteError(r, 400, "You must provide a model parameter.", "invalid_request_error", "model", {});
    return false;
  }
  return true;
}

void MockService::HandleCompletion(Request& r, Dialect dialect) {
  const json::object& body = *r.body;
  bool chat = dialect == Dialect::kChat;
  RequestOverrides overrides;
  std::string_view model;
  if (!ReadOverridesAndModel(r, overrides, model)) return;
  bool stream = false;
  if (const json::value* v = body.if_contains("stream"); v != nullptr && !v->is_null()) {
    if (!v->is_bool()) {
      return WriteError(r, 400, "'stream' must be a boolean.", "invalid_request_error", "stream",
                        {});
    }
    stream = v->get_bool();
  }
  bool include_usage = false;
  if (const json::value* v = body.if_contains("stream_options"); v != nullptr && v->is_object()) {
    const json::value* flag = v->get_object().if_contains("include_usage");
    if (flag != nullptr && !flag->is_null() && !flag->is_bool()) {
      return WriteError(r, 400, "'stream_options.include_usage' must be a boolean.",
                        "invalid_request_error", "stream_options.include_usage", {});
    }
    include_usage = flag != nullptr && flag->is_bool() && flag->get_bool();
  }
  int64_t limit = std::numeric_limits<int64_t>::max();
  for (std::string_view name :
       {std::string_view("max_tokens"), std::string_view("max_completion_tokens")}) {
    int64_t value = limit;
    if (!OptionalPositive(body, name, std::numeric_limits<int64_t>::max(), value)) {
      std::string text = "'" + std::string(name) + "' must be a positive integer.";
      return WriteError(r, 400, text, "invalid_request_error", name, {});
    }
    limit = std::min(limit, value);
  }
  const json::value* input = body.if_contains(chat ? "messages" : "prompt");
  if (chat) {
    if (input == nullptr || !input->is_array() || input->get_array().empty()) {
      return WriteError(r, 400, "'messages' must be a non-empty array.", "invalid_request_error",
                        "messages", {});
    }
  } else if (input != nullptr && !input->is_null() && !input->is_string() && !input->is_array()) {
    return WriteError(r, 400, "'prompt' must be a string or an array.", "invalid_request_error",
                      "prompt", {});
  }

  Effective effective = Resolve(config_, overrides, stream);
  int64_t jitter_us = effective.jitter_ms * 1000;
  microseconds latency = Jittered(milliseconds(effective.latency_ms), jitter_us);
  if (InjectError(r, overrides.status.value_or(0), latency)) return;
  if (!CheckModel(r, model)) return;

  int64_t wanted = effective.tokens;
  CompletionShape shape;
  shape.dialect = dialect;
  shape.tokens = std::min(wanted, limit);
  shape.truncated = shape.tokens < wanted;
  shape.prompt_tokens = PromptTokensFromBytes(chat ? ChatPromptBytes(input) : InputBytes(input));
  shape.include_usage = stream && include_usage;
  shape.model = model;
  shape.created = static_cast<int64_t>(std::time(nullptr));
  AppendResponseId(id_, chat ? "chatcmpl-" : "cmpl-");
  shape.id = id_;

  if (!stream) {
    r.plan.delay = latency;
    if (overrides.reset_after.has_value()) {
      r.plan.kind = ResponsePlan::Kind::kReset;
      return;
    }
    body_.clear();
    AppendCompletionBody(body_, shape);
    return WriteJson(r, 200, body_);
  }
  Bump(stats_cell_.streams_started);
  bool chunked = r.http.minor_version >= 1;
  if (!chunked) r.plan.keep_alive = false;  // HTTP/1.0: the stream ends with the connection
  HeadFraming framing;
  framing.kind = chunked ? HeadFraming::Kind::kChunked : HeadFraming::Kind::kClose;
  framing.keep_alive = r.plan.keep_alive;
  framing.minor_version = r.http.minor_version;
  AppendResponseHead(r.out, 200, kEventStream, catalog_.stream_headers(), {}, framing);
  r.emitter.Begin(shape, chunked);
  r.plan.kind = ResponsePlan::Kind::kStream;
  r.plan.tokens = shape.tokens;
  r.plan.ttft = milliseconds(effective.ttft_ms);
  r.plan.itl = milliseconds(effective.itl_ms);
  r.plan.jitter_us = jitter_us;
  if (overrides.reset_after.has_value()) {
    r.plan.reset_after = *overrides.reset_after;
  } else if (rng_.Chance(config_.reset_rate)) {
    r.plan.reset_after = config_.reset_after;
  }
}

void MockService::HandleEmbeddings(Request& r) {
  const json::object& body = *r.body;
  RequestOverrides overrides;
  std::string_view model;
  if (!ReadOverridesAndModel(r, overrides, model)) return;
  const json::value* input = body.if_contains("input");
  std::string message;
  if (CountEmbeddingInputs(input, message) == 0) {
    return WriteError(r, 400, message, "invalid_request_error", "input", {});
  }
  EmbeddingEncoding encoding = EmbeddingEncoding::kFloat;
  if (const json::value* v = body.if_contains("encoding_format"); v != nullptr && !v->is_null()) {
    const json::string* name = v->if_string();
    if (name != nullptr && *name == "base64") {
      encoding = EmbeddingEncoding::kBase64;
    } else if (name == nullptr || *name != "float") {
      return WriteError(r, 400, "'encoding_format' must be \"float\" or \"base64\".",
                        "invalid_request_error", "encoding_format", {});
    }
  }
  int64_t dims = config_.embedding_dims;
  if (!OptionalPositive(body, "dimensions", kMaxEmbeddingDims, dims)) {
    return WriteError(
        r, 400,
        "'dimensions' must be an integer from 1 to " + std::to_string(kMaxEmbeddingDims) + ".",
        "invalid_request_error", "dimensions", {});
  }
  Effective effective = Resolve(config_, overrides, /*stream=*/false);
  microseconds latency = Jittered(milliseconds(effective.latency_ms), effective.jitter_ms * 1000);
  if (InjectError(r, overrides.status.value_or(0), latency)) return;
  if (!CheckModel(r, model)) return;
  r.plan.delay = latency;
  if (overrides.reset_after.has_value()) {
    r.plan.kind = ResponsePlan::Kind::kReset;
    return;
  }
  body_.clear();
  AppendEmbeddingsBody(body_, *input, model, static_cast<size_t>(dims), encoding,
                       PromptTokensFromBytes(InputBytes(input)));
  WriteJson(r, 200, body_);
}

}  // namespace sluice
