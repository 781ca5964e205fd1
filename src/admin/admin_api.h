// The admin HTTP API, served on its own listener (admin: listen, default 127.0.0.1:9901):
// keys, users, teams, roles, audit queries, token revocation, gateway status and
// configuration reload, as JSON, with errors in the data plane's OpenAI shape. Every route
// declares the permission it needs; callers
// authenticate with an API key or a JWT like on the data plane (admin keys, admin JWTs).
// Changes are audited and drop the affected entries of the key cache at once. The route
// table is public so a test can check it against the OpenAPI document (/openapi.json).
// Runs on the admin worker; store work runs on the store thread, password hashing on the
// hashing pool.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <span>
#include <string_view>

#include "core/http_types.h"
#include "core/local_reply.h"
#include "core/request_context.h"
#include "core/services.h"

namespace sluice {

class AuthRuntime;

struct AdminRouteInfo {
  Method method;
  std::string_view pattern;  // OpenAPI form, e.g. "/admin/keys/{id}/revoke"
  uint64_t permission;       // Permission bits the caller needs
  std::string_view action;   // audit action; empty for reads
};

// Every route the admin API serves.
std::span<const AdminRouteInfo> AdminRoutes();

// Answers a request routed to RouteKind::kAdmin. GET /admin/status and POST
// /admin/config/reload are answered by services.control (the running server).
boost::asio::awaitable<LocalReply> HandleAdminRequest(const Services& services,
                                                      RequestContext& ctx);

// GET /openapi.json: the OpenAPI 3 description of the admin API.
LocalReply OpenApiReply();
std::string_view OpenApiDocument();

}  // namespace sluice
