// ModelGroup: building a group from config and registry, picking and reporting attempts.
#include "routing/model_group.h"

#include <algorithm>

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
  if (model.deployments.empty() && model.split.active()) {
    // Served by its arms' groups (routing/traffic_split.h): an empty group, never picks.
    return std::unique_ptr<ModelGroup>(new ModelGroup(model, {}, registry.Group(model)));
  }
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
  group->health_.reserve(model.deployments.size());
  for (const DeploymentConfig& d : model.deployments) {
    group->health_.push_back(d.backend != nullptr ? registry.Health(*d.backend) : nullptr);
    group->has_health_checks_ = group->has_health_checks_ || group->health_.back() != nullptr;
  }
  for (const auto& state : group->states_) {
    group->has_limits_ = group->has_limits_ || state->limiter.enabled();
    group->limits_tokens_ = group->limits_tokens_ || state->limiter.limits_tokens();
  }
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
                                               Xoshiro256& random, SteadyTime now,
                                               int64_t estimated_tokens,
                                               OverLimits* over_limits) const {
  std::optional<AttemptTicket> ticket = Choose(tried, key_hash, random, now, estimated_tokens);
  if (!ticket && has_limits_ && over_limits != nullptr) {
    *over_limits = CheckOverLimits(tried, estimated_tokens, now);
  }
  return ticket;
}

std::optional<AttemptTicket> ModelGroup::Admit(size_t i, int64_t tokens, SteadyTime now) const {
  DeploymentState& state = *states_[i];
  std::optional<CircuitBreaker::Permit> permit = state.breaker.TryAcquire();
  if (!permit) return std::nullopt;
  AttemptTicket ticket{i, *permit};
  if (state.limiter.enabled()) {
    // Charged only here, for the deployment picked: a skipped first choice costs nothing.
    if (!state.limiter.TryTake(tokens, now)) {
      state.breaker.OnNeutral(*permit);  // lost the last slot to another worker
      return std::nullopt;
    }
    ticket.limited = true;
    ticket.reserved_tokens = tokens;
  }
  state.stats.OnAttemptStart();
  return ticket;
}

OverLimits ModelGroup::CheckOverLimits(const DeploymentMask& tried, int64_t tokens,
                                       SteadyTime now) const {
  OverLimits over;
  for (size_t i = 0; i < states_.size(); ++i) {
    if (tried.Test(i) || config_.deployments[i].weight == 0) continue;  // not in play
    Duration wait = states_[i]->limiter.WaitFor(tokens, now);
    if (wait == Duration::zero()) return OverLimits{};  // refused for another reason
    over.all = true;
    over.retry_after = std::min(over.retry_after, wait);
  }
  return over;
}

std::optional<AttemptTicket> ModelGroup::Choose(const DeploymentMask& tried, uint64_t key_hash,
                                                Xoshiro256& random, SteadyTime now,
                                                int64_t tokens) const {
  const size_t n = states_.size();
  if (n == 0) return std::nullopt;  // a split model's group
  if (n == 1) {
    // The common case: no balancer, no detector (it never ejects the last deployment).
    if (tried.Test(0)) return std::nullopt;
    return Admit(0, tokens, now);
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
  if (has_health_checks_) ExcludeUnhealthy(in.excluded);
  if (has_limits_) {
    for (size_t i = 0; i < n; ++i) {
      if (!in.excluded.Test(i) && !states_[i]->limiter.HasRoom(tokens, now)) in.excluded.Set(i);
    }
  }
  for (size_t tries = 0; tries < n; ++tries) {
    std::optional<size_t> pick = balancer_->Pick(in);
    if (!pick) return std::nullopt;
    if (std::optional<AttemptTicket> ticket = Admit(*pick, tokens, now)) return ticket;
    in.excluded.Set(*pick);  // lost a race for the last half-open probe or limit slot
  }
  return std::nullopt;
}

void ModelGroup::ExcludeUnhealthy(DeploymentMask& excluded) const {
  DeploymentMask down;  // on the stack: no allocation
  size_t unhealthy = 0;
  for (size_t i = 0; i < health_.size(); ++i) {
    if (health_[i] != nullptr && health_[i]->unhealthy()) {
      down.Set(i);
      ++unhealthy;
    }
  }
  if (unhealthy < health_.size()) excluded |= down;
}

void ModelGroup::End(const AttemptTicket& ticket, AttemptResult result, SteadyTime now,
                     Duration latency, int64_t used_tokens) const {
  DeploymentState& state = *states_[ticket.index];
  if (ticket.limited) {
    if (result == AttemptResult::kConnectFailure) {
      state.limiter.Refund(ticket.reserved_tokens, now);  // the provider never saw it
    } else if (used_tokens != kUsedTokensUnknown) {
      state.limiter.SettleTokens(ticket.reserved_tokens, used_tokens, now);
    }
  }
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
