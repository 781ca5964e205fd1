// Maps a request's method and path to a route (DESIGN.md §2 Router::Match). The model
// group is resolved lazily from the body by ModelTableResolver, so an unauthenticated
// request never costs a JSON parse. Stateless; thread-safe.
#pragma once

#include <string_view>

#include "core/http_types.h"
#include "core/request_context.h"

namespace sluice {

struct RouteMatch {
  RouteKind kind = RouteKind::kNotFound;
  bool method_allowed = false;
  std::string_view allow;  // value for the Allow header when the method is wrong
  std::string_view param;  // path parameter, e.g. the model id of /v1/models/{id}
  std::string_view name;   // stable route name for logs and metrics
};

RouteMatch MatchRoute(Method method, std::string_view path);
// The admin listener's routes: health probes, /openapi.json and everything under /admin/
// (kAdmin; its handler answers 404/405 per resource). Nothing of the model API.
RouteMatch MatchAdminRoute(Method method, std::string_view path);

}  // namespace sluice
