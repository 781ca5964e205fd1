// Snapshot lookups and the precomputed /v1/models document.
#include "config/snapshot.h"

#include "core/json_text.h"

namespace sluice {

const ModelConfig* Snapshot::FindModel(std::string_view name) const {
  auto it = model_index_.find(name);
  return it == model_index_.end() ? nullptr : it->second;
}

void Snapshot::AppendModelJson(std::string& out, const ModelConfig& model) const {
  int64_t created =
      std::chrono::duration_cast<std::chrono::seconds>(loaded_at.time_since_epoch()).count();
  out += "{\"id\":";
  AppendJsonString(out, model.name);
  out += ",\"object\":\"model\",\"created\":";
  AppendDecimal(out, created);
  out += ",\"owned_by\":\"sluice\"}";
}

std::string Snapshot::ModelsJson(const std::function<bool(const ModelConfig&)>& include) const {
  std::string out = "{\"object\":\"list\",\"data\":[";
  bool first = true;
  for (const auto& m : models) {
    if (!include(*m)) continue;
    if (!first) out += ',';
    first = false;
    AppendModelJson(out, *m);
  }
  out += "]}";
  return out;
}

bool Snapshot::UsesAuth() const {
  if (auth.configured || store.configured || admin.enabled) return true;
  for (size_t i = 0; i < chain.size(); ++i) {
    std::string_view name = chain.factory(i).name();
    if (name == "auth" || name == "authorize") return true;
  }
  return false;
}

uint64_t Snapshot::MaxBodyBytes(RouteKind kind) const {
  uint64_t route_limit = route(kind).max_body_bytes;
  return route_limit != 0 ? route_limit : server.max_body_bytes;
}

UpstreamTimeouts Snapshot::Timeouts(RouteKind kind, const BackendConfig& backend) const {
  const RouteConfig& r = route(kind);
  auto pick = [](milliseconds mine, milliseconds fallback) {
    return mine.count() > 0 ? mine : fallback;
  };
  return {pick(r.first_byte_timeout, backend.first_byte_timeout),
          pick(r.idle_timeout, backend.idle_timeout), pick(r.total_timeout, backend.total_timeout)};
}

void Snapshot::Finalize() {
  model_index_.clear();
  for (const auto& m : models) {
    model_index_.emplace(m->name, m.get());
    for (const std::string& alias : m->aliases) model_index_.emplace(alias, m.get());
  }
  models_json_ = ModelsJson([](const ModelConfig&) { return true; });
}

std::vector<std::string_view> Snapshot::RestartOnlyChanges(const Snapshot& running) const {
  std::vector<std::string_view> changed;
  for (size_t i = 0; i < kRestartOnlySections.size(); ++i) {
    const std::string* mine =
        i < restart_only_sections.size() ? &restart_only_sections[i] : nullptr;
    const std::string* theirs =
        i < running.restart_only_sections.size() ? &running.restart_only_sections[i] : nullptr;
    bool same = (mine == nullptr && theirs == nullptr) ||
                (mine != nullptr && theirs != nullptr && *mine == *theirs);
    if (!same) changed.push_back(kRestartOnlySections[i]);
  }
  return changed;
}

}  // namespace sluice
