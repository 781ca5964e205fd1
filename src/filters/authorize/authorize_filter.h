// authorize filter: after auth, checks that the principal holds the permission the route
// needs (models:invoke for the model API) and may use the requested model (per key and per
// tier, aliases respected): otherwise 403 permission_denied / model_not_allowed naming the
// model. GET /v1/models lists only the models the caller may use. Denials are audited.
// Requests without a principal (no auth filter, public routes) pass. Factory immutable
// and thread-safe.
#pragma once

#include "core/filter.h"
#include "core/services.h"

namespace sluice::filters {

class AuthorizeFilterFactory final : public FilterFactory {
 public:
  // `services` is filled in by the server once the runtime is open (after config load).
  explicit AuthorizeFilterFactory(const Services* services) : services_(services) {}
  std::string_view name() const override { return "authorize"; }
  std::unique_ptr<Filter> NewFilter() const override;

 private:
  const Services* services_;
};

}  // namespace sluice::filters
