// Sign-in endpoints: body parsing (JSON or form), LoginService calls, token responses.
#include "http/auth_endpoints.h"

#include <boost/json/parse.hpp>

#include "auth/auth_runtime.h"
#include "core/form_encoding.h"
#include "core/json_text.h"

namespace sluice {
namespace {

constexpr size_t kMinPasswordLength = 8;

// application/x-www-form-urlencoded value of `key`, decoded; empty when absent.
std::string FormValue(std::string_view body, std::string_view key) {
  for (auto& [name, value] : ParseForm(body)) {
    if (name == key) return std::move(value);
  }
  return "";
}

// Reads string fields from a JSON object body or a form body.
struct Fields {
  bool ok = true;
  std::string get(std::string_view key) const {
    if (json) {
      const boost::json::value* v = json->if_contains(key);
      return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
    }
    return FormValue(form, key);
  }
  const boost::json::object* json = nullptr;
  std::string_view form;
};

Fields ReadFields(RequestContext& ctx) {
  Fields fields;
  std::string_view type = ctx.request().headers.Get("content-type");
  if (type.find("application/x-www-form-urlencoded") != std::string_view::npos) {
    fields.form = ctx.request().body;
    return fields;
  }
  fields.json = ctx.JsonBody();
  fields.ok = fields.json != nullptr;
  return fields;
}

LocalReply TokenReply(const TokenPair& tokens) {
  std::string body = "{\"access_token\":";
  AppendJsonString(body, tokens.access_token);
  body.append(",\"token_type\":\"bearer\",\"expires_in\":");
  AppendDecimal(body, tokens.expires_in);
  body.append(",\"refresh_token\":");
  AppendJsonString(body, tokens.refresh_token);
  body.append("}");
  LocalReply reply = JsonReply(200, std::move(body));
  reply.headers.Add("Cache-Control", "no-store");
  return reply;
}

LocalReply LoginFailure(LoginStatus status) {
  switch (status) {
    case LoginStatus::kInvalidCredentials:
      return ErrorReply(ErrorClass::kAuthInvalid, "Incorrect username or password.");
    case LoginStatus::kDisabled:
      return ErrorReply(ErrorClass::kAccountDisabled, "This account is disabled.");
    case LoginStatus::kInvalidRefreshToken:
      return ErrorReply(ErrorClass::kAuthInvalid, "The refresh token is invalid or expired.");
    case LoginStatus::kRefreshTokenReused:
      return ErrorReply(ErrorClass::kAuthRevoked,
                        "This refresh token was already used; the session has been revoked. "
                        "Sign in again.");
    case LoginStatus::kUsernameTaken:
      return ErrorReply(ErrorClass::kConflict, "That username is taken.", "username");
    default:
      return ErrorReply(ErrorClass::kUnavailable, "Sign-in is unavailable; try again shortly.");
  }
}

void Audit(AuthRuntime& auth, const RequestContext& ctx, std::string_view action,
           std::string principal, bool ok) {
  AuditRecord record;
  record.principal = std::move(principal);
  record.action = std::string(action);
  record.result = ok ? "ok" : "denied";
  record.client_ip = std::string(ctx.client_ip);
  record.request_id = ctx.request_id;
  if (ok) {
    auth.audit().Record(std::move(record));
  } else {
    auth.audit().RecordAuthFailure(std::move(record), std::chrono::steady_clock::now());
  }
}

}  // namespace

boost::asio::awaitable<LocalReply> HandleAuthEndpoint(AuthRuntime* auth, RequestContext& ctx) {
  if (auth == nullptr || !auth->config().login_enabled ||
      (ctx.route == RouteKind::kAuthRegister && !auth->config().self_registration)) {
    std::string message = "Invalid URL (POST ";
    message.append(ctx.request().path);
    message.append(")");
    co_return ErrorReply(ErrorClass::kRouteNotFound, message);
  }
  Fields fields = ReadFields(ctx);
  if (!fields.ok) co_return std::move(*ctx.pending_error());
  LoginService& login = auth->login();
  switch (ctx.route) {
    case RouteKind::kAuthLogin: {
      std::string username = fields.get("username");
      std::string password = fields.get("password");
      if (username.empty() || password.empty()) {
        co_return ErrorReply(ErrorClass::kInvalidRequest, "username and password are required.",
                             username.empty() ? "username" : "password");
      }
      LoginOutcome outcome = co_await login.Login(username, std::move(password));
      bool ok = outcome.status == LoginStatus::kOk;
      Audit(*auth, ctx, "login", ok ? "user:" + outcome.tokens.user_id : "anonymous", ok);
      co_return ok ? TokenReply(outcome.tokens) : LoginFailure(outcome.status);
    }
    case RouteKind::kAuthRefresh: {
      std::string token = fields.get("refresh_token");
      if (token.empty()) {
        co_return ErrorReply(ErrorClass::kInvalidRequest, "refresh_token is required.",
                             "refresh_token");
      }
      LoginOutcome outcome = co_await login.Refresh(std::move(token));
      bool ok = outcome.status == LoginStatus::kOk;
      Audit(*auth, ctx, "login.refresh", ok ? "user:" + outcome.tokens.user_id : "anonymous", ok);
      co_return ok ? TokenReply(outcome.tokens) : LoginFailure(outcome.status);
    }
    case RouteKind::kAuthLogout: {
      // The access token (if sent) is revoked too, once verified: its jti and expiry.
      std::string jti;
      int64_t expires_at = 0;
      std::string_view bearer = Authenticator::Credentials(ctx.request());
      if (!bearer.empty() && bearer.find('.') != std::string_view::npos) {
        Issuers::Outcome verified = co_await auth->issuers().Verify(bearer, auth->control());
        if (verified.token) {
          jti = verified.token->jti;
          expires_at = verified.token->expires_at;
        }
      }
      std::string token = fields.get("refresh_token");
      if (token.empty() && jti.empty()) {
        co_return ErrorReply(ErrorClass::kInvalidRequest,
                             "Send the refresh_token (and the access token as Bearer).",
                             "refresh_token");
      }
      LoginStatus status = co_await login.Logout(std::move(token), jti, expires_at);
      Audit(*auth, ctx, "logout", "anonymous", status == LoginStatus::kOk);
      if (status != LoginStatus::kOk && jti.empty()) co_return LoginFailure(status);
      co_return JsonReply(200, "{\"revoked\":true}");
    }
    case RouteKind::kAuthRegister: {
      std::string username = fields.get("username");
      std::string password = fields.get("password");
      if (username.empty() || password.size() < kMinPasswordLength) {
        co_return ErrorReply(ErrorClass::kInvalidRequest,
                             "A username and a password of at least 8 characters are required.",
                             username.empty() ? "username" : "password");
      }
      LoginOutcome outcome =
          co_await login.Register(username, std::move(password), fields.get("email"));
      bool ok = outcome.status == LoginStatus::kOk;
      Audit(*auth, ctx, "user.register", ok ? "user:" + outcome.tokens.user_id : "anonymous", ok);
      co_return ok ? TokenReply(outcome.tokens) : LoginFailure(outcome.status);
    }
    default:
      co_return ErrorReply(ErrorClass::kInternal, "Unexpected route.");
  }
}

}  // namespace sluice
