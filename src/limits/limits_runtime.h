// The long-lived part of traffic control, built by the server from the limits: section:
// the counter store (in process, or Redis with an in-process fallback), the compiled
// policies, the budget calendar's time zone, the repeat-offender tracker and the model
// prices. Shared by every worker's rate_limit filter through Services. Thread-safe (every
// member is).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "config/limits_config.h"
#include "limits/calendar_window.h"
#include "limits/limit_plan.h"
#include "limits/limiter_store.h"
#include "limits/local_limiter_store.h"
#include "limits/repeat_offenders.h"

namespace sluice {
struct ModelConfig;
}

namespace sluice::limits {

class LimitsRuntime {
 public:
  // Builds the runtime for `config`; nullptr with `error` set when, e.g., the time zone
  // is unknown. `config` must outlive the runtime.
  static std::unique_ptr<LimitsRuntime> Create(const LimitsConfig& config, std::string& error);

  LimiterStore& store() { return *store_; }
  LocalLimiterStore& local() { return local_; }
  const LimitPlan& plan() const { return plan_; }
  const LimitsConfig& config() const { return config_; }
  RepeatOffenders& offenders() { return offenders_; }
  const TimeZone& zone() const { return *zone_; }

  // Replaces the store (the server plugs in Redis); the in-process store stays the fallback.
  void SetStore(std::unique_ptr<LimiterStore> store) {
    owned_store_ = std::move(store);
    store_ = owned_store_.get();
  }

  // After the worker loops stopped, before they are destroyed (Server::Join).
  void Quiesce() { store_->CloseConnections(); }

  // Frees idle counters and forgotten offenders.
  void Sweep(int64_t now_us);
  // Runs Sweep every few seconds on a thread of its own until destruction.
  void StartSweeper();
  ~LimitsRuntime();

  // Cost of a usage in micro-dollars for `model` (0 without a price), rounded up.
  static int64_t CostMicroUsd(const ModelConfig* model, int64_t prompt_tokens,
                              int64_t cached_tokens, int64_t completion_tokens);

 private:
  LimitsRuntime(const LimitsConfig& config, std::shared_ptr<const TimeZone> zone);

  const LimitsConfig& config_;
  std::shared_ptr<const TimeZone> zone_;
  LocalLimiterStore local_;
  std::unique_ptr<LimiterStore> owned_store_;
  LimiterStore* store_ = &local_;
  LimitPlan plan_;
  RepeatOffenders offenders_;
  std::mutex sweeper_mutex_;
  std::condition_variable sweeper_wake_;
  bool stopping_ = false;
  std::thread sweeper_;
};

}  // namespace sluice::limits
