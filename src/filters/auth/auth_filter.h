// auth filter: authenticates every request except the public routes (health probes and
// the sign-in endpoints) with a gateway API key or a JWT (see auth/authenticator), sets
// ctx.principal, and answers 401 in OpenAI's shape with WWW-Authenticate otherwise. Failed
// attempts are audited (rate limited). Factory immutable and thread-safe.
#pragma once

#include "core/filter.h"
#include "core/services.h"

namespace sluice::filters {

class AuthFilterFactory final : public FilterFactory {
 public:
  // `services` is filled in by the server once the runtime is open (after config load).
  explicit AuthFilterFactory(const Services* services) : services_(services) {}
  std::string_view name() const override { return "auth"; }
  std::unique_ptr<Filter> NewFilter() const override;

 private:
  const Services* services_;
};

// Routes that never need credentials.
bool IsPublicRoute(RouteKind route);

}  // namespace sluice::filters
