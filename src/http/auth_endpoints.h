// The sign-in endpoints on the client listener: POST /auth/login (JSON {"username",
// "password"} or an OAuth2 password-grant form), /auth/refresh, /auth/logout and, when
// enabled, /auth/register. Answers with OAuth2-style token JSON or OpenAI-shaped errors.
// Runs on the session's worker; the password and store work run on the auth pools.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "core/local_reply.h"
#include "core/request_context.h"

namespace sluice {

class AuthRuntime;

boost::asio::awaitable<LocalReply> HandleAuthEndpoint(AuthRuntime* auth, RequestContext& ctx);

}  // namespace sluice
