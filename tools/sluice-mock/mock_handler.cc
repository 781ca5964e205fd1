// Routing, auth, fault injection and the small endpoints of sluice-mock (see
// mock_handler.h); the completion and embedding endpoints are in mock_endpoints.cc.
#include "mock_handler.h"

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parser.hpp>

#include "core/json_text.h"
#include "core/local_reply.h"
#include "http/response_writer.h"

namespace sluice {
namespace json = boost::json;
using std::chrono::microseconds;

namespace {

constexpr std::string_view kJson = "application/json";
constexpr int64_t kModelCreated = 1700000000;
// Typical request bodies parse entirely inside these stack buffers (no heap allocation).
constexpr size_t kParserStackBytes = 2048;
constexpr size_t kValueArenaBytes = 16 * 1024;

std::string_view ErrorType(int status) {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 429:
      return "rate_limit_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

std::string_view ErrorCode(int status) {
  switch (status) {
    case 429:
      return "rate_limit_exceeded";
    case 503:
      return "service_unavailable";
    default:
      return {};
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool PercentDecode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexValue(in[i + 1]);
    int lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

// Compares without an early exit, so response time does not reveal how much matched.
bool SameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

void AppendModelObject(std::string& out, std::string_view id) {
  out.append("{\"id\":");
  AppendJsonString(out, id);
  out.append(",\"object\":\"model\",\"created\":");
  AppendDecimal(out, kModelCreated);
  out.append(",\"owned_by\":\"sluice-mock\"}");
}

MockCatalog::MockCatalog(const MockConfig& config)
    : config_(config), health_status_(config.health_status) {
  models_body_ = "{\"object\":\"list\",\"data\":[";
  for (size_t i = 0; i < config.models.size(); ++i) {
    if (i > 0) models_body_.push_back(',');
    AppendModelObject(models_body_, config.models[i]);
  }
  models_body_.append("]}");
  stream_headers_.Add("Cache-Control", "no-cache");
}

bool MockCatalog::HasModel(std::string_view model) const {
  return std::find(config_.models.begin(), config_.models.end(), model) != config_.models.end();
}

MockService::MockService(const MockCatalog& catalog, StatsRegistry& stats, size_t worker_index)
    : catalog_(catalog),
      config_(catalog.config()),
      stats_registry_(stats),
      stats_cell_(stats.cell(worker_index)) {
  uint64_t seed =
      config_.seed.has_value()
          ? *config_.seed
          : static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  rng_.Seed(seed + 0x9E3779B97F4A7C15ULL * worker_index);
}

microseconds MockService::Jittered(microseconds base, int64_t jitter_us) {
  if (jitter_us <= 0) return base;
  int64_t value = base.count() + rng_.Symmetric(jitter_us);
  return microseconds(std::max<int64_t>(0, value));
}

void MockService::Handle(const HttpRequest& http, std::string& out, ResponsePlan& plan,
                         StreamEmitter& emitter) {
  Bump(stats_cell_.requests);
  plan = ResponsePlan();
  plan.keep_alive = http.keep_alive;
  Request r{http, out, plan, emitter};
  size_t start = out.size();
  Dispatch(r);
  if (http.method == Method::kHead) {
    // The head a GET would get, without the body (a HEAD response never has one).
    size_t head_end = out.find("\r\n\r\n", start);
    if (head_end != std::string::npos) out.resize(head_end + 4);
  }
}

void MockService::Dispatch(Request& r) {
  const HttpRequest& http = r.http;
  std::string_view path = http.path;
  bool get = http.method == Method::kGet || http.method == Method::kHead;
  bool post = http.method == Method::kPost;

  auto not_allowed = [&] {
    std::string message = "Invalid method for URL (";
    message.append(http.method_text).append(" ").append(path).append(")");
    WriteError(r, 405, message, "invalid_request_error", {}, {});
  };
  auto not_found = [&] {
    std::string message = "Invalid URL (";
    message.append(http.method_text).append(" ").append(path).append(")");
    WriteError(r, 404, message, "invalid_request_error", {}, {});
  };

  if (path == "/health") {
    if (!get) return not_allowed();
    return HandleHealth(r);
  }
  if (path == "/mock/health") {
    if (!get && !post) return not_allowed();
    return HandleHealthControl(r);
  }
  if (path == "/mock/stats") {
    if (!get) return not_allowed();
    return HandleStats(r);
  }
  if (!path.starts_with("/v1/")) return not_found();
  if (!CheckAuth(r)) return;

  constexpr std::string_view kModelPrefix = "/v1/models/";
  if (path == "/v1/models" ||
      (path.starts_with(kModelPrefix) && path.size() > kModelPrefix.size())) {
    if (!get) return not_allowed();
    if (InjectError(r, 0, microseconds(0))) return;
    if (path == "/v1/models") return WriteJson(r, 200, catalog_.models_body());
    return HandleModel(r, path.substr(kModelPrefix.size()));
  }
  enum class Endpoint : uint8_t { kChat, kCompletion, kEmbeddings } endpoint;
  if (path == "/v1/chat/completions") {
    endpoint = Endpoint::kChat;
  } else if (path == "/v1/completions") {
    endpoint = Endpoint::kCompletion;
  } else if (path == "/v1/embeddings") {
    endpoint = Endpoint::kEmbeddings;
  } else {
    return not_found();
  }
  if (!post) return not_allowed();

  // The parsed body lives in stack buffers for the rest of this call.
  alignas(16) unsigned char arena[kValueArenaBytes];
  unsigned char parser_stack[kParserStackBytes];
  json::monotonic_resource resource(arena, sizeof(arena));
  json::parse_options options;
  options.max_depth = 64;
  json::parser parser(json::storage_ptr(), options, parser_stack, sizeof(parser_stack));
  parser.reset(&resource);
  boost::system::error_code ec;
  parser.write(http.body.data(), http.body.size(), ec);
  if (ec) {
    return WriteError(r, 400,
                      "We could not parse the JSON body of your request. The API expects a "
                      "JSON payload.",
                      "invalid_request_error", {}, {});
  }
  json::value root = parser.release();
  if (!root.is_object()) {
    return WriteError(r, 400, "The request body must be a JSON object.", "invalid_request_error",
                      {}, {});
  }
  r.body = &root.get_object();
  switch (endpoint) {
    case Endpoint::kChat:
      return HandleCompletion(r, Dialect::kChat);
    case Endpoint::kCompletion:
      return HandleCompletion(r, Dialect::kCompletion);
    case Endpoint::kEmbeddings:
      return HandleEmbeddings(r);
  }
}

void MockService::HandleModel(Request& r, std::string_view encoded_id) {
  if (!PercentDecode(encoded_id, decoded_)) {
    return WriteError(r, 400, "The model id in the URL is not validly percent-encoded.",
                      "invalid_request_error", "model", {});
  }
  if (!CheckModel(r, decoded_)) return;
  body_.clear();
  AppendModelObject(body_, decoded_);
  WriteJson(r, 200, body_);
}

void MockService::HandleStats(Request& r) {
  body_.clear();
  stats_registry_.AppendJson(body_);
  WriteJson(r, 200, body_);
}

void MockService::HandleHealth(Request& r) {
  Bump(stats_cell_.health_checks);
  int status = catalog_.health_status();
  WriteJson(r, status, status < 400 ? "{\"status\":\"ok\"}" : "{\"status\":\"unhealthy\"}");
}

void MockService::HandleHealthControl(Request& r) {
  if (r.http.method == Method::kPost) {
    boost::system::error_code ec;
    json::value body = json::parse(r.http.body, ec);
    const json::object* object = ec ? nullptr : body.if_object();
    const json::value* status = object != nullptr ? object->if_contains("status") : nullptr;
    const int64_t* number = status != nullptr ? status->if_int64() : nullptr;
    if (number == nullptr || *number < 100 || *number > 599) {
      return WriteError(r, 400, "Expected {\"status\": N} with N from 100 to 599.",
                        "invalid_request_error", "status", {});
    }
    catalog_.set_health_status(static_cast<int>(*number));
  }
  body_ = "{\"status\":";
  AppendDecimal(body_, catalog_.health_status());
  body_.push_back('}');
  WriteJson(r, 200, body_);
}

bool MockService::CheckAuth(Request& r) {
  if (config_.api_key.empty()) return true;
  std::string_view value = r.http.headers.Get("authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (value.size() < kScheme.size() || !EqualsIgnoreCase(value.substr(0, 6), "Bearer") ||
      value[6] != ' ') {
    WriteError(r, 401,
               "You didn't provide an API key. You need to provide your API key in an "
               "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
               "invalid_request_error", {}, {});
    return false;
  }
  std::string_view key = value.substr(kScheme.size());
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  if (!SameSecret(key, config_.api_key)) {
    // Never echo the received key: it may be a real secret sent to the wrong place.
    WriteError(r, 401, "Incorrect API key provided.", "invalid_request_error", {},
               "invalid_api_key");
    return false;
  }
  return true;
}

bool MockService::InjectError(Request& r, int64_t forced_status, microseconds latency) {
  int status = static_cast<int>(forced_status);
  if (status == 0 && rng_.Chance(config_.error_rate)) status = config_.error_status;
  if (status == 0) return false;
  Bump(stats_cell_.errors_injected);
  std::string message = "Injected error from sluice-mock (HTTP " + std::to_string(status) + ").";
  WriteError(r, status, message, ErrorType(status), {}, ErrorCode(status));
  r.plan.delay = latency;
  return true;
}

bool MockService::CheckModel(Request& r, std::string_view model) {
  if (!config_.strict_models || catalog_.HasModel(model)) return true;
  std::string message = "The model `";
  message.append(model).append("` does not exist or you do not have access to it.");
  WriteError(r, 404, message, "invalid_request_error", {}, "model_not_found");
  return false;
}

void MockService::WriteJson(Request& r, int status, std::string_view body) {
  HeadFraming framing;
  framing.kind = HeadFraming::Kind::kLength;
  framing.content_length = body.size();
  framing.keep_alive = r.plan.keep_alive;
  framing.minor_version = r.http.minor_version;
  AppendResponseHead(r.out, status, kJson, catalog_.no_headers(), {}, framing);
  r.out.append(body);
}

void MockService::WriteError(Request& r, int status, std::string_view message,
                             std::string_view type, std::string_view param, std::string_view code) {
  body_.clear();
  AppendOpenAiError(body_, message, type, param, code);
  WriteJson(r, status, body_);
}

void MockService::AppendResponseId(std::string& out, std::string_view prefix) {
  static constexpr char kAlphabet[] =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  out.assign(prefix);
  uint64_t bits = 0;
  for (int i = 0; i < 24; ++i) {
    if (i % 10 == 0) bits = rng_.Next();  // 10 base-62 digits use about 60 of the 64 bits
    out.push_back(kAlphabet[bits % 62]);
    bits /= 62;
  }
}

}  // namespace sluice
