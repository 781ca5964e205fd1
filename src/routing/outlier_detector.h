// Passive outlier detection for one model group, as Envoy's: a deployment with
// `consecutive_errors` 5xx or connect failures in a row (or `consecutive_connect_failures`
// connect failures alone) is ejected for base_ejection_time x its number of ejections
// (capped at max_ejection_time; the count decays by one per `interval` spent healthy).
// At most max_ejection_percent of the group is ejected at once, but one ejection is always
// allowed and at least one deployment always stays. Panic: when fewer than
// panic_threshold_percent of the deployments are healthy (ejected or failing active checks
// count as unhealthy), route to all of them. Thread-safe: outcomes are per-deployment
// atomics; the rare ejection decision takes a mutex (ejection is per failure streak, not per
// request); IsEjected is one atomic load.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "core/clock.h"
#include "routing/deployment_mask.h"

namespace sluice::routing {

// What one attempt tells the detector. kNeutral: neither healthy nor sick (a 4xx, a 429,
// the client going away): counted by neither streak.
enum class AttemptOutcome : uint8_t { kSuccess, kServerError, kConnectFailure, kNeutral };

struct OutlierOptions {
  uint32_t consecutive_errors = 5;            // 5xx or connect failures in a row; 0: off
  uint32_t consecutive_connect_failures = 0;  // connect failures alone; 0: off
  Duration base_ejection_time = std::chrono::seconds(30);
  Duration max_ejection_time = std::chrono::seconds(300);
  Duration interval = std::chrono::seconds(10);  // one ejection forgiven per healthy interval
  double max_ejection_percent = 10;
  double panic_threshold_percent = 50;  // 0: never panic
};

struct EligibleSet {
  DeploymentMask excluded;  // the unhealthy ones, empty in panic
  bool panic = false;
};

class OutlierDetector {
 public:
  // REQUIRES: clock outlives the detector; 1 <= deployments <= kMaxDeployments.
  OutlierDetector(const Clock& clock, size_t deployments, const OutlierOptions& options);

  // Returns true when this outcome ejected deployment i. Outcomes of an ejected deployment
  // (requests that were already in flight) are ignored.
  bool Report(size_t i, AttemptOutcome outcome);

  bool IsEjected(size_t i) const;
  SteadyTime EjectedUntil(size_t i) const;  // the epoch when not ejected
  uint32_t Ejections(size_t i) const;       // the current multiplier
  size_t EjectedCount() const;
  size_t size() const { return size_; }

  // Ejected deployments plus `also_unhealthy` (active checks), or nothing in panic mode.
  EligibleSet Eligible(const DeploymentMask& also_unhealthy = {}) const;

 private:
  struct Host {
    std::atomic<uint32_t> errors{0};
    std::atomic<uint32_t> connect_failures{0};
    std::atomic<int64_t> ejected_until_ns{0};  // ejected while now < this
    uint32_t ejections = 0;                    // guarded by mu_
  };

  bool TryEject(size_t i);
  int64_t NowNs() const;
  size_t EjectedCountAt(int64_t now_ns) const;

  const Clock& clock_;
  OutlierOptions options_;
  size_t size_;
  std::unique_ptr<Host[]> hosts_;
  mutable std::mutex mu_;  // serialises ejections (the max-percent check and the multiplier)
};

}  // namespace sluice::routing
