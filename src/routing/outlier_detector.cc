// Passive ejection and panic mode (see the header).
#include "routing/outlier_detector.h"

#include <algorithm>
#include <cmath>

namespace sluice::routing {
namespace {

int64_t ToNs(Duration d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); }

}  // namespace

OutlierDetector::OutlierDetector(const Clock& clock, size_t deployments,
                                 const OutlierOptions& options)
    : clock_(clock),
      options_(options),
      size_(std::clamp<size_t>(deployments, 1, kMaxDeployments)),
      hosts_(new Host[size_]) {}

int64_t OutlierDetector::NowNs() const { return ToNs(clock_.Now().time_since_epoch()); }

bool OutlierDetector::IsEjected(size_t i) const {
  return i < size_ && NowNs() < hosts_[i].ejected_until_ns.load(std::memory_order_relaxed);
}

SteadyTime OutlierDetector::EjectedUntil(size_t i) const {
  if (!IsEjected(i)) return SteadyTime{};
  return SteadyTime(std::chrono::duration_cast<Duration>(
      std::chrono::nanoseconds(hosts_[i].ejected_until_ns.load(std::memory_order_relaxed))));
}

uint32_t OutlierDetector::Ejections(size_t i) const {
  std::lock_guard lock(mu_);
  return i < size_ ? hosts_[i].ejections : 0;
}

size_t OutlierDetector::EjectedCountAt(int64_t now_ns) const {
  size_t n = 0;
  for (size_t i = 0; i < size_; ++i) {
    n += now_ns < hosts_[i].ejected_until_ns.load(std::memory_order_relaxed) ? 1 : 0;
  }
  return n;
}

size_t OutlierDetector::EjectedCount() const { return EjectedCountAt(NowNs()); }

bool OutlierDetector::Report(size_t i, AttemptOutcome outcome) {
  if (i >= size_ || outcome == AttemptOutcome::kNeutral) return false;
  Host& host = hosts_[i];
  if (IsEjected(i)) return false;
  if (outcome == AttemptOutcome::kSuccess) {
    // Loads first: a healthy deployment's success writes nothing (no shared-line traffic).
    if (host.errors.load(std::memory_order_relaxed) != 0) {
      host.errors.store(0, std::memory_order_relaxed);
    }
    if (host.connect_failures.load(std::memory_order_relaxed) != 0) {
      host.connect_failures.store(0, std::memory_order_relaxed);
    }
    return false;
  }
  const uint32_t errors = host.errors.fetch_add(1, std::memory_order_relaxed) + 1;
  uint32_t connects = 0;
  if (outcome == AttemptOutcome::kConnectFailure) {
    connects = host.connect_failures.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  const bool streak = (options_.consecutive_errors > 0 && errors >= options_.consecutive_errors) ||
                      (options_.consecutive_connect_failures > 0 &&
                       connects >= options_.consecutive_connect_failures);
  return streak && TryEject(i);
}

bool OutlierDetector::TryEject(size_t i) {
  std::lock_guard lock(mu_);
  const int64_t now = NowNs();
  Host& host = hosts_[i];
  const int64_t until = host.ejected_until_ns.load(std::memory_order_relaxed);
  if (now < until) return false;  // another thread ejected it meanwhile
  // One ejection is always allowed, and at least one deployment always stays.
  const auto by_percent = static_cast<size_t>(
      std::floor(static_cast<double>(size_) * options_.max_ejection_percent / 100));
  const size_t allowed = std::min(std::max<size_t>(by_percent, 1), size_ - 1);
  if (EjectedCountAt(now) >= allowed) return false;  // the streak stays; a later failure retries
  // The multiplier forgets one ejection per interval spent healthy since the last return.
  if (until != 0 && host.ejections > 0) {
    const int64_t interval = std::max<int64_t>(1, ToNs(options_.interval));
    const int64_t forgiven = (now - until) / interval;
    host.ejections =
        forgiven >= host.ejections ? 0 : host.ejections - static_cast<uint32_t>(forgiven);
  }
  ++host.ejections;
  const int64_t base = ToNs(options_.base_ejection_time);
  const int64_t cap = ToNs(options_.max_ejection_time);
  const int64_t duration = host.ejections > cap / std::max<int64_t>(1, base)
                               ? cap
                               : std::min(cap, base * host.ejections);
  host.ejected_until_ns.store(now + duration, std::memory_order_relaxed);
  host.errors.store(0, std::memory_order_relaxed);
  host.connect_failures.store(0, std::memory_order_relaxed);
  return true;
}

EligibleSet OutlierDetector::Eligible(const DeploymentMask& also_unhealthy) const {
  EligibleSet set;
  const int64_t now = NowNs();
  for (size_t i = 0; i < size_; ++i) {
    if (now < hosts_[i].ejected_until_ns.load(std::memory_order_relaxed)) set.excluded.Set(i);
  }
  for (size_t i = 0; i < size_; ++i) {
    if (also_unhealthy.Test(i)) set.excluded.Set(i);
  }
  const size_t healthy = size_ - set.excluded.Count();
  if (static_cast<double>(healthy) * 100 <
      options_.panic_threshold_percent * static_cast<double>(size_)) {
    set.excluded.Clear();
    set.panic = true;
  }
  return set;
}

}  // namespace sluice::routing
