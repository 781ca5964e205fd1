// Rejections of failed credentials (see auth_reply.h).
#include "auth/auth_reply.h"

#include "auth/auth_runtime.h"

namespace sluice {

LocalReply RejectCredentials(AuthRuntime& auth, const RequestContext& ctx,
                             std::string_view credentials, const AuthResult& result) {
  AuditRecord record;
  record.principal = "anonymous";
  record.action = "auth.failure";
  record.target = std::string(ctx.request().path);
  record.result = std::string(Describe(result.error).name);
  record.client_ip = std::string(ctx.client_ip);
  record.request_id = ctx.request_id;
  // What was presented, never any of its characters.
  record.details_json = std::string("{\"credential\":\"") +
                        (credentials.empty()              ? "none"
                         : credentials.starts_with("sk-") ? "api_key"
                         : result.was_token               ? "jwt"
                                                          : "other") +
                        "\"}";
  auth.audit().RecordAuthFailure(std::move(record), std::chrono::steady_clock::now());
  LocalReply reply = ErrorReply(result.error, result.message);
  if (reply.status == 401) {
    reply.headers.Add("WWW-Authenticate",
                      result.error == ErrorClass::kAuthMissing
                          ? std::string_view("Bearer realm=\"sluice\"")
                          : std::string_view("Bearer realm=\"sluice\", error=\"invalid_token\""));
  }
  return reply;
}

}  // namespace sluice
