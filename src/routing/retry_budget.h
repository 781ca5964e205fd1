// The retry budget of a route or group (Envoy's retry_budget): retries in flight may not
// exceed max(min_concurrent, ratio x requests in flight), so an outage cannot multiply the
// load on the upstreams by more than 1 + ratio (plus min_concurrent). Requests in flight
// count client requests once each, retrying or not (Envoy's count also includes the retries
// themselves, which lets retries enlarge their own budget). Thread-safe, lock-free: two
// atomics, a CAS loop to take a retry.
#pragma once

#include <atomic>
#include <cstdint>
#include <utility>

namespace sluice::routing {

struct RetryBudgetOptions {
  double ratio = 0.2;           // share of the requests in flight that may be retrying
  uint32_t min_concurrent = 3;  // retries always allowed in flight, however few requests
};

class RetryBudget {
 public:
  explicit RetryBudget(const RetryBudgetOptions& options = {}) : options_(options) {}

  // Counts one client request in flight for its whole life (RAII). Move-only.
  class RequestScope {
   public:
    explicit RequestScope(RetryBudget& budget) : budget_(&budget) {
      budget_->requests_.fetch_add(1, std::memory_order_relaxed);
    }
    RequestScope(RequestScope&& other) noexcept : budget_(std::exchange(other.budget_, nullptr)) {}
    RequestScope& operator=(RequestScope&&) = delete;
    ~RequestScope() {
      if (budget_ != nullptr) budget_->requests_.fetch_sub(1, std::memory_order_relaxed);
    }

   private:
    RetryBudget* budget_;
  };

  // One retry in flight (RAII); falsy when the budget refused it. Move-only.
  class RetryPermit {
   public:
    RetryPermit() = default;
    RetryPermit(RetryPermit&& other) noexcept : budget_(std::exchange(other.budget_, nullptr)) {}
    RetryPermit& operator=(RetryPermit&& other) noexcept {
      Release();
      budget_ = std::exchange(other.budget_, nullptr);
      return *this;
    }
    ~RetryPermit() { Release(); }
    explicit operator bool() const { return budget_ != nullptr; }
    void Release() {
      if (budget_ != nullptr) budget_->retries_.fetch_sub(1, std::memory_order_relaxed);
      budget_ = nullptr;
    }

   private:
    friend class RetryBudget;
    explicit RetryPermit(RetryBudget* budget) : budget_(budget) {}
    RetryBudget* budget_ = nullptr;
  };

  RetryPermit TryAcquireRetry();

  // max(min_concurrent, floor(ratio x requests in flight)).
  int64_t Allowed() const;
  int64_t RequestsInFlight() const { return requests_.load(std::memory_order_relaxed); }
  int64_t RetriesInFlight() const { return retries_.load(std::memory_order_relaxed); }
  // Retries the budget refused since start (a counter for metrics).
  uint64_t Refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  RetryBudgetOptions options_;
  std::atomic<int64_t> requests_{0};
  std::atomic<int64_t> retries_{0};
  std::atomic<uint64_t> refused_{0};
};

}  // namespace sluice::routing
