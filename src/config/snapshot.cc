// Snapshot lookups and the precomputed /v1/models document.
#include "config/snapshot.h"

#include "core/json_text.h"

namespace sluice {

const ModelConfig* Snapshot::FindModel(std::string_view name) const {
  auto it = model_index_.find(name);
  return it == model_index_.end() ? nullptr : it->second;
}

uint64_t Snapshot::MaxBodyBytes(RouteKind kind) const {
  uint64_t route_limit = route(kind).max_body_bytes;
  return route_limit != 0 ? route_limit : server.max_body_bytes;
}

void Snapshot::Finalize() {
  model_index_.clear();
  for (const auto& m : models) {
    model_index_.emplace(m->name, m.get());
    for (const std::string& alias : m->aliases) model_index_.emplace(alias, m.get());
  }
  int64_t created =
      std::chrono::duration_cast<std::chrono::seconds>(loaded_at.time_since_epoch()).count();
  models_json_ = "{\"object\":\"list\",\"data\":[";
  bool first = true;
  for (const auto& m : models) {
    if (!first) models_json_ += ',';
    first = false;
    models_json_ += "{\"id\":";
    AppendJsonString(models_json_, m->name);
    models_json_ += ",\"object\":\"model\",\"created\":";
    AppendDecimal(models_json_, created);
    models_json_ += ",\"owned_by\":\"sluice\"}";
  }
  models_json_ += "]}";
}

}  // namespace sluice
