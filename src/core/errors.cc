// The ErrorClass → status/type/code table. One row per class; the OpenAI types follow what
// api.openai.com returns for the same situation.
#include "core/errors.h"

namespace sluice {

const ErrorInfo& Describe(ErrorClass error) {
  static constexpr ErrorInfo kTable[] = {
      /* kNone */ {200, "", "", ""},
      /* kBadFraming */ {400, "invalid_request_error", "bad_request", "bad_framing"},
      /* kHeaderTooLarge */
      {431, "invalid_request_error", "request_header_too_large", "header_too_large"},
      /* kUriTooLong */ {414, "invalid_request_error", "uri_too_long", "uri_too_long"},
      /* kBodyTooLarge */ {413, "invalid_request_error", "request_too_large", "body_too_large"},
      /* kUnsupportedVersion */
      {505, "invalid_request_error", "http_version_not_supported", "unsupported_version"},
      /* kNotImplemented */ {501, "invalid_request_error", "not_implemented", "not_implemented"},
      /* kLengthRequired */ {411, "invalid_request_error", "length_required", "length_required"},
      /* kClientTimeout */ {408, "invalid_request_error", "request_timeout", "client_timeout"},
      /* kRouteNotFound */ {404, "invalid_request_error", "", "route_not_found"},
      /* kMethodNotAllowed */
      {405, "invalid_request_error", "method_not_allowed", "method_not_allowed"},
      /* kInvalidJson */ {400, "invalid_request_error", "invalid_json", "invalid_json"},
      /* kInvalidRequest */ {400, "invalid_request_error", "", "invalid_request"},
      /* kModelNotFound */ {404, "invalid_request_error", "model_not_found", "model_not_found"},
      /* kClientClosed */ {499, "invalid_request_error", "client_closed", "client_closed"},
      /* kAuthMissing */ {401, "authentication_error", "missing_api_key", "auth_missing"},
      /* kAuthInvalid */ {401, "authentication_error", "invalid_api_key", "auth_invalid"},
      /* kAuthExpired */ {401, "authentication_error", "expired_credentials", "auth_expired"},
      /* kAuthRevoked */ {401, "authentication_error", "revoked_credentials", "auth_revoked"},
      /* kAccountDisabled */ {401, "authentication_error", "account_disabled", "account_disabled"},
      /* kPermissionDenied */
      {403, "permission_error", "permission_denied", "permission_denied"},
      /* kModelNotAllowed */ {403, "permission_error", "model_not_allowed", "model_not_allowed"},
      /* kConflict */ {409, "invalid_request_error", "conflict", "conflict"},
      /* kResourceNotFound */ {404, "invalid_request_error", "not_found", "not_found"},
      /* kRateLimited */ {429, "requests", "rate_limit_exceeded", "rate_limited"},
      /* kQuotaExceeded */
      {429, "insufficient_quota", "insufficient_quota", "quota_exceeded"},
      /* kBudgetExceeded */
      {429, "insufficient_quota", "budget_exceeded", "budget_exceeded"},
      /* kRepeatOffender */ {429, "requests", "rate_limit_exceeded", "repeat_offender"},
      /* kUpstreamUnreachable */
      {502, "server_error", "upstream_unreachable", "upstream_unreachable"},
      /* kUpstreamTimeout */ {504, "server_error", "upstream_timeout", "upstream_timeout"},
      /* kUpstreamReset */ {502, "server_error", "upstream_reset", "upstream_reset"},
      /* kUpstreamBadResponse */
      {502, "server_error", "upstream_bad_response", "upstream_bad_response"},
      /* kUpstreamAuth */ {502, "server_error", "upstream_auth_failed", "upstream_auth"},
      /* kUpstreamError */ {502, "server_error", "upstream_error", "upstream_error"},
      /* kStreamTruncated */ {502, "server_error", "stream_truncated", "stream_truncated"},
      /* kUnavailable */ {503, "server_error", "service_unavailable", "unavailable"},
      /* kInternal */ {500, "server_error", "internal_error", "internal"},
  };
  static_assert(sizeof(kTable) / sizeof(kTable[0]) ==
                static_cast<size_t>(ErrorClass::kInternal) + 1);
  return kTable[static_cast<size_t>(error)];
}

}  // namespace sluice
