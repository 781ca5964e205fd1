// A stream's completion allowance beyond what admission reserved. The rate_limit filter
// reserves prompt + max_tokens (or a configured default) against token and money budgets;
// a stream that runs past that reservation asks its StreamBudget for more before the relay
// forwards another token, and is cut (SSE error event budget_exceeded) when nothing is
// granted. Set on the RequestContext by the filter that owns it (RequestContext::
// stream_budget); used by one request's relay only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>

namespace sluice {

class RequestContext;

class StreamBudget {
 public:
  virtual ~StreamBudget() = default;

  // Asks for `wanted` more completion tokens; returns how many are granted (0..wanted;
  // 0 = the budget is spent: cut the stream). May suspend (a remote counter store).
  virtual boost::asio::awaitable<int64_t> Extend(RequestContext& ctx, int64_t wanted) = 0;
};

}  // namespace sluice
