// KeyCache: sharded lookup, TTL, count carry-over and usage batching.
#include "auth/key_cache.h"

#include <functional>

namespace sluice {
namespace {

KeyUsageDelta Drain(const KeyState& state) {
  KeyUsageDelta delta;
  delta.requests = state.requests.exchange(0, std::memory_order_relaxed);
  delta.last_used_at = state.last_used.exchange(0, std::memory_order_relaxed);
  if (state.principal) delta.key_id = state.principal->key_id;
  return delta;
}

}  // namespace

KeyCache::KeyCache(Duration ttl, Duration negative_ttl) : ttl_(ttl), negative_ttl_(negative_ttl) {}

KeyCache::Shard& KeyCache::ShardFor(std::string_view hash) const {
  // The hash is already uniformly distributed hex: its first digit picks the shard.
  unsigned char c = hash.empty() ? '0' : static_cast<unsigned char>(hash[0]);
  size_t index = (c >= 'a' ? c - 'a' + 10 : c - '0') & 15;
  return shards_[index];
}

std::shared_ptr<const KeyState> KeyCache::Find(std::string_view hash, SteadyTime now) const {
  Shard& shard = ShardFor(hash);
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(hash);
  if (it == shard.entries.end()) return nullptr;
  const KeyState& state = *it->second;
  Duration ttl = state.principal ? ttl_ : negative_ttl_;
  if (now - state.fetched_at >= ttl) return nullptr;
  return it->second;
}

void KeyCache::Put(std::shared_ptr<KeyState> state) {
  Shard& shard = ShardFor(state->hash);
  std::shared_ptr<KeyState> old;
  {
    std::lock_guard lock(shard.mutex);
    auto& slot = shard.entries[state->hash];
    old = std::move(slot);
    slot = state;
  }
  if (old && old->principal) {
    KeyUsageDelta delta = Drain(*old);
    if (delta.requests > 0) {
      std::lock_guard lock(retired_mutex_);
      retired_.push_back(std::move(delta));
    }
  }
}

void KeyCache::Invalidate(std::string_view hash) {
  Shard& shard = ShardFor(hash);
  std::shared_ptr<KeyState> old;
  {
    std::lock_guard lock(shard.mutex);
    auto it = shard.entries.find(hash);
    if (it == shard.entries.end()) return;
    old = std::move(it->second);
    shard.entries.erase(it);
  }
  if (old->principal) {
    KeyUsageDelta delta = Drain(*old);
    if (delta.requests > 0) {
      std::lock_guard lock(retired_mutex_);
      retired_.push_back(std::move(delta));
    }
  }
}

void KeyCache::Clear() {
  for (Shard& shard : shards_) {
    std::unordered_map<std::string, std::shared_ptr<KeyState>, StringHash, std::equal_to<>> old;
    {
      std::lock_guard lock(shard.mutex);
      old.swap(shard.entries);
    }
    std::lock_guard lock(retired_mutex_);
    for (auto& [hash, state] : old) {
      if (!state->principal) continue;
      KeyUsageDelta delta = Drain(*state);
      if (delta.requests > 0) retired_.push_back(std::move(delta));
    }
  }
}

void KeyCache::CountUse(const KeyState& state, int64_t now_unix) const {
  state.requests.fetch_add(1, std::memory_order_relaxed);
  int64_t seen = state.last_used.load(std::memory_order_relaxed);
  if (seen < now_unix) state.last_used.store(now_unix, std::memory_order_relaxed);
}

std::vector<KeyUsageDelta> KeyCache::TakeUsage() {
  std::vector<KeyUsageDelta> out;
  {
    std::lock_guard lock(retired_mutex_);
    out.swap(retired_);
  }
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    for (auto& [hash, state] : shard.entries) {
      if (!state->principal || state->requests.load(std::memory_order_relaxed) == 0) continue;
      out.push_back(Drain(*state));
    }
  }
  return out;
}

size_t KeyCache::size() const {
  size_t total = 0;
  for (Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    total += shard.entries.size();
  }
  return total;
}

}  // namespace sluice
