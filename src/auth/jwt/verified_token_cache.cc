// VerifiedTokenCache: SHA-256 of the token → the verified result, in up to 16 shards with
// a mutex each; FIFO eviction within a shard when it is full, expiry checked on lookup.
// The token text is never stored, so a memory dump does not hand out bearer tokens.
// Thread-safe.
#include <array>
#include <cstring>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "auth/jwt/key_impl.h"

namespace sluice::jwt {
namespace {

constexpr size_t kMaxShards = 16;

using Digest = std::array<unsigned char, 32>;

struct DigestHash {
  size_t operator()(const Digest& d) const {
    size_t h;
    std::memcpy(&h, d.data() + 8, sizeof h);  // bytes 0..7 partly chose the shard
    return h;
  }
};

}  // namespace

struct VerifiedTokenCache::Shard {
  std::mutex mu;
  std::unordered_map<Digest, std::shared_ptr<const VerifiedToken>, DigestHash> entries;
  std::deque<Digest> order;  // insertion order; holds exactly the keys of `entries`
};

VerifiedTokenCache::VerifiedTokenCache(size_t capacity) {
  // Fewer shards than 16 for tiny capacities, so that the bound is exact.
  const size_t shards = std::clamp<size_t>(capacity, 1, kMaxShards);
  capacity_per_shard_ = capacity / shards;
  for (size_t i = 0; i < shards; ++i) shards_.push_back(std::make_unique<Shard>());
}

VerifiedTokenCache::~VerifiedTokenCache() = default;

VerifiedTokenCache::Shard& VerifiedTokenCache::ShardFor(const unsigned char* digest) const {
  uint32_t index;
  std::memcpy(&index, digest, sizeof index);
  return *shards_[index % shards_.size()];
}

std::shared_ptr<const VerifiedToken> VerifiedTokenCache::Find(std::string_view token,
                                                              int64_t now) const {
  Digest digest;
  if (capacity_per_shard_ == 0 || !Sha256(token, digest.data())) return nullptr;
  Shard& shard = ShardFor(digest.data());
  std::lock_guard lock(shard.mu);
  const auto it = shard.entries.find(digest);
  if (it == shard.entries.end() || now >= it->second->expires_at) return nullptr;
  return it->second;
}

void VerifiedTokenCache::Insert(std::string_view token,
                                std::shared_ptr<const VerifiedToken> verified) {
  Digest digest;
  if (verified == nullptr || capacity_per_shard_ == 0 || !Sha256(token, digest.data())) return;
  Shard& shard = ShardFor(digest.data());
  std::lock_guard lock(shard.mu);
  if (auto it = shard.entries.find(digest); it != shard.entries.end()) {
    it->second = std::move(verified);
    return;
  }
  if (shard.entries.size() >= capacity_per_shard_) {
    shard.entries.erase(shard.order.front());
    shard.order.pop_front();
  }
  shard.entries.emplace(digest, std::move(verified));
  shard.order.push_back(digest);
}

void VerifiedTokenCache::Clear() {
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    shard->entries.clear();
    shard->order.clear();
  }
}

size_t VerifiedTokenCache::size() const {
  size_t total = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    total += shard->entries.size();
  }
  return total;
}

}  // namespace sluice::jwt
