// request_id filter: decides the id every response and log line carries. The HTTP layer
// has already taken a valid client X-Request-Id or generated one (so even requests
// rejected before any filter runs have one); this filter applies the policy: replace
// client ids when they are not trusted, and propagate the id to the upstream.
// First in the default chain. Factory immutable and thread-safe.
#pragma once

#include "core/filter.h"
#include "filters/request_id/request_id_config.h"

namespace sluice::filters {

class RequestIdFilterFactory final : public FilterFactory {
 public:
  explicit RequestIdFilterFactory(RequestIdConfig config) : config_(std::move(config)) {}
  std::string_view name() const override { return "request_id"; }
  std::unique_ptr<Filter> NewFilter() const override;

 private:
  RequestIdConfig config_;
};

}  // namespace sluice::filters
