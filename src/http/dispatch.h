// The request phase after reading: runs the filter chain, then answers from the gateway
// itself (health, models, errors) or hands model requests to the upstream proxy. Also the
// one place local replies are written, through the filters' response phases.
// Runs on the session's worker; single-threaded.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "core/filter_chain.h"
#include "core/local_reply.h"
#include "core/request_context.h"
#include "http/client_sink.h"
#include "http/worker.h"
#include "routing/router.h"

namespace sluice {

boost::asio::awaitable<void> Dispatch(Worker& worker, ClientSink& client, RequestContext& ctx,
                                      ChainRun& chain, const RouteMatch& route);

// Writes `reply` to the client after the created filters' OnResponseHead/OnResponseBody.
boost::asio::awaitable<void> SendLocalReply(ClientSink& client, RequestContext& ctx,
                                            ChainRun& chain, LocalReply& reply);

}  // namespace sluice
