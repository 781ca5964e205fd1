// The fixed final step of a model request (DESIGN.md §2 "Proxy"): build the upstream
// request from the parsed body, lease a pooled connection, send, read the response head,
// then relay the body (buffered JSON or SSE event by event) back through the filters.
// A stale pooled connection that fails before any response byte is retried once on a
// fresh connection. Runs on the session's worker; single-threaded.
#pragma once

#include <boost/asio/awaitable.hpp>

#include "config/snapshot.h"
#include "core/filter_chain.h"
#include "core/request_context.h"
#include "http/client_sink.h"
#include "http/upstream_connection.h"
#include "http/worker.h"

namespace sluice {

boost::asio::awaitable<void> ForwardToUpstream(Worker& worker, ClientSink& client,
                                               RequestContext& ctx, ChainRun& chain,
                                               const ModelConfig& model);

// One upstream exchange; the relays live in relay.cc.
class UpstreamExchange {
 public:
  UpstreamExchange(Worker& worker, ClientSink& client, RequestContext& ctx, ChainRun& chain,
                   const ModelConfig& model);
  boost::asio::awaitable<void> Run();

 private:
  // Sends the request and reads the response head, retrying once on a stale connection.
  boost::asio::awaitable<UpstreamFailure> Exchange();
  boost::asio::awaitable<void> RelayBuffered();
  boost::asio::awaitable<void> RelayStream();
  // Replies with the error for an upstream failure that happened before any byte reached
  // the client.
  boost::asio::awaitable<void> ReplyFailure(UpstreamFailure failure);
  // Copies the allowed upstream response headers into `head`.
  void ForwardHeaders(ResponseHead& head) const;
  void ReleaseConnection();

  Worker& worker_;
  ClientSink& client_;
  RequestContext& ctx_;
  ChainRun& chain_;
  const ModelConfig& model_;
  const BackendConfig& backend_;
  UpstreamPool& pool_;
  std::unique_ptr<UpstreamConnection> conn_;
  HttpResponseHead response_;
};

// Maps an upstream failure to the error class the client and the logs see.
ErrorClass ToErrorClass(UpstreamFailure failure);

}  // namespace sluice
