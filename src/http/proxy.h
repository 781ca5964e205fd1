// The fixed final step of a model request (DESIGN.md §2 "Proxy"): pick a deployment of the
// model's group, build the upstream request from the parsed body, lease a pooled
// connection, send, read the response head, then relay the body (buffered JSON or SSE event
// by event) back through the filters. A failed attempt that reached the client with no byte
// is retried on another deployment of the group (connect failure, reset, 429, 500, 502,
// 503, 504; backoff, retry budget, deadline), then served by a fallback group when its error
// class matches (docs/routing.md). A stale pooled connection that fails before any response
// byte is retried once on a fresh connection. Runs on the session's worker; single-threaded.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <optional>

#include "config/snapshot.h"
#include "core/filter_chain.h"
#include "core/request_context.h"
#include "http/client_sink.h"
#include "http/upstream_connection.h"
#include "http/worker.h"
#include "routing/model_group.h"

namespace sluice {

boost::asio::awaitable<void> ForwardToUpstream(Worker& worker, ClientSink& client,
                                               RequestContext& ctx, ChainRun& chain,
                                               const ModelConfig& model);

// One upstream exchange: the attempts of one client request; the relays live in relay.cc.
class UpstreamExchange {
 public:
  UpstreamExchange(Worker& worker, ClientSink& client, RequestContext& ctx, ChainRun& chain,
                   const ModelConfig& model);
  boost::asio::awaitable<void> Run();

 private:
  // The deployment of one attempt.
  struct Target {
    const BackendConfig* backend = nullptr;
    std::string_view upstream_model;
  };
  // How one attempt ended. `sent`: the client got its response (or its error) or left;
  // otherwise the failure is held (held_) for a retry, a fallback or SendHeld.
  struct AttemptEnd {
    bool sent = true;
    bool retryable = false;
    routing::AttemptResult result = routing::AttemptResult::kSuccess;
  };
  // What the last failed attempt left for the client, should nothing else serve it.
  enum class Held : uint8_t { kNothing, kResponse, kFailure, kNoDeployment };

  // All attempts on one group; true once the client has its answer.
  boost::asio::awaitable<bool> ServeGroup(const ModelConfig& model);
  // One attempt. With `hold`, a failure that a retry or fallback may fix is held instead of
  // being sent (and a stream's head waits for its first event).
  boost::asio::awaitable<AttemptEnd> Attempt(const Target& target, bool hold);
  // One attempt's exchange (Attempt adds the trace around it).
  boost::asio::awaitable<AttemptEnd> RunAttempt(const Target& target, bool hold);
  // Records the attempt's span when the request is traced and sets the upstream
  // traceparent; returns the record to complete, or null.
  AttemptTrace* BeginAttemptTrace(const Target& target);
  // Sends the request and reads the response head, retrying once on a stale connection.
  boost::asio::awaitable<UpstreamFailure> Exchange();
  // Reads a JSON response whole: head into held_head_, body into buffers().body.
  boost::asio::awaitable<UpstreamFailure> ReadBuffered();
  boost::asio::awaitable<void> SendBuffered();
  // Relays an SSE stream. Returns false when it failed before anything reached the client
  // in a way another deployment may fix (only with `defer_head`); the failure is then held.
  boost::asio::awaitable<bool> RelayStream(bool defer_head, routing::AttemptResult& result);
  // Appends the stream's response head to `out` and runs the filters' OnResponseHead.
  void AppendStreamHead(std::string& out, bool chunked);
  // Replies with the error for an upstream failure that happened before any byte reached
  // the client.
  boost::asio::awaitable<void> ReplyFailure(UpstreamFailure failure);
  boost::asio::awaitable<void> SendHeld();
  void HoldFailure(UpstreamFailure failure);
  // Waits `delay` before a retry; false when the client left meanwhile.
  boost::asio::awaitable<bool> Sleep(Duration delay);
  // Copies the allowed upstream response headers into `head`.
  void ForwardHeaders(ResponseHead& head) const;
  void ReleaseConnection();

  Worker& worker_;
  ClientSink& client_;
  RequestContext& ctx_;
  ChainRun& chain_;
  const ModelConfig& model_;
  const BackendConfig* backend_ = nullptr;  // the current attempt's
  UpstreamTimeouts timeouts_{};             // the current attempt's (route over backend)
  UpstreamPool* pool_ = nullptr;
  std::unique_ptr<UpstreamConnection> conn_;
  HttpResponseHead response_;
  uint32_t attempts_ = 0;  // upstream attempts so far, all groups
  SteadyTime deadline_{};  // of the whole attempt sequence
  Held held_ = Held::kNothing;
  UpstreamFailure held_failure_ = UpstreamFailure::kNone;
  uint8_t held_class_ = 0;  // FallbackOn bits of the held failure
  // kResponse (body in buffers().body) and the stream's head; the session's, reused.
  ResponseHead& held_head_;
  int held_status_ = 0;
  std::optional<Duration> retry_hint_;  // what the last failed response asked us to wait
};

// Maps an upstream failure to the error class the client and the logs see.
ErrorClass ToErrorClass(UpstreamFailure failure);

}  // namespace sluice
