// The hot-path view of API keys: SHA-256 of a key → its state (principal, expiry,
// revocation, owner status) as last read from the store, so a request never waits on the
// database for a known key. Entries expire after the configured TTL (so a change made on
// another instance is seen within seconds) and are dropped at once when this instance
// changes a key. Use counts are accumulated in the entries and flushed in batches.
// Sharded maps with one mutex each; thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/principal.h"
#include "store/store.h"

namespace sluice {

struct KeyState {
  std::shared_ptr<const Principal> principal;  // null: no such key
  std::string hash;
  int64_t expires_at = 0;
  int64_t revoked_at = 0;
  bool owner_disabled = false;
  SteadyTime fetched_at{};
  // Use since the last flush. Counting does not change the key's state, hence mutable.
  mutable std::atomic<int64_t> requests{0};
  mutable std::atomic<int64_t> last_used{0};
};

class KeyCache {
 public:
  KeyCache(Duration ttl, Duration negative_ttl);

  // The state for `hash` if cached and fresh at `now`, else nullptr.
  std::shared_ptr<const KeyState> Find(std::string_view hash, SteadyTime now) const;
  // Caches `state` (replacing an older entry, whose unflushed counts carry over).
  void Put(std::shared_ptr<KeyState> state);
  void Invalidate(std::string_view hash);
  // Drops every entry (an owner changed: user disabled, team tier or membership).
  void Clear();
  void CountUse(const KeyState& state, int64_t now_unix) const;
  // Takes the accumulated use of every key (for Store::RecordKeyUsage).
  std::vector<KeyUsageDelta> TakeUsage();
  size_t size() const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    mutable std::mutex mutex;
    // Heterogeneous lookup: finding by string_view allocates nothing.
    std::unordered_map<std::string, std::shared_ptr<KeyState>, StringHash, std::equal_to<>> entries;
  };
  Shard& ShardFor(std::string_view hash) const;

  Duration ttl_;
  Duration negative_ttl_;
  mutable std::array<Shard, 16> shards_;
  // Counts of entries already evicted or replaced, kept until the next flush.
  std::mutex retired_mutex_;
  std::vector<KeyUsageDelta> retired_;
};

}  // namespace sluice
