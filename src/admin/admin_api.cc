// The admin HTTP API: route table, authentication and permission checks, body handling,
// the store-thread call into AdminOps, cache invalidation and audit rows.
#include "admin/admin_api.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "admin/admin_ops.h"
#include "admin/key_limits_json.h"
#include "auth/auth_reply.h"
#include "auth/auth_runtime.h"
#include "core/form_encoding.h"
#include "core/gateway_control.h"
#include "core/principal.h"

namespace sluice {
namespace {

namespace json = boost::json;

constexpr size_t kMinPasswordLength = 8;
constexpr size_t kMaxPasswordLength = 1024;

// What a route handler gets: path parameters, the JSON body ({} when none) and the query.
struct Call {
  std::string_view id;
  std::string_view sub_id;
  const json::object* body = nullptr;
  Query query;
  int64_t now = 0;
};

using OpFn = OpResult (*)(AdminOps&, const Call&);

struct Route {
  AdminRouteInfo info;
  OpFn op;  // null: handled in HandleAdminRequest (whoami)
  bool takes_password = false;
};

const json::object& Body(const Call& call) { return *call.body; }

constexpr Route kRoutes[] = {
    {{Method::kGet, "/admin/whoami", 0, ""}, nullptr},
    // Answered from the running gateway (GatewayControl), not the store.
    {{Method::kGet, "/admin/status", kPermConfigRead, ""}, nullptr},
    {{Method::kPost, "/admin/config/reload", kPermConfigReload, "config.reload"}, nullptr},
    {{Method::kGet, "/admin/keys", kPermKeysRead, ""},
     [](AdminOps& ops, const Call& c) { return ops.ListKeys(c.query); }},
    {{Method::kPost, "/admin/keys", kPermKeysManage, "key.create"},
     [](AdminOps& ops, const Call& c) { return ops.CreateKey(Body(c), c.now); }},
    {{Method::kGet, "/admin/keys/{id}", kPermKeysRead, ""},
     [](AdminOps& ops, const Call& c) { return ops.GetKey(c.id); }},
    {{Method::kPatch, "/admin/keys/{id}", kPermKeysManage, "key.update"},
     [](AdminOps& ops, const Call& c) { return ops.UpdateKey(c.id, Body(c), c.now); }},
    {{Method::kDelete, "/admin/keys/{id}", kPermKeysManage, "key.revoke"},
     [](AdminOps& ops, const Call& c) { return ops.RevokeKey(c.id, c.now); }},
    {{Method::kPost, "/admin/keys/{id}/revoke", kPermKeysManage, "key.revoke"},
     [](AdminOps& ops, const Call& c) { return ops.RevokeKey(c.id, c.now); }},
    {{Method::kPost, "/admin/keys/{id}/rotate", kPermKeysManage, "key.rotate"},
     [](AdminOps& ops, const Call& c) { return ops.RotateKey(c.id, c.now); }},
    {{Method::kGet, "/admin/users", kPermUsersRead, ""},
     [](AdminOps& ops, const Call& c) { return ops.ListUsers(c.query); }},
    {{Method::kPost, "/admin/users", kPermUsersManage, "user.create"},
     [](AdminOps& ops, const Call& c) { return ops.CreateUser(Body(c), c.now); },
     true},
    {{Method::kGet, "/admin/users/{id}", kPermUsersRead, ""},
     [](AdminOps& ops, const Call& c) { return ops.GetUser(c.id); }},
    {{Method::kPatch, "/admin/users/{id}", kPermUsersManage, "user.update"},
     [](AdminOps& ops, const Call& c) { return ops.UpdateUser(c.id, Body(c), c.now); },
     true},
    {{Method::kGet, "/admin/teams", kPermTeamsRead, ""},
     [](AdminOps& ops, const Call& c) { return ops.ListTeams(c.query); }},
    {{Method::kPost, "/admin/teams", kPermTeamsManage, "team.create"},
     [](AdminOps& ops, const Call& c) { return ops.CreateTeam(Body(c), c.now); }},
    {{Method::kGet, "/admin/teams/{id}", kPermTeamsRead, ""},
     [](AdminOps& ops, const Call& c) { return ops.GetTeam(c.id); }},
    {{Method::kPatch, "/admin/teams/{id}", kPermTeamsManage, "team.update"},
     [](AdminOps& ops, const Call& c) { return ops.UpdateTeam(c.id, Body(c)); }},
    {{Method::kPut, "/admin/teams/{id}/members/{user_id}", kPermTeamsManage, "team.member.add"},
     [](AdminOps& ops, const Call& c) { return ops.AddMember(c.id, c.sub_id); }},
    {{Method::kDelete, "/admin/teams/{id}/members/{user_id}", kPermTeamsManage,
      "team.member.remove"},
     [](AdminOps& ops, const Call& c) { return ops.RemoveMember(c.id, c.sub_id); }},
    {{Method::kGet, "/admin/roles", kPermRolesRead, ""},
     [](AdminOps& ops, const Call&) { return ops.ListRoles(); }},
    {{Method::kGet, "/admin/audit", kPermAuditRead, ""},
     [](AdminOps& ops, const Call& c) { return ops.ListAudit(c.query); }},
    // Everyone's usage: `usage:read_all` (`usage:read` is a caller's own usage, GET /v1/usage).
    {{Method::kGet, "/admin/usage", kPermUsageReadAll, ""},
     [](AdminOps& ops, const Call& c) { return ops.QueryUsage(c.query); }},
    {{Method::kPost, "/admin/tokens/revoke", kPermTokensRevoke, "token.revoke"},
     [](AdminOps& ops, const Call& c) { return ops.RevokeToken(Body(c)); }},
};

// Matches `path` against `pattern` ("{x}" segments match one non-empty segment).
bool MatchPattern(std::string_view pattern, std::string_view path, Call& call) {
  std::string_view captures[2];
  int captured = 0;
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty() || pattern[0] != '/' || path[0] != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    size_t p_end = std::min(pattern.find('/'), pattern.size());
    size_t s_end = std::min(path.find('/'), path.size());
    std::string_view p_seg = pattern.substr(0, p_end);
    std::string_view s_seg = path.substr(0, s_end);
    if (p_seg.starts_with('{')) {
      if (s_seg.empty() || captured == 2) return false;
      captures[captured++] = s_seg;
    } else if (p_seg != s_seg) {
      return false;
    }
    pattern.remove_prefix(p_end);
    path.remove_prefix(s_end);
  }
  call.id = captures[0];
  call.sub_id = captures[1];
  return true;
}

LocalReply Reply(const OpResult& result) {
  if (!result.ok()) return ErrorReply(result.error, result.message, result.param);
  LocalReply reply = JsonReply(result.status, json::serialize(result.body));
  reply.headers.Add("Cache-Control", "no-store");
  return reply;
}

void Audit(AuthRuntime& auth, const RequestContext& ctx, std::string_view action,
           std::string_view target, std::string_view result, int status,
           const json::object& details = {}) {
  AuditRecord record;
  record.principal = ctx.principal ? ctx.principal->id : "anonymous";
  record.key_prefix = ctx.principal ? ctx.principal->key_prefix : "";
  record.action = std::string(action);
  record.target = std::string(target);
  record.result = std::string(result);
  record.client_ip = std::string(ctx.client_ip);
  record.request_id = ctx.request_id;
  json::object all = details;
  all["status"] = status;
  record.details_json = json::serialize(all);
  auth.audit().Record(std::move(record));
}

// A mutating request refused before its operation ran (a body that is not a JSON object, a
// bad password) is an admin action too: audited like the operation's own failures.
LocalReply AuditedRefusal(AuthRuntime& auth, const RequestContext& ctx, std::string_view action,
                          LocalReply reply) {
  if (!action.empty()) {
    Audit(auth, ctx, action, ctx.request().path, Describe(reply.error).name, reply.status);
  }
  return reply;
}

LocalReply WhoAmI(const Principal& principal) {
  json::array roles;
  for (const std::string& role : principal.roles) roles.emplace_back(role);
  json::array permissions;
  for (std::string_view p : PermissionNames(principal.permissions)) permissions.emplace_back(p);
  json::object body{{"object", "principal"},
                    {"id", principal.id},
                    {"key_prefix", principal.key_prefix},
                    {"user_id", principal.user_id},
                    {"team_id", principal.team_id},
                    {"roles", std::move(roles)},
                    {"permissions", std::move(permissions)},
                    {"tier", principal.tier},
                    {"limits", principal.key_limits ? KeyLimitsJson(*principal.key_limits)
                                                    : json::value(nullptr)}};
  return JsonReply(200, json::serialize(body));
}

// POST /admin/config/reload: the reload runs on the store pool (it reads and validates a
// file), so the admin loop stays responsive.
boost::asio::awaitable<LocalReply> ReloadConfig(AuthRuntime& auth, GatewayControl& control,
                                                const RequestContext& ctx) {
  GatewayControl* target = &control;
  ReloadOutcome outcome =
      co_await auth.store_pool().Run([target] { return target->ReloadConfig("admin API"); });
  json::object details{{"version", outcome.version}, {"content_id", outcome.content_id}};
  if (!outcome.ok) {
    std::string message = "The configuration file was rejected; version " +
                          std::to_string(outcome.version) + " stays in service.";
    for (const std::string& error : outcome.errors) message += " " + error;
    LocalReply reply = ErrorReply(ErrorClass::kInvalidRequest, message);
    Audit(auth, ctx, "config.reload", "config", "rejected", reply.status, details);
    co_return reply;
  }
  Audit(auth, ctx, "config.reload", "config", "ok", 200, details);
  json::object body{{"object", "config.reload"},
                    {"ok", true},
                    {"version", outcome.version},
                    {"content_id", outcome.content_id},
                    {"unchanged", outcome.unchanged}};
  co_return JsonReply(200, json::serialize(body));
}

// Replaces a "password" field by its argon2id "password_hash" (hashed on the hashing
// pool); an API caller may never set password_hash itself.
boost::asio::awaitable<std::optional<LocalReply>> HashPasswordField(AuthRuntime& auth,
                                                                    json::object& body) {
  if (body.contains("password_hash")) {
    co_return ErrorReply(ErrorClass::kInvalidRequest, "Unknown field 'password_hash'.",
                         "password_hash");
  }
  const json::value* password = body.if_contains("password");
  if (password == nullptr) co_return std::nullopt;
  if (!password->is_string() || password->get_string().size() < kMinPasswordLength ||
      password->get_string().size() > kMaxPasswordLength) {
    co_return ErrorReply(ErrorClass::kInvalidRequest,
                         "'password' must be a string of 8 to 1024 characters.", "password");
  }
  std::string plain(password->get_string());
  body.erase("password");
  std::string hash =
      co_await auth.hash_pool().Run([&plain] { return LoginService::HashPassword(plain); });
  body["password_hash"] = hash;
  co_return std::nullopt;
}

}  // namespace

