// The answer to a request whose credentials failed: the OpenAI-shaped 401 (with
// WWW-Authenticate, error="invalid_token" when something was presented) or 403, plus the
// rate-limited audit row that records what kind of credential was presented (never any of
// its characters). Shared by the auth filter and the admin API. Thread-safe.
#pragma once

#include <string_view>

#include "auth/authenticator.h"
#include "core/local_reply.h"
#include "core/request_context.h"

namespace sluice {

class AuthRuntime;

LocalReply RejectCredentials(AuthRuntime& auth, const RequestContext& ctx,
                             std::string_view credentials, const AuthResult& result);

}  // namespace sluice
