// UpstreamExchange: request building, connection leasing, the retry on stale
// connections, and error replies.
#include "http/proxy.h"

#include <array>

#include "http/dispatch.h"
#include "providers/openai/upstream_request.h"

namespace sluice {
namespace asio = boost::asio;

ErrorClass ToErrorClass(UpstreamFailure failure) {
  switch (failure) {
    case UpstreamFailure::kNone:
      return ErrorClass::kNone;
    case UpstreamFailure::kConnect:
      return ErrorClass::kUpstreamUnreachable;
    case UpstreamFailure::kTimeout:
      return ErrorClass::kUpstreamTimeout;
    case UpstreamFailure::kReset:
      return ErrorClass::kUpstreamReset;
    case UpstreamFailure::kBadResponse:
      return ErrorClass::kUpstreamBadResponse;
    case UpstreamFailure::kTooLarge:
      return ErrorClass::kUpstreamBadResponse;
    case UpstreamFailure::kAborted:
      return ErrorClass::kClientClosed;
  }
  return ErrorClass::kInternal;
}

namespace {

std::string_view FailureMessage(UpstreamFailure failure) {
  switch (failure) {
    case UpstreamFailure::kConnect:
      return "Could not connect to the upstream model server.";
    case UpstreamFailure::kTimeout:
      return "The upstream model server did not respond in time.";
    case UpstreamFailure::kReset:
      return "The upstream model server closed the connection.";
    case UpstreamFailure::kBadResponse:
      return "The upstream model server sent a malformed response.";
    case UpstreamFailure::kTooLarge:
      return "The upstream model server's response exceeded the configured size limit.";
    default:
      return "The upstream request failed.";
  }
}

}  // namespace

asio::awaitable<void> ForwardToUpstream(Worker& worker, ClientSink& client, RequestContext& ctx,
                                        ChainRun& chain, const ModelConfig& model) {
  UpstreamExchange exchange(worker, client, ctx, chain, model);
  co_await exchange.Run();
}

UpstreamExchange::UpstreamExchange(Worker& worker, ClientSink& client, RequestContext& ctx,
                                   ChainRun& chain, const ModelConfig& model)
    : worker_(worker),
      client_(client),
      ctx_(ctx),
      chain_(chain),
      model_(model),
      backend_(*model.backend),
      pool_(worker.Pool(*model.backend)) {}

asio::awaitable<void> UpstreamExchange::Run() {
  ctx_.backend = backend_.name;
  ctx_.upstream_model = model_.upstream_model;
  ExchangeBuffers& buffers = client_.buffers();
  BuildUpstreamBody(ctx_, model_, buffers.upstream_body);
  BuildUpstreamHead(ctx_, backend_, buffers.upstream_body.size(), buffers.upstream_head);

  UpstreamFailure failure = co_await Exchange();
  if (failure != UpstreamFailure::kNone) {
    co_await ReplyFailure(failure);
    co_return;
  }
  bool event_stream = ctx_.stream && response_.status == 200 &&
                      response_.headers.Get("content-type").starts_with("text/event-stream");
  conn_->BeginBody(response_, /*request_was_head=*/false);
  if (event_stream) {
    co_await RelayStream();
  } else {
    co_await RelayBuffered();
  }
  client_.StopWatching();
  ReleaseConnection();
}

asio::awaitable<UpstreamFailure> UpstreamExchange::Exchange() {
  ExchangeBuffers& buffers = client_.buffers();
  std::array<asio::const_buffer, 2> request{asio::buffer(buffers.upstream_head),
                                            asio::buffer(buffers.upstream_body)};
  HeadLimits limits;
  UpstreamFailure failure = UpstreamFailure::kNone;
  for (int attempt = 0; attempt < 2; ++attempt) {
    UpstreamPool::Lease lease = co_await pool_.Acquire(/*fresh_only=*/attempt > 0);
    if (client_.client_gone()) co_return UpstreamFailure::kAborted;
    if (!lease.connection) co_return lease.failure;
    conn_ = std::move(lease.connection);
    ctx_.upstream_sent = std::chrono::steady_clock::now();
    Duration head_timeout =
        ctx_.stream ? Duration(backend_.first_byte_timeout)
                    : Duration(std::min(backend_.first_byte_timeout, backend_.total_timeout));
    conn_->SetDeadline(ctx_.upstream_sent + head_timeout);
    client_.WatchForDisconnect(conn_.get());
    failure = co_await conn_->Write(request);
    if (failure == UpstreamFailure::kNone) failure = co_await conn_->ReadHead(limits, response_);
    if (failure == UpstreamFailure::kNone) break;
    // A pooled connection the server closed while idle fails before any response byte;
    // that request was never processed, so one retry on a fresh connection is safe.
    bool stale = lease.reused && failure == UpstreamFailure::kReset && !conn_->received_bytes();
    client_.StopWatching();
    conn_.reset();
    if (!stale) co_return failure;
  }
  if (failure != UpstreamFailure::kNone) co_return failure;
  ctx_.upstream_first_byte = std::chrono::steady_clock::now();
  ctx_.upstream_status = response_.status;
  co_return UpstreamFailure::kNone;
}

asio::awaitable<void> UpstreamExchange::ReplyFailure(UpstreamFailure failure) {
  client_.StopWatching();
  if (conn_) conn_.reset();
  ctx_.error = ToErrorClass(failure);
  if (failure == UpstreamFailure::kAborted || client_.client_gone()) {
    ctx_.error = ErrorClass::kClientClosed;
    ctx_.status = 499;
    co_return;
  }
  LocalReply reply = ErrorReply(ctx_.error, FailureMessage(failure));
  co_await SendLocalReply(client_, ctx_, chain_, reply);
}

void UpstreamExchange::ForwardHeaders(ResponseHead& head) const {
  for (const Header& h : response_.headers.fields()) {
    if (ForwardResponseHeader(h.name)) head.headers.Add(h.name, h.value);
  }
  std::string_view upstream_id = response_.headers.Get("x-request-id");
  if (!upstream_id.empty()) head.headers.Add("X-Upstream-Request-Id", upstream_id);
}

void UpstreamExchange::ReleaseConnection() {
  if (!conn_) return;
  if (client_.client_gone()) conn_->MarkNotReusable();
  pool_.Release(std::move(conn_));
}

}  // namespace sluice
