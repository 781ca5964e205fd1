// UpstreamExchange: the attempt loop over a model group and its fallbacks (deployment
// picks, retries with backoff and budget), request building, connection leasing, the retry
// on stale connections, and error replies.
#include "http/proxy.h"

#include <algorithm>
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

#include "http/dispatch.h"
#include "limits/token_estimator.h"
#include "observability/request_trace.h"
#include "providers/openai/upstream_request.h"
#include "routing/routing_runtime.h"
#include "routing/traffic_split.h"

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

// Groups one request may visit: its own and up to three fallbacks.
constexpr size_t kMaxGroupsPerRequest = 4;

// The worker's generator for balancers and jitter (not for secrets).
Xoshiro256& WorkerRandom() {
  thread_local Xoshiro256 random(
      std::random_device{}() ^
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  return random;
}

bool IsRetryableStatus(int status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

// The fallback class of an error response (FallbackOn bits; 0: none applies).
uint8_t ClassifyStatus(int status, std::string_view body) {
  if (status == 429) return kFallbackRateLimited;
  if (status >= 500 || status == 401 || status == 403 || status == 407) {
    return kFallbackUnavailable;
  }
  if (status == 400 || status == 413 || status == 422) {
    if (body.find("context_length_exceeded") != std::string_view::npos ||
        body.find("maximum context length") != std::string_view::npos) {
      return kFallbackContextWindow;
    }
    if (body.find("content_policy_violation") != std::string_view::npos ||
        body.find("content_filter") != std::string_view::npos) {
      return kFallbackContentPolicy;
    }
  }
  return 0;
}

// The request's size for the deployments' tokens_per_minute limits: the estimate the
// rate_limit filter reserves (prompt + completion reserve; the prompt alone for embeddings).
int64_t EstimatedTokens(RequestContext& ctx) {
  const boost::json::object* body = ctx.JsonBody();  // parsed already (the model was resolved)
  if (body == nullptr) return 0;
  limits::TokenEstimate estimate =
      limits::EstimateTokens(*body, ctx.snapshot().limits.default_max_tokens);
  return ctx.route == RouteKind::kEmbeddings ? estimate.prompt : estimate.total();
}

// The tokens an attempt used, for settling the deployment's tokens_per_minute: the upstream's
// usage; none for an error answer without usage; unknown (the reservation stands) otherwise.
int64_t UsedTokens(const RequestContext& ctx) {
  if (ctx.usage.known) return ctx.usage.prompt_tokens + ctx.usage.completion_tokens;
  if (ctx.upstream_first_byte != SteadyTime{} && ctx.upstream_status >= 400) return 0;
  return routing::kUsedTokensUnknown;
}

// 429 for a request no deployment of `model` can take under its own limits (OpenAI's shape),
// with Retry-After when one of them will have room.
LocalReply OverLimitsReply(std::string_view model, std::optional<Duration> retry_after) {
  std::string message =
      retry_after ? "Rate limit reached for model '" : "Request too large for model '";
  message.append(model);
  if (!retry_after) {
    message.append("': its estimated tokens exceed every deployment's tokens per minute limit.");
    return ErrorReply(ErrorClass::kRateLimited, message);
  }
  message.append("': every deployment is at its own requests or tokens per minute limit.");
  int64_t ms =
      std::max<int64_t>(1, std::chrono::ceil<std::chrono::milliseconds>(*retry_after).count());
  std::string seconds = std::to_string((ms + 999) / 1000);
  message.append(" Please try again in " + seconds + "s.");
  LocalReply reply = ErrorReply(ErrorClass::kRateLimited, message);
  reply.headers.Add("Retry-After", seconds);
  reply.headers.Add("retry-after-ms", std::to_string(ms));
  return reply;
}

// Lets the client's disconnect cut a backoff wait short.
class TimerAbort final : public Abortable {
 public:
  explicit TimerAbort(asio::steady_timer& timer) : timer_(timer) {}
  void Abort() override { timer_.cancel(); }

 private:
  asio::steady_timer& timer_;
};

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
      held_head_(client.buffers().response_head) {
  held_head_.Reset();
}

asio::awaitable<void> UpstreamExchange::Run() {
  // A traffic split's arm travels upstream (the buffer is reused: no allocation).
  if (!ctx_.experiment_label.empty()) {
    ctx_.upstream_headers.Set(routing::kExperimentHeader, ctx_.experiment_label);
  }
  // The requested group, then fallback groups by error class; never one group twice.
  std::array<const ModelConfig*, kMaxGroupsPerRequest> visited{};
  size_t groups = 0;
  const ModelConfig* model = &model_;
  while (model != nullptr) {
    if (groups > 0) ctx_.fell_back = true;
    visited[groups++] = model;
    ctx_.served_model = model->name;
    if (co_await ServeGroup(*model)) co_return;
    if (client_.client_gone() || groups == visited.size()) break;
    const ModelConfig* next = nullptr;
    for (const FallbackConfig& fallback : model->fallbacks) {
      if ((fallback.on & held_class_) == 0 || fallback.model == nullptr) continue;
      if (std::find(visited.begin(), visited.begin() + groups, fallback.model) !=
          visited.begin() + groups) {
        continue;
      }
      next = fallback.model;
      break;
    }
    model = next;
  }
  co_await SendHeld();
}

asio::awaitable<bool> UpstreamExchange::ServeGroup(const ModelConfig& model) {
  // The groups of the request's own configuration generation (a reload never moves it).
  const routing::RoutingTable* routing = ctx_.routing_table;
  const routing::ModelGroup* group = routing != nullptr ? routing->Group(model) : nullptr;
  if (group == nullptr) {
    // No routing runtime (a bare Services): the first deployment, once, as sent.
    Target target{model.backend, model.upstream_model};
    AttemptEnd end = co_await Attempt(target, /*hold=*/false);
    co_return end.sent;
  }
  routing::GroupState& state = group->group_state();
  const uint32_t max_retries = model.retries.attempts;
  // Only groups that can retry count their requests for the budget (a shared atomic).
  std::optional<routing::RetryBudget::RequestScope> in_flight;
  if (max_retries > 0 && group->size() > 1) in_flight.emplace(state.budget);
  routing::RetryBudget::RetryPermit retry;
  routing::DeploymentMask tried;
  const uint64_t key_hash = group->uses_key_hash() ? group->KeyHash(ctx_) : 0;
  const bool has_fallbacks = !model.fallbacks.empty();
  const int64_t tokens = group->limits_tokens() ? EstimatedTokens(ctx_) : 0;
  Xoshiro256& random = WorkerRandom();
  for (uint32_t retries = 0;; ++retries) {
    SteadyTime now = std::chrono::steady_clock::now();
    routing::OverLimits over;
    std::optional<routing::AttemptTicket> ticket =
        group->Begin(tried, key_hash, random, now, tokens, &over);
    if (!ticket) {
      if (held_ == Held::kNothing) {
        held_ = Held::kNoDeployment;
        held_class_ = kFallbackUnavailable;
        if (over.all) {
          // Every deployment is at its own limits: 429 (SendHeld), or a rate_limited fallback.
          held_class_ = kFallbackRateLimited;
          retry_hint_.reset();
          if (over.retry_after != routing::kNeverRoom) retry_hint_ = over.retry_after;
        }
      }
      co_return false;
    }
    tried.Set(ticket->index);
    const DeploymentConfig& deployment = group->deployment(ticket->index);
    bool may_retry = retries < max_retries && tried.Count() < group->size();
    Target target{deployment.backend, deployment.upstream_model};
    AttemptEnd end = co_await Attempt(target, may_retry || has_fallbacks);
    SteadyTime ended = std::chrono::steady_clock::now();
    Duration latency = ctx_.upstream_first_byte > ctx_.upstream_sent
                           ? ctx_.upstream_first_byte - ctx_.upstream_sent
                           : ended - now;
    group->End(*ticket, end.result, ended, latency,
               ticket->limited ? UsedTokens(ctx_) : routing::kUsedTokensUnknown);
    if (end.sent) co_return true;
    if (!end.retryable || !may_retry || client_.client_gone()) co_return false;
    retry.Release();  // one retry in flight per request: the next one replaces it
    retry = state.budget.TryAcquireRetry();
    if (!retry) co_return false;
    // Full jitter, or the upstream's hint when it fits the deadline; a hint that does not
    // fit concerns the deployment that sent it, so another one is tried at once.
    Duration left = deadline_ - ended;
    std::optional<Duration> wait = group->backoff().Delay(retries, retry_hint_, left, random);
    if (!wait) {
      if (!retry_hint_ || left <= Duration::zero()) co_return false;
      wait = Duration::zero();
    }
    if (*wait > Duration::zero()) {
      bool still_there = co_await Sleep(*wait);
      if (!still_there) co_return false;
    }
  }
}

AttemptTrace* UpstreamExchange::BeginAttemptTrace(const Target& target) {
  if (!ctx_.trace.valid) return nullptr;
  AttemptTrace* traced = nullptr;
  std::array<uint8_t, 8> span = ctx_.trace.span_id;
  if (ctx_.trace.sampled && ctx_.attempt_trace_count < kMaxTracedAttempts) {
    traced = &ctx_.attempt_traces[ctx_.attempt_trace_count++];
    *traced = AttemptTrace{};
    traced->backend = target.backend->name;
    traced->upstream_model = target.upstream_model;
    traced->span_id = NewAttemptSpanId();
    traced->start = std::chrono::steady_clock::now();
    span = traced->span_id;
  }
  SetUpstreamTraceHeaders(ctx_, span, ctx_.upstream_headers);
  return traced;
}

asio::awaitable<UpstreamExchange::AttemptEnd> UpstreamExchange::Attempt(const Target& target,
                                                                        bool hold) {
  AttemptTrace* traced = BeginAttemptTrace(target);
  AttemptEnd end = co_await RunAttempt(target, hold);
  if (traced != nullptr) {
    traced->end = std::chrono::steady_clock::now();
    traced->first_byte = ctx_.upstream_first_byte;
    traced->status = ctx_.upstream_status;
    traced->stream = ctx_.stream && ctx_.upstream_status == 200;
    if (end.result == routing::AttemptResult::kConnectFailure) {
      traced->error = ErrorClass::kUpstreamUnreachable;
    } else if (end.result == routing::AttemptResult::kCancelled) {
      traced->error = ErrorClass::kClientClosed;
    } else if (end.result != routing::AttemptResult::kSuccess && traced->status == 0) {
      traced->error = ErrorClass::kUpstreamReset;
    }
  }
  co_return end;
}

asio::awaitable<UpstreamExchange::AttemptEnd> UpstreamExchange::RunAttempt(const Target& target,
                                                                           bool hold) {
  AttemptEnd end;
  backend_ = target.backend;
  timeouts_ = ctx_.snapshot().Timeouts(ctx_.route, *backend_);
  pool_ = &worker_.Pool(*backend_);
  ctx_.backend = backend_->name;
  ctx_.upstream_model = target.upstream_model;
  ctx_.attempts = attempts_ + 1;
  if (attempts_++ == 0) {
    // The deadline of the whole sequence: the route's (else the first backend's) budget.
    Duration budget = ctx_.stream ? Duration(timeouts_.first_byte) : Duration(timeouts_.total);
    deadline_ = std::chrono::steady_clock::now() + budget;
  } else {
    ctx_.usage = Usage{};  // nothing of a failed attempt counts
    ctx_.upstream_first_byte = SteadyTime{};
    ctx_.upstream_status = 0;
  }
  ExchangeBuffers& buffers = client_.buffers();
  BuildUpstreamBody(ctx_, target.upstream_model, buffers.upstream_body);
  BuildUpstreamHead(ctx_, *backend_, buffers.upstream_body.size(), buffers.upstream_head);

  UpstreamFailure failure = co_await Exchange();
  if (failure == UpstreamFailure::kNone) {
    bool event_stream = ctx_.stream && response_.status == 200 &&
                        response_.headers.Get("content-type").starts_with("text/event-stream");
    conn_->BeginBody(response_, /*request_was_head=*/false);
    if (event_stream) {
      end.sent = co_await RelayStream(hold, end.result);
      end.retryable = !end.sent;
      co_return end;
    }
    failure = co_await ReadBuffered();
  }
  if (failure != UpstreamFailure::kNone) {
    end.result = failure == UpstreamFailure::kConnect   ? routing::AttemptResult::kConnectFailure
                 : failure == UpstreamFailure::kAborted ? routing::AttemptResult::kCancelled
                                                        : routing::AttemptResult::kServerError;
    end.retryable = failure == UpstreamFailure::kConnect || failure == UpstreamFailure::kReset;
    if (hold && failure != UpstreamFailure::kAborted && !client_.client_gone()) {
      HoldFailure(failure);
      end.sent = false;
      co_return end;
    }
    co_await ReplyFailure(failure);
    co_return end;
  }
  int status = held_status_;
  end.result = status < 400    ? routing::AttemptResult::kSuccess
               : status == 429 ? routing::AttemptResult::kRateLimited
               : status >= 500 ? routing::AttemptResult::kServerError
                               : routing::AttemptResult::kClientError;
  end.retryable = IsRetryableStatus(status);
  uint8_t error_class = status >= 400 ? ClassifyStatus(status, buffers.body) : 0;
  if (hold && (end.retryable || error_class != 0)) {
    held_ = Held::kResponse;
    held_class_ = error_class;
    end.sent = false;
    co_return end;
  }
  co_await SendBuffered();
  co_return end;
}

asio::awaitable<UpstreamFailure> UpstreamExchange::Exchange() {
  ExchangeBuffers& buffers = client_.buffers();
  std::array<asio::const_buffer, 2> request{asio::buffer(buffers.upstream_head),
                                            asio::buffer(buffers.upstream_body)};
  HeadLimits limits;
  UpstreamFailure failure = UpstreamFailure::kNone;
  for (int attempt = 0; attempt < 2; ++attempt) {
    UpstreamPool::Lease lease = co_await pool_->Acquire(/*fresh_only=*/attempt > 0);
    if (client_.client_gone()) co_return UpstreamFailure::kAborted;
    if (!lease.connection) co_return lease.failure;
    conn_ = std::move(lease.connection);
    ctx_.upstream_sent = std::chrono::steady_clock::now();
    if (ctx_.upstream_began == SteadyTime{}) ctx_.upstream_began = ctx_.upstream_sent;
    Duration head_timeout = ctx_.stream ? Duration(timeouts_.first_byte)
                                        : Duration(std::min(timeouts_.first_byte, timeouts_.total));
    SteadyTime head_deadline = ctx_.upstream_sent + head_timeout;
    // A retry never outlives the sequence's deadline.
    if (attempts_ > 1) head_deadline = std::min(head_deadline, deadline_);
    conn_->SetDeadline(head_deadline);
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

void UpstreamExchange::HoldFailure(UpstreamFailure failure) {
  client_.StopWatching();
  if (conn_) {
    conn_->MarkNotReusable();
    conn_.reset();
  }
  held_ = Held::kFailure;
  held_failure_ = failure;
  held_class_ = kFallbackUnavailable;
  retry_hint_.reset();
}

asio::awaitable<void> UpstreamExchange::SendHeld() {
  if (client_.client_gone()) {
    client_.StopWatching();
    ctx_.error = ErrorClass::kClientClosed;
    ctx_.status = 499;
    co_return;
  }
  switch (held_) {
    case Held::kResponse:
      co_await SendBuffered();
      break;
    case Held::kFailure:
      co_await ReplyFailure(held_failure_);
      break;
    case Held::kNoDeployment:
    case Held::kNothing: {
      client_.StopWatching();
      if (held_ == Held::kNoDeployment && held_class_ == kFallbackRateLimited) {
        LocalReply reply = OverLimitsReply(model_.name, retry_hint_);
        co_await SendLocalReply(client_, ctx_, chain_, reply);
        break;
      }
      std::string message = "No deployment of model '";
      message.append(model_.name);
      message.append("' can take the request now (their circuit breakers are open).");
      LocalReply reply = ErrorReply(ErrorClass::kUnavailable, message);
      co_await SendLocalReply(client_, ctx_, chain_, reply);
      break;
    }
  }
}

asio::awaitable<bool> UpstreamExchange::Sleep(Duration delay) {
  asio::steady_timer timer(worker_.io());
  timer.expires_after(delay);
  TimerAbort abort(timer);
  client_.WatchForDisconnect(&abort);
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  client_.StopWatching();
  co_return !client_.client_gone();
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
  if (!upstream_id.empty()) head.headers.Add(HeaderName("X-Upstream-Request-Id"), upstream_id);
  if (!ctx_.experiment_label.empty()) {
    head.headers.Add(routing::kExperimentHeader, ctx_.experiment_label);
  }
}

void UpstreamExchange::ReleaseConnection() {
  if (!conn_) return;
  if (client_.client_gone()) conn_->MarkNotReusable();
  pool_->Release(std::move(conn_));
}

}  // namespace sluice
