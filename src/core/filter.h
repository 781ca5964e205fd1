// The filter contract (DESIGN.md §5). Every capability that acts on requests (request id,
// access log, later auth, limits, guardrails, cache) is a Filter built by a FilterFactory.
// Order of calls for one request:
//   OnRequestNow     chain order; decides without suspending, or defers to OnRequest
//   OnRequest        only when OnRequestNow deferred; may suspend for I/O
//                    (a Verdict::Reply from either ends the chain)
//   OnResponseHead   reverse order, for local replies and upstream responses alike
//   OnResponseBody   reverse order; the whole body when not streaming, else one SSE event
//   OnComplete       reverse order, exactly once per created filter, also on error/cancel
// Filters are created lazily, just before their OnRequest: a filter after the one that
// replied is never created and never sees any later call.
// A Filter is single-threaded (one request); a FilterFactory is immutable and shared by all
// workers, so it must be thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/local_reply.h"
#include "core/request_context.h"
#include "core/response_head.h"

namespace sluice {

class Verdict {
 public:
  static Verdict Continue() { return Verdict(); }
  static Verdict Reply(LocalReply reply) {
    Verdict v;
    v.reply_ = std::move(reply);
    return v;
  }
  bool is_continue() const { return !reply_.has_value(); }
  LocalReply& reply() { return *reply_; }

 private:
  std::optional<LocalReply> reply_;
};

class Filter {
 public:
  virtual ~Filter() = default;
  // Request phase, synchronous part: the verdict when it needs no I/O, or std::nullopt to
  // have OnRequest awaited instead (the default). A filter that never suspends overrides
  // only this; one that sometimes does (auth on a cache miss) overrides both. It saves a
  // coroutine frame and a resumption per filter per request.
  virtual std::optional<Verdict> OnRequestNow(RequestContext& ctx) {
    (void)ctx;
    return std::nullopt;
  }
  // Request phase, may suspend; called only when OnRequestNow returned std::nullopt.
  // Filters that need the model call ctx.Model(); it may be nullptr when the request names
  // an unknown model (ctx.pending_error() then says why).
  virtual boost::asio::awaitable<Verdict> OnRequest(RequestContext& ctx) {
    (void)ctx;
    co_return Verdict::Continue();
  }
  // Response phase, synchronous: this is the hot path.
  virtual void OnResponseHead(RequestContext& ctx, ResponseHead& head) {
    (void)ctx;
    (void)head;
  }
  // `piece` is the complete body (non-streaming) or exactly one SSE event including its
  // terminating blank line. A filter may rewrite it; an empty piece is dropped.
  virtual void OnResponseBody(RequestContext& ctx, std::string& piece) {
    (void)ctx;
    (void)piece;
  }
  // After the last byte, on error or on cancel. No I/O: hand work to a background queue.
  virtual void OnComplete(const RequestContext& ctx) { (void)ctx; }
};

class FilterFactory {
 public:
  virtual ~FilterFactory() = default;
  virtual std::string_view name() const = 0;
  virtual std::unique_ptr<Filter> NewFilter() const = 0;
  // False lets the relay skip copying each SSE event into a mutable piece for this filter.
  virtual bool wants_response_body() const { return false; }
  // True makes the filter see requests rejected before dispatch (malformed framing,
  // oversized heads or bodies): it is created, gets no OnRequest, but sees the response
  // phases and OnComplete. The access log uses this so every response is logged.
  virtual bool sees_rejected_requests() const { return false; }
};

}  // namespace sluice
