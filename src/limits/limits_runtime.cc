// LimitsRuntime: builds the pieces of traffic control from the limits: section.
#include "limits/limits_runtime.h"

#include <cmath>

#include "config/snapshot.h"
#include "limits/price_table.h"

namespace sluice::limits {

std::unique_ptr<LimitsRuntime> LimitsRuntime::Create(const LimitsConfig& config,
                                                     std::string& error) {
  std::shared_ptr<const TimeZone> zone = TimeZone::Load(config.timezone, &error);
  if (!zone) return nullptr;
  return std::unique_ptr<LimitsRuntime>(new LimitsRuntime(config, std::move(zone)));
}

LimitsRuntime::LimitsRuntime(const LimitsConfig& config, std::shared_ptr<const TimeZone> zone)
    : config_(config),
      zone_(std::move(zone)),
      plan_(config, *zone_),
      offenders_(config.repeat_offenders) {}

LimitsRuntime::~LimitsRuntime() {
  {
    std::lock_guard lock(sweeper_mutex_);
    stopping_ = true;
  }
  sweeper_wake_.notify_all();
  if (sweeper_.joinable()) sweeper_.join();
}

void LimitsRuntime::StartSweeper() {
  sweeper_ = std::thread([this] {
    std::unique_lock lock(sweeper_mutex_);
    while (!sweeper_wake_.wait_for(lock, std::chrono::seconds(5), [this] { return stopping_; })) {
      lock.unlock();
      auto now = std::chrono::system_clock::now().time_since_epoch();
      Sweep(std::chrono::duration_cast<std::chrono::microseconds>(now).count());
      lock.lock();
    }
  });
}

void LimitsRuntime::Sweep(int64_t now_us) {
  local_.Sweep(now_us);
  offenders_.Sweep(now_us);
}

int64_t LimitsRuntime::CostMicroUsd(const ModelConfig* model, int64_t prompt_tokens,
                                    int64_t cached_tokens, int64_t completion_tokens) {
  if (model == nullptr) return 0;
  const ModelPrice& price = model->price;
  return limits::CostMicroUsd(price, prompt_tokens, completion_tokens, cached_tokens);
}

}  // namespace sluice::limits