std::span<const AdminRouteInfo> AdminRoutes() {
  static const std::vector<AdminRouteInfo> infos = [] {
    std::vector<AdminRouteInfo> out;
    for (const Route& route : kRoutes) out.push_back(route.info);
    return out;
  }();
  return infos;
}

boost::asio::awaitable<LocalReply> HandleAdminRequest(const Services& services,
                                                      RequestContext& ctx) {
  AuthRuntime* auth = services.auth;
  if (auth == nullptr) {
    co_return ErrorReply(ErrorClass::kUnavailable, "The admin API is not available.");
  }
  const HttpRequest& request = ctx.request();
  // Find the route first, so an unknown path is a 404 before any credential check here (an
  // auth filter in the chain, which runs earlier, still answers 401 first).
  Call call;
  const Route* route = nullptr;
  std::string allow;
  for (const Route& candidate : kRoutes) {
    Call attempt;
    if (!MatchPattern(candidate.info.pattern, request.path, attempt)) continue;
    if (candidate.info.method == request.method ||
        (candidate.info.method == Method::kGet && request.method == Method::kHead)) {
      route = &candidate;
      call = attempt;
      break;
    }
    if (!allow.empty()) allow += ", ";
    allow += MethodName(candidate.info.method);
  }
  if (route == nullptr && allow.empty()) {
    co_return ErrorReply(
        ErrorClass::kRouteNotFound,
        "Invalid URL (" + std::string(request.method_text) + " " + std::string(request.path) + ")");
  }
  // Authenticate (unless the chain's auth filter already did).
  if (!ctx.principal) {
    std::string_view credentials = Authenticator::Credentials(request);
    AuthResult result = co_await auth->authenticator().Authenticate(credentials);
    if (!result.principal) co_return RejectCredentials(*auth, ctx, credentials, result);
    ctx.principal = std::move(result.principal);
  }
  if (route == nullptr) {
    LocalReply reply = ErrorReply(ErrorClass::kMethodNotAllowed,
                                  "Method " + std::string(request.method_text) +
                                      " is not allowed for " + std::string(request.path) + ".");
    reply.headers.Add("Allow", allow);
    co_return reply;
  }
  const Principal& principal = *ctx.principal;
  if (!principal.Can(route->info.permission)) {
    std::string needed;
    for (std::string_view p : PermissionNames(route->info.permission)) {
      if (!needed.empty()) needed += ", ";
      needed += p;
    }
    Audit(*auth, ctx, "permission.denied", request.path, "denied", 403);
    co_return ErrorReply(
        ErrorClass::kPermissionDenied,
        "Your credentials do not allow this operation (missing permission " + needed + ").");
  }
  if (route->op == nullptr) {
    std::string_view pattern = route->info.pattern;
    if (pattern == "/admin/whoami") co_return WhoAmI(principal);
    if (services.control == nullptr) {
      co_return ErrorReply(ErrorClass::kUnavailable, "This gateway has no runtime control.");
    }
    if (pattern == "/admin/status") co_return JsonReply(200, services.control->StatusJson());
    co_return co_await ReloadConfig(*auth, *services.control, ctx);
  }

  json::object empty;
  json::object body_copy;
  call.body = &empty;
  if (!request.body.empty()) {
    json::object* body = ctx.JsonBody();
    if (body == nullptr) {
      co_return AuditedRefusal(
          *auth, ctx, route->info.action,
          ErrorReply(ErrorClass::kInvalidJson, "The request body must be a JSON object."));
    }
    call.body = body;
  }
  if (route->takes_password) {
    body_copy = *call.body;
    if (auto error = co_await HashPasswordField(*auth, body_copy)) {
      co_return AuditedRefusal(*auth, ctx, route->info.action, std::move(*error));
    }
    call.body = &body_copy;
  }
  call.query = ParseForm(request.query);
  call.now = NowSeconds();
  AdminOps ops(auth->store(), &auth->policy());
  const OpFn op = route->op;
  OpResult result = co_await auth->store_pool().Run([&ops, &call, op] { return op(ops, call); });
  for (const std::string& hash : result.stale_key_hashes) auth->keys().Invalidate(hash);
  if (result.flush_all_keys) auth->keys().Clear();
  if (!result.revoked_jti.empty()) auth->issuers().Revoke(result.revoked_jti);
  if (!route->info.action.empty()) {
    Audit(*auth, ctx, route->info.action,
          result.target.empty() ? std::string_view(request.path) : result.target,
          result.ok() ? "ok" : Describe(result.error).name, result.status, result.audit_details);
  }
  co_return Reply(result);
}

LocalReply OpenApiReply() {
  LocalReply reply = JsonReply(200, std::string(OpenApiDocument()));
  return reply;
}

}  // namespace sluice
