// ModelGroup: building a group from config and registry, picking and reporting attempts.
#include "routing/model_group.h"

#include "routing/stable_hash.h"

namespace sluice::routing {

ModelGroup::ModelGroup(const ModelConfig& config,
                       std::vector<std::shared_ptr<DeploymentState>> states,
                       std::shared_ptr<GroupState> group)
    : config_(config),
      states_(std::move(states)),
      group_(std::move(group)),
      backoff_(BackoffOptions{config.retries.backoff_base, config.retries.backoff_max}) {}

std::unique_ptr<ModelGroup> ModelGroup::Build(const ModelConfig& model, RoutingRegistry& registry,
                                              std::string& error) {
  if (model.deployments.empty()) {
    error = "model '" + model.name + "' has no deployments";
    return nullptr;
  }
  std::vector<std::shared_ptr<DeploymentState>> states;
  states.reserve(model.deployments.size());
  for (const DeploymentConfig& d : model.deployments) {
    states.push_back(registry.Deployment(d, model.circuit_breaker));
  }
  std::unique_ptr<ModelGroup> group(
      new ModelGroup(model, std::move(states), registry.Group(model)));
  std::vector<BalancerTarget> targets;
  targets.reserve(model.deployments.size());
  for (size_t i = 0; i < model.deployments.size(); ++i) {
    targets.push_back(BalancerTarget{model.deployments[i].key, model.deployments[i].weight,
                                     &group->states_[i]->stats});
  }
  auto kind = ParseBalancerKind(model.balancer);
  if (!kind) {
    error = "model '" + model.name + "': unknown balancer '" + model.balancer + "'";
    return nullptr;
  }
  BalancerBuild built = MakeBalancer(*kind, targets);
  if (!built.balancer) {
    error = "model '" + model.name + "': " + built.error;
    return nullptr;
  }
  group->balancer_ = std::move(built.balancer);
  return group;
}

uint64_t ModelGroup::KeyHash(const RequestContext& ctx) const {
  std::string_view key;
  const Principal* who = ctx.principal.get();
  switch (config_.hash_key.kind) {
    case HashKeyKind::kUser:
      if (who != nullptr) key = who->user_id.empty() ? who->id : who->user_id;
      break;
    case HashKeyKind::kApiKey:
      if (who != nullptr) key = who->key_id.empty() ? who->id : who->key_id;
      break;
    case HashKeyKind::kHeader:
      key = ctx.request().headers.Get(config_.hash_key.header);
      break;
    case HashKeyKind::kClientIp:
    case HashKeyKind::kNone:
      break;
  }
  if (key.empty()) key = ctx.client_ip;
  return StableHash64(key);
}

std::optional<AttemptTicket> ModelGroup::Begin(const DeploymentMask& tried, uint64_t key_hash,
                                               Xoshiro256& random, SteadyTime now) const {
  const size_t n = states_.size();
  if (n == 1) {
    // The common case: no balancer, no detector (it never ejects the last deployment).
    if (tried.Test(0)) return std::nullopt;
    std::optional<CircuitBreaker::Permit> permit = states_[0]->breaker.TryAcquire();
    if (!permit) return std::nullopt;
    states_[0]->stats.OnAttemptStart();
    return AttemptTicket{0, *permit};
  }
  PickInput in;
  in.excluded = tried;
  in.key_hash = key_hash;
  in.random = &random;
  in.now = now;
  for (size_t i = 0; i < n; ++i) {
    if (!states_[i]->breaker.AllowsPick()) in.excluded.Set(i);
  }
  EligibleSet health = group_->outliers.Eligible();
  if (!health.panic) in.excluded |= health.excluded;
  for (size_t tries = 0; tries < n; ++tries) {
    std::optional<size_t> pick = balancer_->Pick(in);
    if (!pick) return std::nullopt;
    if (std::optional<CircuitBreaker::Permit> permit = states_[*pick]->breaker.TryAcquire()) {
      states_[*pick]->stats.OnAttemptStart();
      return AttemptTicket{*pick, *permit};
    }
    in.excluded.Set(*pick);  // lost a race for the last half-open probe
  }
  return std::nullopt;
}

void ModelGroup::End(const AttemptTicket& ticket, AttemptResult result, SteadyTime now,
                     Duration latency) const {
  DeploymentState& state = *states_[ticket.index];
  bool failed = result == AttemptResult::kServerError || result == AttemptResult::kConnectFailure ||
                result == AttemptResult::kRateLimited;
  state.stats.OnAttemptEnd(now, latency, failed);
  AttemptOutcome outcome = AttemptOutcome::kNeutral;
  switch (result) {
    case AttemptResult::kSuccess:
      state.breaker.OnSuccess(ticket.permit);
      outcome = AttemptOutcome::kSuccess;
      break;
    case AttemptResult::kServerError:
      state.breaker.OnFailure(ticket.permit);
      outcome = AttemptOutcome::kServerError;
      break;
    case AttemptResult::kConnectFailure:
      state.breaker.OnFailure(ticket.permit);
      outcome = AttemptOutcome::kConnectFailure;
      break;
    case AttemptResult::kRateLimited:
    case AttemptResult::kClientError:
    case AttemptResult::kCancelled:
      state.breaker.OnNeutral(ticket.permit);
      break;
  }
  if (states_.size() > 1) group_->outliers.Report(ticket.index, outcome);
}

}  // namespace sluice::routing
