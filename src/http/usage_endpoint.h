// GET /v1/usage: the caller's own usage (today and this month, from the usage records in
// the store) and the state of every limit that applies to the caller without naming a
// model (requests, tokens, concurrency, budgets: limit, remaining, reset), read without
// charging anything. Needs authentication (the auth filter and usage:read).
#pragma once

#include <boost/asio/awaitable.hpp>

#include "core/local_reply.h"
#include "core/request_context.h"
#include "core/services.h"

namespace sluice {

boost::asio::awaitable<LocalReply> HandleUsageRequest(const Services& services,
                                                      RequestContext& ctx);

}  // namespace sluice
