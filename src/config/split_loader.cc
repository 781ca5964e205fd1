// Traffic splits from YAML: `split:` arms, `experiment:` settings, and arm resolution
// (see split_loader.h and docs/routing.md#traffic-splits-and-experiments).
#include "config/split_loader.h"

#include <map>
#include <set>

namespace sluice {
namespace {

constexpr size_t kMaxArms = 32;
constexpr int64_t kMaxArmWeight = 1'000'000;  // 32 arms stay below 2^32 in total
constexpr size_t kMaxArmNameBytes = 64;

// Arm names travel in headers and are matched against a header value: a plain token.
bool IsArmName(std::string_view name) {
  if (name.empty() || name.size() > kMaxArmNameBytes) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsHeaderName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// Keys that configure how a model is served; a split model is served by its arms.
constexpr std::string_view kServingKeys[] = {
    "backend", "upstream_model",  "deployments",       "balancer",  "hash_key",
    "retries", "circuit_breaker", "outlier_detection", "fallbacks", "price"};

void ReadExperiment(const ConfigNode& node, SplitConfig& split) {
  if (!node.ExpectMap()) return;
  node.AllowKeys({"header", "sticky"});
  if (node.Has("header")) {
    split.header = node.String("header", split.header);
    if (!split.header.empty() && !IsHeaderName(split.header)) {
      node.Child("header").Error(
          "must be a header name (or \"\" to turn header assignment off), not '" + split.header +
          "'");
    }
  }
  if (!node.Has("sticky")) return;
  std::string sticky = node.String("sticky", "");
  if (sticky == "none") {
    split.sticky = SplitSticky::kNone;
  } else if (sticky == "user") {
    split.sticky = SplitSticky::kUser;
  } else if (sticky == "api_key") {
    split.sticky = SplitSticky::kApiKey;
  } else if (sticky == "client_ip") {
    split.sticky = SplitSticky::kClientIp;
  } else {
    node.Child("sticky").Error("must be none, user, api_key or client_ip, not '" + sticky + "'");
  }
}

void ReadArms(const ConfigNode& list, ModelConfig& m) {
  if (!list.is_sequence() || list.Items().empty()) {
    list.Error("must be a non-empty list of {name, model, weight}");
    return;
  }
  if (list.Items().size() > kMaxArms) {
    list.Error("a split may have at most 32 arms");
    return;
  }
  std::set<std::string> names;
  uint64_t total = 0;
  for (const ConfigNode& item : list.Items()) {
    if (!item.ExpectMap(false)) continue;
    item.AllowKeys({"name", "model", "weight"});
    SplitArm arm;
    arm.name = item.String("name", "");
    arm.model_name = item.String("model", "");
    arm.weight = static_cast<uint32_t>(item.Int("weight", 1, 1, kMaxArmWeight));
    if (!IsArmName(arm.name)) {
      item.Child("name").Error("an arm needs a name of 1 to 64 letters, digits, '.', '_' or '-'" +
                               (arm.name.empty() ? std::string() : ", not '" + arm.name + "'"));
      continue;
    }
    if (!names.insert(arm.name).second) {
      item.Child("name").Error("arm '" + arm.name + "' is listed twice");
      continue;
    }
    if (arm.model_name.empty()) {
      item.Error("arm '" + arm.name + "' needs `model: <model name>`");
      continue;
    }
    total += arm.weight;
    arm.weight_end = total;
    arm.label = m.name + "=" + arm.name;
    m.split.arms.push_back(std::move(arm));
  }
  m.split.total_weight = total;
}

}  // namespace

bool ReadModelSplit(const ConfigNode& node, ModelConfig& m) {
  if (!node.Has("split")) {
    if (node.Has("experiment")) {
      node.Child("experiment").Error("applies only to a model with a split");
    }
    return false;
  }
  for (std::string_view key : kServingKeys) {
    if (node.Has(key)) {
      node.Child(key).Error("a model with a split is served by its arms' models; set '" +
                            std::string(key) + "' on those models");
    }
  }
  ReadArms(node.Child("split"), m);
  ReadExperiment(node.Child("experiment"), m.split);
  return true;
}

void LinkModelSplits(const std::vector<ConfigNode>& nodes, Snapshot& snap) {
  std::map<std::string, const ModelConfig*, std::less<>> by_name;
  for (const auto& m : snap.models) {
    by_name.emplace(m->name, m.get());
    for (const std::string& alias : m->aliases) by_name.emplace(alias, m.get());
  }
  for (size_t i = 0; i < snap.models.size() && i < nodes.size(); ++i) {
    ModelConfig& m = *snap.models[i];
    std::vector<ConfigNode> arm_nodes = nodes[i].Child("split").Items();
    for (size_t a = 0; a < m.split.arms.size(); ++a) {
      SplitArm& arm = m.split.arms[a];
      // Arms that failed to read were not added: find this arm's entry by name.
      ConfigNode at = nodes[i].Child("split");
      for (const ConfigNode& item : arm_nodes) {
        if (item.String("name", "") == arm.name) at = item.Child("model");
      }
      auto it = by_name.find(arm.model_name);
      if (it == by_name.end()) {
        at.Error("unknown model '" + arm.model_name + "'");
      } else if (it->second == &m) {
        at.Error("arm '" + arm.name + "' cannot be the split model '" + m.name + "' itself");
      } else if (it->second->split.active() ||
                 (it->second->index < nodes.size() && nodes[it->second->index].Has("split"))) {
        at.Error("arm '" + arm.name + "' names model '" + it->second->name +
                 "', which splits too; chains of splits are not allowed");
      } else {
        arm.model = it->second;
      }
    }
    std::vector<ConfigNode> fallback_nodes = nodes[i].Child("fallbacks").Items();
    for (size_t f = 0; f < m.fallbacks.size(); ++f) {
      const ModelConfig* target = m.fallbacks[f].model;
      if (target == nullptr || !target->split.active()) continue;
      ConfigNode at =
          f < fallback_nodes.size() ? fallback_nodes[f].Child("to") : nodes[i].Child("fallbacks");
      at.Error("cannot fall back to '" + target->name +
               "', which splits its traffic; fall back to one of its arms' models");
    }
  }
}

}  // namespace sluice
