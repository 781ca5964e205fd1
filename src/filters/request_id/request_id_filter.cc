// request_id filter implementation.
#include "filters/request_id/request_id_filter.h"

#include "core/request_id.h"

namespace sluice::filters {
namespace {

class RequestIdFilter final : public Filter {
 public:
  explicit RequestIdFilter(const RequestIdConfig& config) : config_(config) {}

  std::optional<Verdict> OnRequestNow(RequestContext& ctx) override {
    if (!config_.trust_incoming && ctx.request().headers.Has("x-request-id")) {
      GenerateRequestId(ctx.request_id);
    }
    if (!config_.upstream_header.empty()) {
      ctx.upstream_headers.Add(config_.upstream_header, ctx.request_id);
    }
    return Verdict::Continue();
  }

 private:
  const RequestIdConfig& config_;
};

}  // namespace

std::unique_ptr<Filter> RequestIdFilterFactory::NewFilter() const {
  return std::make_unique<RequestIdFilter>(config_);
}

}  // namespace sluice::filters
