// OpenAI-compatible request rewriting and response header policy.
#include "providers/openai/upstream_request.h"

#include "core/http_types.h"
#include "core/json_text.h"
#include "core/json_writer.h"

namespace sluice {

std::string_view UpstreamPathSuffix(RouteKind route) {
  switch (route) {
    case RouteKind::kChatCompletions:
      return "/chat/completions";
    case RouteKind::kCompletions:
      return "/completions";
    case RouteKind::kEmbeddings:
      return "/embeddings";
    default:
      return "";
  }
}

void BuildUpstreamBody(RequestContext& ctx, const ModelConfig& model, std::string& out) {
  BuildUpstreamBody(ctx, model.upstream_model, out);
}

void BuildUpstreamBody(RequestContext& ctx, std::string_view upstream_model, std::string& out) {
  boost::json::object& body = *ctx.JsonBody();
  const boost::json::value* current = body.if_contains("model");
  const boost::json::string* name = current != nullptr ? current->if_string() : nullptr;
  if (name == nullptr || *name != upstream_model) body["model"] = upstream_model;
  if (ctx.stream) {
    boost::json::value& options = body["stream_options"];
    if (!options.is_object()) options.emplace_object();
    options.get_object()["include_usage"] = true;
  }
  out.clear();
  out.reserve(ctx.request().body.size() + 64);
  AppendJsonObject(out, body);
}

void BuildUpstreamHead(const RequestContext& ctx, const BackendConfig& backend, size_t body_size,
                       std::string& out) {
  out.clear();
  out.append("POST ");
  out.append(backend.base_path);
  out.append(UpstreamPathSuffix(ctx.route));
  out.append(" HTTP/1.1\r\nHost: ");
  out.append(backend.host_header);
  out.append("\r\nContent-Type: application/json\r\nContent-Length: ");
  AppendDecimal(out, static_cast<int64_t>(body_size));
  out.append(ctx.stream ? "\r\nAccept: text/event-stream\r\n" : "\r\nAccept: application/json\r\n");
  out.append("User-Agent: sluice\r\n");
  if (!backend.api_key.empty()) {
    out.append("Authorization: Bearer ");
    out.append(backend.api_key);
    out.append("\r\n");
  }
  out.append(backend.extra_headers);
  out.append(ctx.upstream_headers.wire());
  out.append("\r\n");
}

bool ForwardResponseHeader(std::string_view name) {
  static constexpr std::string_view kAllowed[] = {
      "openai-processing-ms",
      "openai-version",
      "retry-after",
      "retry-after-ms",
  };
  for (std::string_view allowed : kAllowed) {
    if (EqualsIgnoreCase(name, allowed)) return true;
  }
  return false;
}

bool IsUsageOnlyChunk(std::string_view data) {
  constexpr std::string_view kKey = "\"choices\"";
  size_t pos = data.find(kKey);
  if (pos == std::string_view::npos) return false;
  pos += kKey.size();
  auto skip = [&](char also) {
    while (pos < data.size() && (data[pos] == ' ' || data[pos] == '\t' || data[pos] == '\n' ||
                                 data[pos] == '\r' || data[pos] == also)) {
      ++pos;
    }
  };
  skip(':');
  if (pos >= data.size() || data[pos] != '[') return false;
  ++pos;
  skip(' ');
  return pos < data.size() && data[pos] == ']';
}

bool StripNullUsage(std::string& text) {
  constexpr std::string_view kKey = "\"usage\"";
  size_t key = text.find(kKey);
  if (key == std::string::npos) return false;
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  size_t pos = key + kKey.size();
  while (pos < text.size() && is_space(text[pos])) ++pos;
  if (pos >= text.size() || text[pos] != ':') return false;
  ++pos;
  while (pos < text.size() && is_space(text[pos])) ++pos;
  if (text.compare(pos, 4, "null") != 0) return false;
  size_t end = pos + 4;
  // Take the comma before the member, or else the one after it, with the member.
  size_t begin = key;
  size_t before = begin;
  while (before > 0 && is_space(text[before - 1])) --before;
  if (before > 0 && text[before - 1] == ',') {
    begin = before - 1;
    while (begin > 0 && is_space(text[begin - 1])) --begin;
  } else {
    size_t after = end;
    while (after < text.size() && is_space(text[after])) ++after;
    if (after < text.size() && text[after] == ',') {
      end = after + 1;
      while (end < text.size() && is_space(text[end])) ++end;
    }
  }
  text.erase(begin, end - begin);
  return true;
}

}  // namespace sluice
