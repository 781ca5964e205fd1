// The closed list of failure classes a request can end with, and how each maps to an
// HTTP status and an OpenAI-style error `type`/`code`. Used by every layer that ends a
// request in error, by the access log (`error` field) and, later, by metrics.
// Immutable tables; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace sluice {

enum class ErrorClass : uint8_t {
  kNone,
  // Client-caused, detected by the HTTP layer.
  kBadFraming,          // 400: malformed request line, header or chunk syntax
  kHeaderTooLarge,      // 431
  kUriTooLong,          // 414
  kBodyTooLarge,        // 413
  kUnsupportedVersion,  // 505
  kNotImplemented,      // 501: unknown transfer coding
  kLengthRequired,      // 411
  kClientTimeout,       // 408: head or body not received in time
  // Client-caused, detected by routing and validation.
  kRouteNotFound,     // 404: unknown path
  kMethodNotAllowed,  // 405
  kInvalidJson,       // 400
  kInvalidRequest,    // 400: valid JSON, wrong shape (missing model, bad stream flag...)
  kModelNotFound,     // 404 model_not_found
  kClientClosed,      // 499 (log only): the client went away before the end
  // Authentication (401) and authorization (403).
  kAuthMissing,       // 401: no credentials
  kAuthInvalid,       // 401: malformed, unknown or wrong credentials
  kAuthExpired,       // 401: expired key or token
  kAuthRevoked,       // 401: revoked key or token
  kAccountDisabled,   // 401: the key's owner or the user is disabled
  kPermissionDenied,  // 403: the principal lacks a permission the route needs
  kModelNotAllowed,   // 403: the principal may not use this model
  kConflict,          // 409: admin API, the name or id is taken
  kResourceNotFound,  // 404: admin API, no such key, user or team
  kRateLimited,       // 429 rate_limit_exceeded: requests, tokens or concurrency over a limit
  kQuotaExceeded,     // 429 insufficient_quota: a token or money budget is spent
  kBudgetExceeded,    // a stream cut at its budget's cap (SSE error event budget_exceeded)
  kRepeatOffender,    // 429: blocked for a cool-down after repeated rejections
  // Upstream-caused.
  kUpstreamUnreachable,  // 502: connect refused, DNS failure, TLS failure
  kUpstreamTimeout,      // 504
  kUpstreamReset,        // 502: connection broke before or during the response
  kUpstreamBadResponse,  // 502: malformed HTTP or body we cannot relay
  kUpstreamAuth,         // 502: provider rejected our key (never relayed: it may echo it)
  kUpstreamError,        // upstream answered with an error status; relayed
  kStreamTruncated,      // stream ended without [DONE]
  // Gateway-caused.
  kUnavailable,  // 503: draining or not ready
  kInternal,     // 500
};

struct ErrorInfo {
  int status;
  std::string_view type;  // OpenAI error.type
  std::string_view code;  // OpenAI error.code; empty → null
  std::string_view name;  // stable name for logs and metrics
};

const ErrorInfo& Describe(ErrorClass error);

}  // namespace sluice
