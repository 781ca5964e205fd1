// The two response relays of UpstreamExchange: buffered (JSON documents, read whole so a
// retryable error can be held for a retry, then relayed with one gather write) and
// streaming (SSE, relayed event by event as it arrives, with backpressure: the next
// upstream read starts only after the client write finished; when a retry is possible the
// head waits for the first event, so a stream that breaks before it is retried). A stream
// with a StreamBudget counts the completion tokens it forwards and is cut at the budget's
// cap.
#include <algorithm>
#include <array>

#include "core/json_text.h"
#include "core/stream_budget.h"
#include "http/dispatch.h"
#include "http/proxy.h"
#include "http/response_writer.h"
#include "http/sse.h"
#include "http/timing_headers.h"
#include "limits/token_estimator.h"
#include "observability/worker_metrics.h"
#include "providers/openai/upstream_request.h"
#include "routing/retry_hint.h"
#include "usage/usage_recorder.h"

namespace sluice {
namespace asio = boost::asio;

namespace {

constexpr std::string_view kDoneEvent = "data: [DONE]\n\n";

// Completion tokens a stream past its allowance asks its budget for at a time. Each request
// is one counter-store decision (a Redis round trip for shared budgets), so asking per
// token would cost one per chunk; what is granted and not delivered when the stream ends
// is refunded by settlement, so a larger step costs nothing but a coarser refusal point
// when budgets are nearly spent.
constexpr int64_t kStreamBudgetStep = 16;

// Builds the SSE error event that ends a broken stream, so clients never mistake a broken
// stream for a complete one. OpenAI's SDKs raise an APIError on it.
void AppendStreamError(std::string& out, ErrorClass error, std::string_view message) {
  const ErrorInfo& info = Describe(error);
  std::string payload;
  AppendOpenAiError(payload, message, info.type, "", info.code);
  AppendSseData(out, payload);
}

std::string_view StreamErrorMessage(ErrorClass error) {
  switch (error) {
    case ErrorClass::kUpstreamTimeout:
      return "The upstream model server stopped sending events.";
    case ErrorClass::kUpstreamBadResponse:
      return "The upstream model server sent a malformed stream.";
    case ErrorClass::kStreamTruncated:
      return "The upstream stream ended before it was complete ([DONE] was not received).";
    case ErrorClass::kBudgetExceeded:
      return "The token budget is spent: the stream was stopped at its cap.";
    default:
      return "The upstream connection broke in the middle of the stream.";
  }
}

// The usage of a stream cut at its budget: the completion tokens forwarded, with the
// upstream's prompt count when a usage chunk already gave it, else the estimator's (as the
// usage recorder estimates a stream that broke off).
void SetCutUsage(RequestContext& ctx, int64_t delivered) {
  Usage& usage = ctx.usage;
  if (!usage.known) {
    const boost::json::object* body = ctx.JsonBody();
    usage.prompt_tokens = body != nullptr ? limits::EstimateTokens(*body, 0).prompt : 0;
    usage.cached_tokens = 0;
  }
  usage.completion_tokens = delivered;
  usage.total_tokens = usage.prompt_tokens + delivered;
  usage.known = true;
  usage.estimated = true;
}

// Counts a stream in sluice_streams_open for as long as its relay runs.
class OpenStreamGauge {
 public:
  explicit OpenStreamGauge(WorkerMetrics* metrics) : metrics_(metrics) {
    if (metrics_ != nullptr) metrics_->streams_open.Add(1);
  }
  ~OpenStreamGauge() {
    if (metrics_ != nullptr) metrics_->streams_open.Add(-1);
  }
  OpenStreamGauge(const OpenStreamGauge&) = delete;
  OpenStreamGauge& operator=(const OpenStreamGauge&) = delete;

