// The route table. Paths are accepted with and without the /v1 prefix, as OpenAI-compatible
// servers (and LiteLLM) do, so clients configured either way work.
#include "routing/router.h"

namespace sluice {
namespace {

struct RouteEntry {
  std::string_view path;
  RouteKind kind;
  bool post;  // POST route (else GET/HEAD)
  std::string_view name;
};

constexpr RouteEntry kRoutes[] = {
    {"/chat/completions", RouteKind::kChatCompletions, true, "chat_completions"},
    {"/completions", RouteKind::kCompletions, true, "completions"},
    {"/embeddings", RouteKind::kEmbeddings, true, "embeddings"},
    {"/models", RouteKind::kListModels, false, "models"},
    {"/usage", RouteKind::kUsage, false, "usage"},
};

// The probes and /metrics, served by both listeners.
bool MatchOperational(Method method, std::string_view path, RouteMatch& match) {
  if (path == "/health/live") {
    match.kind = RouteKind::kHealthLive;
    match.name = "health_live";
  } else if (path == "/health/ready") {
    match.kind = RouteKind::kHealthReady;
    match.name = "health_ready";
  } else if (path == "/health/startup") {
    match.kind = RouteKind::kHealthStartup;
    match.name = "health_startup";
  } else if (path == "/metrics") {
    match.kind = RouteKind::kMetrics;
    match.name = "metrics";
  } else {
    return false;
  }
  match.method_allowed = method == Method::kGet || method == Method::kHead;
  match.allow = "GET, HEAD";
  return true;
}

}  // namespace

RouteMatch MatchAdminRoute(Method method, std::string_view path) {
  RouteMatch match;
  if (MatchOperational(method, path, match)) return match;
  if (path == "/openapi.json") {
    match.kind = RouteKind::kOpenApi;
    match.name = "openapi";
    match.method_allowed = method == Method::kGet || method == Method::kHead;
    match.allow = "GET, HEAD";
    return match;
  }
  if (path == "/admin" || path.starts_with("/admin/")) {
    match.kind = RouteKind::kAdmin;
    match.name = "admin";
    match.method_allowed = true;
    return match;
  }
  match.name = "not_found";
  return match;
}

RouteMatch MatchRoute(Method method, std::string_view path) {
  RouteMatch match;
  if (MatchOperational(method, path, match)) return match;
  static constexpr struct {
    std::string_view path;
    RouteKind kind;
    std::string_view name;
  } kAuthRoutes[] = {
      {"/auth/login", RouteKind::kAuthLogin, "auth_login"},
      {"/auth/refresh", RouteKind::kAuthRefresh, "auth_refresh"},
      {"/auth/logout", RouteKind::kAuthLogout, "auth_logout"},
      {"/auth/register", RouteKind::kAuthRegister, "auth_register"},
  };
  for (const auto& r : kAuthRoutes) {
    if (path == r.path) {
      match.kind = r.kind;
      match.name = r.name;
      match.method_allowed = method == Method::kPost;
      match.allow = "POST";
      return match;
    }
  }
  std::string_view rest = path;
  if (rest.substr(0, 3) == "/v1") rest.remove_prefix(3);
  for (const RouteEntry& r : kRoutes) {
    if (rest == r.path) {
      match.kind = r.kind;
      match.name = r.name;
      match.method_allowed =
          r.post ? method == Method::kPost : (method == Method::kGet || method == Method::kHead);
      match.allow = r.post ? "POST" : "GET, HEAD";
      return match;
    }
  }
  constexpr std::string_view kModelsPrefix = "/models/";
  if (rest.substr(0, kModelsPrefix.size()) == kModelsPrefix && rest.size() > kModelsPrefix.size()) {
    match.kind = RouteKind::kRetrieveModel;
    match.name = "model";
    match.param = rest.substr(kModelsPrefix.size());
    match.method_allowed = method == Method::kGet || method == Method::kHead;
    match.allow = "GET, HEAD";
    return match;
  }
  match.name = "not_found";
  return match;
}

}  // namespace sluice
