// Model groups from YAML: deployments, balancer, hash key, retries, breaker, outlier
// detection, fallbacks (see routing_config.h and docs/configuration.md#models).
#include "config/routing_loader.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "config/health_check_loader.h"

namespace sluice {
namespace {

constexpr size_t kMaxGroupDeployments = 256;  // routing/deployment_mask.h kMaxDeployments
constexpr std::chrono::milliseconds kMinWindow{10};

std::string FormatNumber(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

double Number(const ConfigNode& node, std::string_view key, double fallback, double min,
              double max) {
  ConfigNode child = node.Child(key);
  if (!child.defined()) return fallback;
  auto text = child.Scalar();
  if (!text) return fallback;
  char* end = nullptr;
  double value = std::strtod(text->c_str(), &end);
  if (text->empty() || end != text->c_str() + text->size() || !std::isfinite(value) ||
      value < min || value > max) {
    child.Error("must be a number between " + FormatNumber(min) + " and " + FormatNumber(max) +
                ", not '" + *text + "'");
    return fallback;
  }
  return value;
}

uint32_t Count(const ConfigNode& node, std::string_view key, uint32_t fallback, int64_t min,
               int64_t max) {
  return static_cast<uint32_t>(node.Int(key, fallback, min, max));
}

std::chrono::milliseconds Positive(const ConfigNode& node, std::string_view key,
                                   std::chrono::milliseconds fallback) {
  std::chrono::milliseconds value = node.Duration(key, fallback);
  if (value < kMinWindow) {
    node.Child(key).Error("must be at least 10ms");
    return fallback;
  }
  return value;
}

void ReadRetries(const ConfigNode& node, RetryConfig& r) {
  if (!node.ExpectMap()) return;
  node.AllowKeys({"attempts", "backoff", "budget"});
  r.attempts = Count(node, "attempts", r.attempts, 0, 10);
  ConfigNode backoff = node.Child("backoff");
  if (backoff.ExpectMap()) {
    backoff.AllowKeys({"base", "max"});
    r.backoff_base = backoff.Duration("base", r.backoff_base);
    r.backoff_max = backoff.Duration("max", r.backoff_max);
    if (r.backoff_max < r.backoff_base) backoff.Error("max must not be smaller than base");
  }
  ConfigNode budget = node.Child("budget");
  if (budget.ExpectMap()) {
    budget.AllowKeys({"ratio", "min_concurrent"});
    r.budget_ratio = Number(budget, "ratio", r.budget_ratio, 0, 1);
    r.budget_min_concurrent = Count(budget, "min_concurrent", r.budget_min_concurrent, 0, 100'000);
  }
}

void ReadBreaker(const ConfigNode& node, BreakerConfig& b) {
  if (!node.ExpectMap()) return;
  node.AllowKeys({"consecutive_failures", "failure_ratio", "minimum_requests", "window",
                  "open_duration", "half_open_probes"});
  b.consecutive_failures = Count(node, "consecutive_failures", b.consecutive_failures, 0, 65'535);
  b.failure_ratio = Number(node, "failure_ratio", b.failure_ratio, 0, 1);
  b.minimum_requests = Count(node, "minimum_requests", b.minimum_requests, 1, 1'000'000);
  b.window = Positive(node, "window", b.window);
  b.open_duration = Positive(node, "open_duration", b.open_duration);
  b.half_open_probes = Count(node, "half_open_probes", b.half_open_probes, 1, 65'535);
}

void ReadOutlier(const ConfigNode& node, OutlierConfig& o) {
  if (!node.ExpectMap()) return;
  node.AllowKeys({"consecutive_errors", "consecutive_connect_failures", "base_ejection_time",
                  "max_ejection_time", "interval", "max_ejection_percent",
                  "panic_threshold_percent"});
  o.consecutive_errors = Count(node, "consecutive_errors", o.consecutive_errors, 0, 1'000'000);
  o.consecutive_connect_failures =
      Count(node, "consecutive_connect_failures", o.consecutive_connect_failures, 0, 1'000'000);
  o.base_ejection_time = Positive(node, "base_ejection_time", o.base_ejection_time);
  o.max_ejection_time = Positive(node, "max_ejection_time", o.max_ejection_time);
  o.interval = Positive(node, "interval", o.interval);
  o.max_ejection_percent = Number(node, "max_ejection_percent", o.max_ejection_percent, 0, 100);
  o.panic_threshold_percent =
      Number(node, "panic_threshold_percent", o.panic_threshold_percent, 0, 100);
  if (o.max_ejection_time < o.base_ejection_time) {
    node.Child("max_ejection_time").Error("must not be smaller than base_ejection_time");
  }
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

bool Hashes(std::string_view balancer) { return balancer == "ring_hash" || balancer == "maglev"; }

void ReadHashKey(const ConfigNode& node, ModelConfig& m) {
  ConfigNode child = node.Child("hash_key");
  if (!child.defined()) {
    if (Hashes(m.balancer)) {
      node.Child("balancer")
          .Error("balancer '" + m.balancer +
                 "' needs a hash_key (user, key, header:<name> or client_ip)");
    }
    return;
  }
  auto text = child.Scalar();
  if (!text) return;
  if (!Hashes(m.balancer)) {
    child.Error("applies only to the ring_hash and maglev balancers");
    return;
  }
  if (*text == "user") {
    m.hash_key.kind = HashKeyKind::kUser;
  } else if (*text == "key") {
    m.hash_key.kind = HashKeyKind::kApiKey;
  } else if (*text == "client_ip") {
    m.hash_key.kind = HashKeyKind::kClientIp;
  } else if (text->starts_with("header:")) {
    std::string name = text->substr(7);
    name.erase(0, name.find_first_not_of(' '));
    if (!IsHeaderName(name)) {
      child.Error("header:<name> needs a valid header name, not '" + *text + "'");
      return;
    }
    m.hash_key.kind = HashKeyKind::kHeader;
    m.hash_key.header = name;
  } else {
    child.Error("must be user, key, header:<name> or client_ip, not '" + *text + "'");
  }
}

// A deployment's own `limits:` (requests and/or tokens per minute; positive integers).
void ReadDeploymentLimits(const ConfigNode& node, DeploymentLimitsConfig& l) {
  if (!node.ExpectMap()) return;
  node.AllowKeys({"requests_per_minute", "tokens_per_minute"});
  l.requests_per_minute = node.Int("requests_per_minute", 0, 1, 1'000'000'000);
  l.tokens_per_minute = node.Int("tokens_per_minute", 0, 1, 10'000'000'000);
  if (node.Entries().empty()) {
    node.Error("needs requests_per_minute, tokens_per_minute or both");
  }
}

const BackendConfig* FindBackend(const Snapshot& snap, std::string_view name) {
  for (const auto& b : snap.backends) {
    if (b->name == name) return b.get();
  }
  return nullptr;
}

void ReadDeployments(const ConfigNode& node, const Snapshot& snap, ModelConfig& m) {
  ConfigNode list = node.Child("deployments");
  if (node.Has("backend") || node.Has("upstream_model")) {
    list.Error("use either backend/upstream_model or deployments, not both");
    return;
  }
  if (!list.is_sequence() || list.Items().empty()) {
    list.Error("must be a non-empty list of {backend, upstream_model, weight, tags}");
    return;
  }
  if (list.Items().size() > kMaxGroupDeployments) {
    list.Error("a model may have at most 256 deployments");
    return;
  }
  uint64_t total_weight = 0;
  std::set<std::string> keys;
  for (const ConfigNode& item : list.Items()) {
    if (!item.ExpectMap(false)) continue;
    item.AllowKeys({"backend", "upstream_model", "weight", "tags", "limits"});
    DeploymentConfig d;
    std::string backend = item.String("backend", "");
    d.backend = FindBackend(snap, backend);
    if (backend.empty()) {
      item.Error("a deployment needs a backend");
    } else if (d.backend == nullptr) {
      item.Child("backend").Error("unknown backend '" + backend + "'");
    }
    d.upstream_model = item.String("upstream_model", m.name);
    d.weight = Count(item, "weight", 1, 0, 1'000'000);
    total_weight += d.weight;
    ConfigNode tags = item.Child("tags");
    if (tags.ExpectMap()) {
      for (auto& [name, value] : tags.Entries()) {
        if (auto text = value.Scalar()) d.tags.emplace_back(name, *text);
      }
    }
    ReadDeploymentLimits(item.Child("limits"), d.limits);
    d.key = backend + "/" + d.upstream_model;
    if (!keys.insert(d.key).second) {
      item.Error("deployment '" + d.key + "' is listed twice");
      continue;
    }
    m.deployments.push_back(std::move(d));
  }
  if (total_weight == 0 && !m.deployments.empty()) {
    list.Error("the weights of a model's deployments must not all be 0");
  }
}

uint8_t ReadFallbackOn(const ConfigNode& item) {
  ConfigNode on = item.Child("on");
  if (!on.defined()) return kFallbackRateLimited | kFallbackUnavailable;
  if (!on.is_sequence()) {
    on.Error("must be a list of error classes");
    return 0;
  }
  uint8_t bits = 0;
  for (const ConfigNode& cls : on.Items()) {
    auto text = cls.Scalar();
    if (!text) continue;
    if (*text == "rate_limited") {
      bits |= kFallbackRateLimited;
    } else if (*text == "unavailable") {
      bits |= kFallbackUnavailable;
    } else if (*text == "context_window_exceeded") {
      bits |= kFallbackContextWindow;
    } else if (*text == "content_policy") {
      bits |= kFallbackContentPolicy;
    } else {
      cls.Error("unknown error class '" + *text +
                "' (expected rate_limited, unavailable, context_window_exceeded or "
                "content_policy)");
    }
  }
  if (bits == 0 && on.Items().empty()) on.Error("must name at least one error class");
  return bits;
}

void ReadFallbacks(const ConfigNode& node, ModelConfig& m) {
  ConfigNode list = node.Child("fallbacks");
  if (!list.defined()) return;
  if (!list.is_sequence()) {
    list.Error("must be a list of {on: [...], to: <model>}");
    return;
  }
  for (const ConfigNode& item : list.Items()) {
    if (!item.ExpectMap(false)) continue;
    item.AllowKeys({"on", "to"});
    FallbackConfig f;
    f.on = ReadFallbackOn(item);
    f.to = item.String("to", "");
    if (f.to.empty()) item.Error("a fallback needs `to: <model>`");
    m.fallbacks.push_back(std::move(f));
  }
}

}  // namespace

void ReadRoutingDefaults(const ConfigNode& node, RoutingDefaults& defaults) {
  if (!node.ExpectMap()) return;
  node.AllowKeys({"retries", "circuit_breaker", "outlier_detection", "health_check"});
  ReadRetries(node.Child("retries"), defaults.retries);
  ReadBreaker(node.Child("circuit_breaker"), defaults.circuit_breaker);
  ReadOutlier(node.Child("outlier_detection"), defaults.outlier_detection);
  ReadHealthCheckDefaults(node.Child("health_check"), defaults.health_check);
}

void ReadModelGroup(const ConfigNode& node, const Snapshot& snap, ModelConfig& m) {
  m.retries = snap.routing.retries;
  m.circuit_breaker = snap.routing.circuit_breaker;
  m.outlier_detection = snap.routing.outlier_detection;
  if (node.Has("deployments")) {
    ReadDeployments(node, snap, m);
  } else {
    std::string backend = node.String("backend", "");
    DeploymentConfig d;
    d.backend = FindBackend(snap, backend);
    if (backend.empty()) {
      node.Error("model '" + m.name + "' needs a backend (or a list of deployments)");
    } else if (d.backend == nullptr) {
      node.Child("backend").Error("unknown backend '" + backend + "'");
    }
    d.upstream_model = node.String("upstream_model", m.name);
    d.key = backend + "/" + d.upstream_model;
    m.deployments.push_back(std::move(d));
  }
  if (!m.deployments.empty()) {
    m.backend = m.deployments.front().backend;
    m.upstream_model = m.deployments.front().upstream_model;
  }
  m.balancer = node.String("balancer", m.balancer);
  if (std::find(kBalancerNames.begin(), kBalancerNames.end(), m.balancer) == kBalancerNames.end()) {
    node.Child("balancer")
        .Error("unknown balancer '" + m.balancer +
               "' (expected round_robin, weighted_round_robin, random, "
               "least_outstanding, p2c_ewma, ring_hash or maglev)");
  }
  ReadHashKey(node, m);
  ReadRetries(node.Child("retries"), m.retries);
  ReadBreaker(node.Child("circuit_breaker"), m.circuit_breaker);
  ReadOutlier(node.Child("outlier_detection"), m.outlier_detection);
  ReadFallbacks(node, m);
}

void LinkModelGroups(const std::vector<ConfigNode>& nodes, Snapshot& snap) {
  std::map<std::string, const ModelConfig*, std::less<>> by_name;
  for (const auto& m : snap.models) {
    by_name.emplace(m->name, m.get());
    for (const std::string& alias : m->aliases) by_name.emplace(alias, m.get());
  }
  // A deployment shared by several groups has one breaker: its settings must agree.
  std::map<std::string, std::pair<const ModelConfig*, BreakerConfig>> breakers;
  // ... and one set of own limits.
  std::map<std::string, std::pair<const ModelConfig*, DeploymentLimitsConfig>> own_limits;
  for (size_t i = 0; i < snap.models.size() && i < nodes.size(); ++i) {
    ModelConfig& m = *snap.models[i];
    ConfigNode fallbacks = nodes[i].Child("fallbacks");
    std::vector<ConfigNode> items = fallbacks.Items();
    for (size_t f = 0; f < m.fallbacks.size(); ++f) {
      FallbackConfig& fallback = m.fallbacks[f];
      if (fallback.to.empty()) continue;
      ConfigNode at = f < items.size() ? items[f].Child("to") : fallbacks;
      auto it = by_name.find(fallback.to);
      if (it == by_name.end()) {
        at.Error("unknown model '" + fallback.to + "'");
      } else if (it->second == &m) {
        at.Error("model '" + m.name + "' cannot fall back to itself");
      } else {
        fallback.model = it->second;
      }
    }
    for (const DeploymentConfig& d : m.deployments) {
      auto [it, inserted] = breakers.try_emplace(d.key, &m, m.circuit_breaker);
      if (!inserted && !(it->second.second == m.circuit_breaker)) {
        nodes[i].Error("deployment '" + d.key + "' is also in model '" + it->second.first->name +
                       "' with other circuit_breaker settings; a deployment has one breaker");
      }
      auto [at, first] = own_limits.try_emplace(d.key, &m, d.limits);
      if (!first && !(at->second.second == d.limits)) {
        nodes[i].Error("deployment '" + d.key + "' is also in model '" + at->second.first->name +
                       "' with other limits; a deployment has one set of limits");
      }
    }
  }
}

}  // namespace sluice
