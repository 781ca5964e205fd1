// ChainRun: lazy creation of filters, reverse-order response phases, exactly-once
// completion.
#include "core/filter_chain.h"

namespace sluice {

FilterChain::FilterChain(std::vector<std::shared_ptr<const FilterFactory>> factories)
    : factories_(std::move(factories)) {
  for (const auto& f : factories_) any_wants_body_ = any_wants_body_ || f->wants_response_body();
}

ChainRun::~ChainRun() { Complete(); }

void ChainRun::Start(const FilterChain& chain, RequestContext& ctx) {
  Complete();
  chain_ = &chain;
  ctx_ = &ctx;
  active_ = true;
}

void ChainRun::StartRejected(const FilterChain& chain, RequestContext& ctx) {
  Start(chain, ctx);
  for (size_t i = 0; i < chain.size(); ++i) {
    if (chain.factory(i).sees_rejected_requests()) filters_.push_back(chain.factory(i).NewFilter());
  }
}

boost::asio::awaitable<std::optional<LocalReply>> ChainRun::RunRequest() {
  for (size_t i = 0; i < chain_->size(); ++i) {
    filters_.push_back(chain_->factory(i).NewFilter());
    Filter& filter = *filters_.back();
    std::optional<Verdict> now = filter.OnRequestNow(*ctx_);
    if (now) {
      if (!now->is_continue()) co_return std::move(now->reply());
      continue;
    }
    // The filter waits on I/O: a span of its own when the request is traced.
    SteadyTime waited_from = ctx_->trace.sampled ? std::chrono::steady_clock::now() : SteadyTime{};
    Verdict verdict = co_await filter.OnRequest(*ctx_);
    if (ctx_->trace.sampled && ctx_->filter_wait_count < kMaxTracedFilterWaits) {
      ctx_->filter_waits[ctx_->filter_wait_count++] = {chain_->factory(i).name(), waited_from,
                                                       std::chrono::steady_clock::now()};
    }
    if (!verdict.is_continue()) co_return std::move(verdict.reply());
  }
  co_return std::nullopt;
}

void ChainRun::ResponseHead(sluice::ResponseHead& head) {
  for (auto it = filters_.rbegin(); it != filters_.rend(); ++it) (*it)->OnResponseHead(*ctx_, head);
}

bool ChainRun::ResponseBody(std::string& piece) {
  for (auto it = filters_.rbegin(); it != filters_.rend(); ++it) {
    (*it)->OnResponseBody(*ctx_, piece);
    if (piece.empty()) return false;
  }
  return true;
}

void ChainRun::Complete() {
  if (!active_) return;
  active_ = false;
  for (auto it = filters_.rbegin(); it != filters_.rend(); ++it) (*it)->OnComplete(*ctx_);
  filters_.clear();
}

}  // namespace sluice
