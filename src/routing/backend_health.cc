// BackendHealth: the threshold state machine of active health checks, and its registry key.
#include "routing/backend_health.h"

#include <sstream>

namespace sluice::routing {

std::string_view HealthStateName(HealthState state) {
  switch (state) {
    case HealthState::kUnknown:
      return "unknown";
    case HealthState::kHealthy:
      return "healthy";
    case HealthState::kUnhealthy:
      return "unhealthy";
  }
  return "unknown";
}

std::string BackendHealthKey(const BackendConfig& backend) {
  const HealthCheckConfig& c = backend.health_check;
  std::ostringstream out;
  out << backend.name << '|' << backend.url << '|' << c.method << ' ' << c.path << '|'
      << c.interval.count() << ',' << c.timeout.count() << ',' << c.healthy_threshold << ','
      << c.unhealthy_threshold << '|';
  for (const HealthStatusRange& r : c.expected_status) out << r.low << '-' << r.high << ',';
  return out.str();
}

BackendHealth::BackendHealth(std::string backend_name, HealthCheckConfig config)
    : backend_name_(std::move(backend_name)), config_(std::move(config)) {}

HealthTransition BackendHealth::Record(bool ok, std::string_view error, WallTime at) {
  std::lock_guard lock(mu_);
  HealthTransition t;
  t.from = state_.load(std::memory_order_relaxed);
  t.to = t.from;
  ++checks_;
  last_check_ = at;
  if (ok) {
    ++successes_;
    failures_ = 0;
    if (t.from == HealthState::kUnknown ||
        (t.from == HealthState::kUnhealthy && successes_ >= config_.healthy_threshold)) {
      t.to = HealthState::kHealthy;
    }
  } else {
    ++failures_;
    successes_ = 0;
    last_error_.assign(error);
    if (t.from != HealthState::kUnhealthy && failures_ >= config_.unhealthy_threshold) {
      t.to = HealthState::kUnhealthy;
    }
  }
  if (t.changed()) state_.store(t.to, std::memory_order_relaxed);
  return t;
}

uint32_t BackendHealth::consecutive_successes() const {
  std::lock_guard lock(mu_);
  return successes_;
}

uint32_t BackendHealth::consecutive_failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

uint64_t BackendHealth::checks() const {
  std::lock_guard lock(mu_);
  return checks_;
}

WallTime BackendHealth::last_check() const {
  std::lock_guard lock(mu_);
  return last_check_;
}

std::string BackendHealth::last_error() const {
  std::lock_guard lock(mu_);
  return last_error_;
}

}  // namespace sluice::routing