 private:
  WorkerMetrics* metrics_;
};

}  // namespace

asio::awaitable<UpstreamFailure> UpstreamExchange::ReadBuffered() {
  ResponseHead& head = held_head_;
  head.Reset();
  head.status = response_.status;
  held_status_ = response_.status;
  head.content_type = response_.headers.Get("content-type");
  if (head.content_type.empty()) head.content_type = "application/json";
  ForwardHeaders(head);  // before reading the body: the head's views move with the buffer
  retry_hint_.reset();
  if (response_.status == 429 || response_.status >= 500) {
    // What the upstream asks a retry to wait (read now, while the views are valid).
    const HeaderList& h = response_.headers;
    routing::RetryHintHeaders hint{h.Get("retry-after-ms"),
                                   h.Get("retry-after"),
                                   h.Get("x-ratelimit-reset-requests"),
                                   h.Get("x-ratelimit-reset-tokens"),
                                   h.Get("x-ratelimit-remaining-requests"),
                                   h.Get("x-ratelimit-remaining-tokens")};
    retry_hint_ = routing::ServerRetryHint(hint, ctx_.WallAt(std::chrono::steady_clock::now()));
  }

  std::string& body = client_.buffers().body;
  body.clear();
  conn_->SetDeadline(ctx_.upstream_sent + timeouts_.total);
  for (bool done = false; !done;) {
    UpstreamFailure failure = co_await conn_->ReadBody(body, done);
    if (failure == UpstreamFailure::kNone && body.size() > backend_->max_response_bytes) {
      failure = UpstreamFailure::kTooLarge;
    }
    if (failure != UpstreamFailure::kNone) {
      conn_->MarkNotReusable();
      co_return failure;
    }
  }
  conn_->ClearDeadline();
  ctx_.upstream_ended = std::chrono::steady_clock::now();
  client_.StopWatching();
  ReleaseConnection();  // back to the pool before the client write
  co_return UpstreamFailure::kNone;
}

asio::awaitable<void> UpstreamExchange::SendBuffered() {
  ResponseHead& head = held_head_;
  std::string& body = client_.buffers().body;
  int status = held_status_;
  if (status == 401 || status == 403 || status == 407) {
    // The provider rejected our credentials. Never relay its message: it may quote the key.
    LocalReply reply = ErrorReply(ErrorClass::kUpstreamAuth,
                                  "The upstream model server rejected the gateway's credentials.");
    co_await SendLocalReply(client_, ctx_, chain_, reply);
    co_return;
  }
  if (status >= 400) {
    ctx_.error = ErrorClass::kUpstreamError;
    bool openai_error = head.content_type.find("json") != std::string::npos &&
                        body.find("\"error\"") != std::string::npos;
    if (!openai_error) {
      std::string message =
          "The upstream model server returned HTTP " + std::to_string(status) + ".";
      LocalReply reply =
          ErrorReply(ErrorClass::kUpstreamError, message, "", status >= 500 ? 502 : status);
      reply.headers = std::move(head.headers);
      co_await SendLocalReply(client_, ctx_, chain_, reply);
      co_return;
    }
  } else {
    ExtractUsage(body, ctx_.usage);
  }
  AddTimingHeaders(ctx_, head.headers);
  chain_.ResponseHead(head);
  if (chain_.wants_response_body()) chain_.ResponseBody(body);
  ctx_.status = head.status;
  std::string& out = client_.buffers().head;
  out.clear();
  HeadFraming framing;
  framing.content_length = body.size();
  framing.keep_alive = client_.keep_alive();
  framing.minor_version = client_.minor_version();
  AppendResponseHead(out, head.status, head.content_type, head.headers, ctx_.request_id, framing);
  std::array<asio::const_buffer, 2> buffers{asio::buffer(out), asio::buffer(body)};
  // The usage record is durable before the response leaves (DESIGN.md §8).
  if (UsageRecorder* usage = worker_.services().usage; usage != nullptr) {
    ctx_.bytes_out = body.size();
    co_await usage->RecordDurable(ctx_);
  }
  ctx_.first_byte_sent = std::chrono::steady_clock::now();
  if (co_await client_.Write(buffers)) {
    ctx_.bytes_out = body.size();
  } else {
    ctx_.error = ErrorClass::kClientClosed;
  }
}

void UpstreamExchange::AppendStreamHead(std::string& out, bool chunked) {
  ResponseHead& head = held_head_;
  AddTimingHeaders(ctx_, head.headers);
  chain_.ResponseHead(head);
  ctx_.status = head.status;
  if (!chunked) client_.DisableKeepAlive();  // HTTP/1.0: the close ends the body
  HeadFraming framing;
  framing.kind = chunked ? HeadFraming::Kind::kChunked : HeadFraming::Kind::kClose;
  framing.keep_alive = client_.keep_alive();
  framing.minor_version = client_.minor_version();
  AppendResponseHead(out, head.status, head.content_type, head.headers, ctx_.request_id, framing);
  ctx_.first_byte_sent = std::chrono::steady_clock::now();
}

asio::awaitable<bool> UpstreamExchange::RelayStream(bool defer_head,
                                                    routing::AttemptResult& attempt_result) {
  ExchangeBuffers& buffers = client_.buffers();
  ResponseHead& head = held_head_;
  head.Reset();
  head.status = 200;
  head.content_type = "text/event-stream";
  head.headers.Add(HeaderName("Cache-Control"), "no-cache");
  ForwardHeaders(head);
  attempt_result = routing::AttemptResult::kCancelled;

  bool chunked = client_.minor_version() >= 1;
  std::string& out = buffers.head;
  out.clear();
  // The head goes out at once, or, when another deployment could still take over, with
  // the first event: until then nothing has reached the client and a failure is retried.
  bool committed = !defer_head;
  if (committed) {
    AppendStreamHead(out, chunked);
    std::array<asio::const_buffer, 1> head_buffer{asio::buffer(out)};
    if (!co_await client_.Write(head_buffer)) {
      ctx_.error = ErrorClass::kClientClosed;
      conn_->Abort();
      co_return true;
    }
    out.clear();
  }

  OpenStreamGauge open_stream(worker_.metrics());
  SseParser parser(worker_.server_config().max_sse_event_bytes);
  std::string& payload = buffers.body;
  std::string& batch = buffers.batch;
  std::string& piece = buffers.piece;
  bool filter_bodies = chain_.wants_response_body();
  bool saw_done = false;
  bool saw_event = false;
  ErrorClass stream_error = ErrorClass::kNone;
  // Without a budget this costs one pointer test per event.
  StreamBudget* budget = ctx_.stream_budget;
  int64_t delivered = 0;  // completion tokens forwarded (counted only with a budget)
  bool cut = false;       // the budget refused more: the stream ends at the cap
  for (bool done = false; !done;) {
    // Time to first event is bounded by first_byte_timeout, later gaps by idle_timeout.
    // Only the wait for the upstream counts: a slow client write is the write timeout's job.
    if (saw_event) {
      conn_->SetTimeout(timeouts_.idle);
    } else {
      conn_->SetDeadline(ctx_.upstream_sent + timeouts_.first_byte);
    }
    payload.clear();
    UpstreamFailure failure = co_await conn_->ReadBody(payload, done);
    conn_->ClearDeadline();
    if (failure == UpstreamFailure::kAborted || client_.client_gone()) {
      ctx_.error = ErrorClass::kClientClosed;
      if (!committed) ctx_.status = 499;
      conn_->Abort();
      co_return true;
    }
    if (failure != UpstreamFailure::kNone) {
      stream_error = ToErrorClass(failure);
      if (!committed && failure == UpstreamFailure::kReset) {
        HoldFailure(failure);  // nothing reached the client: another deployment may serve it
        attempt_result = routing::AttemptResult::kServerError;
        co_return false;
      }
      break;
    }
    parser.Feed(payload);
    batch.clear();
    SseEvent event;
    SseParser::Result result;
    while ((result = parser.Next(event)) == SseParser::Result::kEvent) {
      if (saw_done) continue;  // nothing may follow [DONE]
      // The gateway asked the upstream for usage; a client that did not must see neither
      // the usage-only chunk nor the "usage":null the upstream then adds to every chunk.
      bool strip_null_usage = false;
      if (event.has_data) {
        if (event.data == "[DONE]") {
          // Held back: it is sent after the usage record is durable (below).
          saw_done = true;
          continue;
        } else if (event.data.find("\"usage\"") != std::string_view::npos) {
          if (ExtractUsage(event.data, ctx_.usage)) {
            if (!ctx_.client_wants_usage && IsUsageOnlyChunk(event.data)) continue;
          } else {
            strip_null_usage = !ctx_.client_wants_usage;
          }
        }
      }
      if (budget != nullptr && event.has_data) {
        int64_t tokens = StreamChunkTokens(event.data);
        int64_t& allowance = ctx_.stream_token_allowance;
        while (allowance >= 0 && delivered + tokens > allowance) {
          int64_t wanted = std::max(kStreamBudgetStep, delivered + tokens - allowance);
          int64_t granted = co_await budget->Extend(ctx_, wanted);
          if (granted <= 0) {
            cut = true;
            break;
          }
          allowance += std::min(granted, wanted);
        }
        if (cut) {
          // This event is not forwarded; the ones batched before it still are.
          conn_->Abort();
          ctx_.error = ErrorClass::kBudgetExceeded;
          SetCutUsage(ctx_, delivered);
          break;
        }
        delivered += tokens;
      }
      saw_event = saw_event || !event.comment_only;
      if (!committed) {
        // The first event to forward: the response is the client's from here on.
        committed = true;
        AppendStreamHead(out, chunked);
      }
      if (filter_bodies || strip_null_usage) {
        piece.assign(event.raw);
        if (strip_null_usage) StripNullUsage(piece);
        if (!filter_bodies || chain_.ResponseBody(piece)) batch.append(piece);
      } else {
        batch.append(event.raw);
      }
    }
    if (result == SseParser::Result::kTooLarge) {
      stream_error = ErrorClass::kUpstreamBadResponse;
      break;
    }
    if (!batch.empty()) {
      if (chunked) AppendChunkHeader(out, batch.size());  // after the head, if it is pending
      std::array<asio::const_buffer, 3> chunk{
          asio::buffer(out), asio::buffer(batch),
          asio::buffer(chunked ? kChunkTrailer : std::string_view())};
      if (!co_await client_.Write(chunk)) {
        ctx_.error = ErrorClass::kClientClosed;
        conn_->Abort();
        co_return true;
      }
      out.clear();
      ctx_.bytes_out += batch.size();
      if (ctx_.first_event_sent == SteadyTime{}) {
        ctx_.first_event_sent = std::chrono::steady_clock::now();
      }
    }
    if (cut) {
      stream_error = ErrorClass::kBudgetExceeded;
      break;
    }
  }
  if (stream_error == ErrorClass::kNone && !saw_done) {
    stream_error = ErrorClass::kStreamTruncated;
    if (!committed) {
      // Closed before its first event: as good as a reset for a retry.
      HoldFailure(UpstreamFailure::kReset);
      attempt_result = routing::AttemptResult::kServerError;
      co_return false;
    }
  }
  if (saw_done && stream_error != ErrorClass::kNone) {
    // [DONE] arrived: the stream is complete whatever broke after it.
    conn_->MarkNotReusable();
    stream_error = ErrorClass::kNone;
  }
  ctx_.upstream_ended = std::chrono::steady_clock::now();
  batch.clear();
  if (stream_error != ErrorClass::kNone) {
    ctx_.error = stream_error;
    conn_->MarkNotReusable();
    AppendStreamError(batch, stream_error, StreamErrorMessage(stream_error));
  }
  client_.StopWatching();
  ReleaseConnection();
  // A complete stream and one cut at its budget end as designed: their records are durable
  // before the final event ([DONE] or the budget error) leaves.
  UsageRecorder* usage = worker_.services().usage;
  if (usage != nullptr && (stream_error == ErrorClass::kNone || cut)) {
    co_await usage->RecordDurable(ctx_);
  }
  if (saw_done && stream_error == ErrorClass::kNone) batch.append(kDoneEvent);
  attempt_result = stream_error == ErrorClass::kNone || cut ? routing::AttemptResult::kSuccess
                                                            : routing::AttemptResult::kServerError;
  // `out` is empty, or holds the head when no event was written yet.
  if (!committed) AppendStreamHead(out, chunked);  // an empty stream, or cut at once
  if (chunked && !batch.empty()) AppendChunkHeader(out, batch.size());
  std::string_view tail = chunked ? (batch.empty() ? kLastChunk : std::string_view("\r\n0\r\n\r\n"))
                                  : std::string_view();
  std::array<asio::const_buffer, 3> last{asio::buffer(out), asio::buffer(batch),
                                         asio::buffer(tail)};
  if (co_await client_.Write(last)) {
    ctx_.bytes_out += batch.size();
  } else {
    ctx_.error = ErrorClass::kClientClosed;
  }
  co_return true;
}

}  // namespace sluice
