// Resolves the model a request names (body "model", or the path of /v1/models/{id})
// against the snapshot's model table, and reads the body fields the gateway itself acts
// on (stream, stream_options.include_usage). A model with a traffic split resolves to the
// model of the arm chosen for the request (routing/traffic_split.h). Implements core's
// ModelResolver. Stateless but for a per-thread random generator; thread-safe.
#pragma once

#include "core/request_context.h"

namespace sluice {

class ModelTableResolver final : public ModelResolver {
 public:
  void Resolve(RequestContext& ctx) const override;
  static const ModelTableResolver& Instance();
};

}  // namespace sluice
