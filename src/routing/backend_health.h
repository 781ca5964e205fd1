// The live verdict of one backend's active health checks: unknown (no verdict yet, counts
// as healthy so a gateway serves right after start), healthy or unhealthy, with the streaks
// that move it between them (healthy_threshold / unhealthy_threshold), the time of the last
// check and why it failed. Written by routing/health_checker, read by ModelGroup::Begin on
// every request and by /admin/status. Kept in the RoutingRegistry under BackendHealthKey, so
// a rebuilt routing table keeps it. Thread-safe: state() is one relaxed atomic load (the
// request path); Record and the detail getters take a mutex (a check runs every few seconds).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "config/snapshot.h"
#include "core/clock.h"

namespace sluice::routing {

enum class HealthState : uint8_t { kUnknown, kHealthy, kUnhealthy };

std::string_view HealthStateName(HealthState state);

// What one recorded check did to the state (from == to: nothing changed).
struct HealthTransition {
  HealthState from = HealthState::kUnknown;
  HealthState to = HealthState::kUnknown;
  bool changed() const { return from != to; }
};

// The identity of a backend's health: its name, URL and health_check settings. A reload
// that changes any of them starts from unknown; anything else keeps the verdict.
std::string BackendHealthKey(const BackendConfig& backend);

class BackendHealth {
 public:
  BackendHealth(std::string backend_name, HealthCheckConfig config);

  const std::string& backend_name() const { return backend_name_; }
  const HealthCheckConfig& config() const { return config_; }

  HealthState state() const { return state_.load(std::memory_order_relaxed); }
  // Unknown counts as healthy.
  bool unhealthy() const { return state() == HealthState::kUnhealthy; }

  // Records one check: `ok`, or failed because of `error` (no secrets: a status, a
  // timeout, a connect failure). Unknown or healthy → unhealthy after unhealthy_threshold
  // failures in a row; unhealthy → healthy after healthy_threshold successes in a row;
  // unknown → healthy on the first success.
  HealthTransition Record(bool ok, std::string_view error, WallTime at);

  uint32_t consecutive_successes() const;
  uint32_t consecutive_failures() const;
  uint64_t checks() const;
  WallTime last_check() const;     // the epoch before the first check
  std::string last_error() const;  // of the most recent failed check; empty if none failed yet

 private:
  const std::string backend_name_;
  const HealthCheckConfig config_;
  std::atomic<HealthState> state_{HealthState::kUnknown};
  mutable std::mutex mu_;
  uint32_t successes_ = 0;
  uint32_t failures_ = 0;
  uint64_t checks_ = 0;
  WallTime last_check_{};
  std::string last_error_;
};

}  // namespace sluice::routing
