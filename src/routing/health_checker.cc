// HealthChecker: the schedule of active health checks, their outcomes and the log lines.
#include "routing/health_checker.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace sluice::routing {
namespace asio = boost::asio;

namespace {

// Without targets the loop still wakes now and then (an Update also wakes it at once).
constexpr Duration kIdleWait = std::chrono::seconds(1);

}  // namespace

std::string HealthTransitionMessage(std::string_view backend_name, const HealthCheckConfig& config,
                                    HealthTransition transition, std::string_view reason) {
  std::string name(backend_name);
  if (transition.to == HealthState::kUnhealthy) {
    return "backend '" + name + "' is unhealthy: " + std::to_string(config.unhealthy_threshold) +
           " health check(s) of " + config.method + " " + config.path +
           " failed in a row (last: " + std::string(reason) + "); requests avoid it";
  }
  if (transition.from == HealthState::kUnhealthy) {
    return "backend '" + name + "' is healthy again: " + std::to_string(config.healthy_threshold) +
           " health check(s) passed in a row; requests use it again";
  }
  return "backend '" + name + "' passed its first health check";
}

HealthChecker::HealthChecker(std::unique_ptr<HealthProber> prober, HealthCheckerOptions options)
    : prober_(std::move(prober)),
      clock_(options.clock != nullptr ? options.clock : &SystemClock::Instance()),
      jitter_(std::clamp(options.jitter, 0.0, 0.5)),
      random_(options.seed != 0 ? options.seed
                                : static_cast<uint64_t>(clock_->Now().time_since_epoch().count())) {
}

HealthChecker::~HealthChecker() { Stop(); }

void HealthChecker::Update(std::shared_ptr<const RoutingTable> table) {
  {
    std::lock_guard lock(pending_mu_);
    pending_ = std::move(table);
    has_pending_ = true;
  }
  // Wakes the loop so it applies the table now (a no-op when nothing waits).
  asio::post(io_, [this] { wake_.cancel(); });
}

void HealthChecker::Start() {
  if (thread_.joinable() || stopping_) return;
  asio::co_spawn(io_, Loop(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

void HealthChecker::Stop() {
  stopping_ = true;
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

size_t HealthChecker::RunDueChecks() {
  ApplyPendingTable();
  size_t before = completed_;
  LaunchDueChecks();
  io_.restart();
  io_.run();
  return completed_ - before;
}

std::optional<SteadyTime> HealthChecker::NextCheck(const BackendHealth& health) const {
  for (const auto& target : targets_) {
    if (target->health == &health && !target->in_flight) return target->next_due;
  }
  return std::nullopt;
}

Duration HealthChecker::Jittered(Duration interval, double low, double high) {
  double factor = low + (high - low) * random_.NextDouble();
  return std::chrono::duration_cast<Duration>(interval * factor);
}

void HealthChecker::ApplyPendingTable() {
  std::shared_ptr<const RoutingTable> table;
  {
    std::lock_guard lock(pending_mu_);
    if (!has_pending_) return;
    table = std::move(pending_);
    pending_.reset();
    has_pending_ = false;
  }
  std::vector<std::shared_ptr<Target>> next;
  SteadyTime now = clock_->Now();
  const std::vector<std::unique_ptr<ModelConfig>> no_models;
  for (const auto& model : table ? table->snapshot().models : no_models) {
    const ModelGroup* group = table->Group(*model);
    if (group == nullptr) continue;
    for (size_t i = 0; i < group->size(); ++i) {
      BackendHealth* health = group->health(i);
      if (health == nullptr) continue;
      auto same = [health](const std::shared_ptr<Target>& t) { return t->health == health; };
      if (std::any_of(next.begin(), next.end(), same)) continue;  // listed by another group
      auto kept = std::find_if(targets_.begin(), targets_.end(), same);
      std::shared_ptr<Target> target;
      if (kept != targets_.end()) {
        target = *kept;  // same backend and settings: keeps its schedule and verdict
      } else {
        target = std::make_shared<Target>();
        target->health = health;
        // Spread first checks over the first tenth of the interval.
        target->next_due = now + Jittered(health->config().interval, 0, 0.1);
      }
      target->table = table;
      target->backend = group->deployment(i).backend;
      next.push_back(std::move(target));
    }
  }
  for (const auto& old : targets_) {
    if (std::find(next.begin(), next.end(), old) == next.end()) old->removed = true;
  }
  targets_ = std::move(next);
  target_count_.store(targets_.size(), std::memory_order_relaxed);
}

SteadyTime HealthChecker::LaunchDueChecks() {
  SteadyTime now = clock_->Now();
  SteadyTime next = now + kIdleWait;
  for (const auto& target : targets_) {
    if (target->in_flight) continue;
    if (target->next_due <= now) {
      target->in_flight = true;
      std::shared_ptr<Target> running = target;
      asio::co_spawn(io_, RunCheck(running), asio::detached);
    } else {
      next = std::min(next, target->next_due);
    }
  }
  return next;
}

asio::awaitable<void> HealthChecker::Loop() {
  while (!stopping_) {
    ApplyPendingTable();
    SteadyTime next = LaunchDueChecks();
    Duration wait = std::max(Duration::zero(), next - clock_->Now());
    wake_.expires_after(wait);
    co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

asio::awaitable<void> HealthChecker::RunCheck(std::shared_ptr<Target> target) {
  // The table the check started with keeps its backend alive, even if Update replaces it.
  std::shared_ptr<const RoutingTable> table = target->table;
  const BackendConfig& backend = *target->backend;
  ProbeResult result;
  try {
    result = co_await prober_->Probe(io_, backend);
  } catch (const std::exception& e) {
    result = ProbeResult{false, std::string("check failed: ") + e.what()};
  }
  target->in_flight = false;
  ++completed_;
  if (!target->removed && !stopping_) {
    BackendHealth& health = *target->health;
    HealthTransition transition = health.Record(result.ok, result.error, clock_->WallNow());
    if (transition.changed()) {
      std::string line =
          HealthTransitionMessage(health.backend_name(), health.config(), transition, result.error);
      if (transition.to == HealthState::kUnhealthy) {
        spdlog::warn("{}", line);
      } else if (transition.from == HealthState::kUnhealthy) {
        spdlog::info("{}", line);
      } else {
        spdlog::debug("{}", line);
      }
    }
    target->next_due = clock_->Now() + Jittered(health.config().interval, 1 - jitter_, 1 + jitter_);
  }
  wake_.cancel();  // the loop recomputes when the next check is due
}

}  // namespace sluice::routing
