// FilterChain: the ordered, immutable list of filter factories of one configuration
// snapshot (shared by all workers; thread-safe). ChainRun: one request's walk through it,
// owning the filters created so far and guaranteeing OnComplete exactly once (also when
// the request is abandoned: the destructor completes it). ChainRun is single-threaded.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "core/filter.h"

namespace sluice {

class FilterChain {
 public:
  FilterChain() = default;
  explicit FilterChain(std::vector<std::shared_ptr<const FilterFactory>> factories);

  size_t size() const { return factories_.size(); }
  const FilterFactory& factory(size_t i) const { return *factories_[i]; }
  bool any_wants_response_body() const { return any_wants_body_; }

 private:
  std::vector<std::shared_ptr<const FilterFactory>> factories_;
  bool any_wants_body_ = false;
};

class ChainRun {
 public:
  ChainRun() = default;
  ChainRun(const ChainRun&) = delete;
  ChainRun& operator=(const ChainRun&) = delete;
  ~ChainRun();

  // Starts a run for `ctx` (which must outlive the run).
  void Start(const FilterChain& chain, RequestContext& ctx);
  // Starts a run for a request rejected before dispatch: creates only the filters that
  // observe rejected requests (FilterFactory::sees_rejected_requests), without OnRequest.
  void StartRejected(const FilterChain& chain, RequestContext& ctx);
  // Runs OnRequest of each filter in order; returns the reply that ended the chain, if any.
  boost::asio::awaitable<std::optional<LocalReply>> RunRequest();
  void ResponseHead(ResponseHead& head);
  // Returns false when a filter dropped the piece (made it empty).
  bool ResponseBody(std::string& piece);
  bool wants_response_body() const {
    return chain_ != nullptr && chain_->any_wants_response_body();
  }
  // OnComplete in reverse order, then destroys the filters. Idempotent.
  void Complete();

 private:
  const FilterChain* chain_ = nullptr;
  RequestContext* ctx_ = nullptr;
  std::vector<std::unique_ptr<Filter>> filters_;
  bool active_ = false;
};

}  // namespace sluice
