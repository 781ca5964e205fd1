// Repeat offenders: a subject (key, user or client IP) refused N times within a window is
// blocked for a cool-down, so a client hammering a spent limit costs one map lookup per
// request instead of a limiter decision. Per instance (not shared through Redis): the
// block is a local shield, the limits themselves stay exact. Thread-safe: sharded, a
// shard's mutex is taken only when the tracker is non-empty (one relaxed load otherwise).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "config/limits_config.h"

namespace sluice::limits {

class RepeatOffenders {
 public:
  explicit RepeatOffenders(const RepeatOffenderConfig& config) : config_(config) {}

  bool enabled() const { return config_.rejections > 0; }
  // Until when `subject` is blocked (Unix µs), 0 when it is not.
  int64_t BlockedUntil(std::string_view subject, int64_t now_us) const;
  // Counts one refusal; returns true when it starts a block.
  bool RecordRejection(std::string_view subject, int64_t now_us);
  // Forgets subjects whose window and block have both passed.
  void Sweep(int64_t now_us);
  size_t size() const;

 private:
  struct Entry {
    int64_t window_start_us = 0;
    int64_t rejections = 0;
    int64_t blocked_until_us = 0;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> entries;
  };
  Shard& ShardFor(std::string_view subject) const {
    return shards_[std::hash<std::string_view>{}(subject) % shards_.size()];
  }

  RepeatOffenderConfig config_;
  std::atomic<int64_t> tracked_{0};
  mutable std::array<Shard, 16> shards_;
};

}  // namespace sluice::limits
