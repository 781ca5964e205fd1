// RepeatOffenders: fixed-window refusal counts and cool-down blocks per subject.
#include "limits/repeat_offenders.h"

namespace sluice::limits {

int64_t RepeatOffenders::BlockedUntil(std::string_view subject, int64_t now_us) const {
  if (!enabled() || tracked_.load(std::memory_order_relaxed) == 0) return 0;
  Shard& shard = ShardFor(subject);
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(subject);
  if (it == shard.entries.end() || it->second.blocked_until_us <= now_us) return 0;
  return it->second.blocked_until_us;
}

bool RepeatOffenders::RecordRejection(std::string_view subject, int64_t now_us) {
  if (!enabled()) return false;
  const int64_t window_us = config_.window.count() * 1000;
  Shard& shard = ShardFor(subject);
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(subject);
  if (it == shard.entries.end()) {
    it = shard.entries.emplace(std::string(subject), Entry{}).first;
    tracked_.fetch_add(1, std::memory_order_relaxed);
  }
  Entry& e = it->second;
  if (now_us - e.window_start_us >= window_us) {
    e.window_start_us = now_us;
    e.rejections = 0;
  }
  if (++e.rejections < config_.rejections || e.blocked_until_us > now_us) return false;
  e.blocked_until_us = now_us + config_.block.count() * 1000;
  e.rejections = 0;
  e.window_start_us = now_us;
  return true;
}

void RepeatOffenders::Sweep(int64_t now_us) {
  const int64_t window_us = config_.window.count() * 1000;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    for (auto it = shard.entries.begin(); it != shard.entries.end();) {
      const Entry& e = it->second;
      if (e.blocked_until_us <= now_us && now_us - e.window_start_us >= window_us) {
        it = shard.entries.erase(it);
        tracked_.fetch_sub(1, std::memory_order_relaxed);
      } else {
        ++it;
      }
    }
  }
}

size_t RepeatOffenders::size() const { return static_cast<size_t>(tracked_.load()); }

}  // namespace sluice::limits
