// RedisLimiterStore: per-thread clients, EVALSHA encoding, reply decoding, NOSCRIPT
// recovery and the failure policies (see redis_limiter_store.h).
#include "limits/redis_limiter_store.h"

#include <openssl/sha.h>
#include <spdlog/spdlog.h>

#include <array>
#include <bit>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>

#include "limits/gcra.h"
#include "limits/redis_limiter_scripts.h"

namespace sluice::limits {
namespace asio = boost::asio;
using redis::RedisArg;
using redis::RedisClient;
using redis::RedisReply;
using redis::RedisReplyKind;

struct RedisLimiterStore::PerThread {
  std::shared_ptr<RedisClient> client;
  const void* context = nullptr;   // the io_context the client lives on
  uint64_t scripts_loaded_on = 0;  // the connection_id that got SCRIPT LOAD
  std::chrono::steady_clock::time_point created = std::chrono::steady_clock::now();
};

namespace {

std::atomic<uint64_t> g_next_serial{1};

// This thread's clients, one per (store, io_context). A lookup is a scan of a few entries;
// entries of destroyed stores never match again (serials are not reused).
struct ThreadSlot {
  uint64_t serial;
  const void* context;
  RedisLimiterStore::PerThread* slot;
};
thread_local std::vector<ThreadSlot> t_slots;

std::string Sha1Hex(std::string_view text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : digest) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  return hex;
}

int64_t KindCode(CounterKind kind) {
  switch (kind) {
    case CounterKind::kRate:
      return 0;
    case CounterKind::kConcurrency:
      return 1;
    case CounterKind::kBudget:
      return 2;
  }
  return 0;
}

int64_t CeilDiv(int64_t x, int64_t n) { return x <= 0 ? x : (x + n - 1) / n; }

// The numbers of a call as the scripts take them (redis_limiter_scripts.h): little-endian
// doubles in one argument, with their struct.unpack format.
static_assert(std::endian::native == std::endian::little, "the scripts unpack little-endian");
constexpr size_t kMaxNumbers = 3 + 6 * kMaxChecks;
using NumberBlock = std::array<char, 8 * kMaxNumbers>;
constexpr std::array<char, 1 + kMaxNumbers> kUnpackFormat = [] {
  std::array<char, 1 + kMaxNumbers> format{};
  format[0] = '<';
  for (size_t i = 1; i < format.size(); ++i) format[i] = 'd';
  return format;
}();

// The arguments of both scripts, borrowed from `checks` and `numbers`. Both arrays live in
// the caller's frame: encoding copies them into the write buffer, so a decision allocates
// nothing here.
constexpr size_t kMaxArgs = 5 + kMaxChecks;
size_t BuildArgs(std::array<RedisArg, kMaxArgs>& args, NumberBlock& numbers, const std::string& sha,
                 std::span<const Check> checks, int64_t now_us, const RedisLimiterStoreOptions& o) {
  size_t count = 0;
  auto put = [&](int64_t value) {
    const double d = static_cast<double>(value);
    std::memcpy(numbers.data() + 8 * count++, &d, 8);
  };
  put(now_us);
  put(o.concurrency_lease.count());
  put(o.budget_slack.count());
  for (const Check& c : checks) {
    put(KindCode(c.kind));
    put(c.limit);
    put(c.period_us);
    put(c.burst);
    put(c.window_end_us);
    put(c.amount);
  }
  size_t n = 0;
  args[n++] = "EVALSHA";
  args[n++] = sha;
  args[n++] = static_cast<int64_t>(checks.size());
  for (const Check& c : checks) args[n++] = c.key.view();
  args[n++] = std::string_view(kUnpackFormat.data(), 1 + count);
  args[n++] = std::string_view(numbers.data(), 8 * count);
  return n;
}

// {allowed, denied, retry_after_us, (remaining, reset_us) per check} -> Decision.
bool ParseDecision(const RedisReply& reply, std::span<const Check> checks, Decision& d) {
  if (reply.kind != RedisReplyKind::kArray || reply.elements.size() != 3 + 2 * checks.size()) {
    return false;
  }
  for (const RedisReply& e : reply.elements) {
    if (e.kind != RedisReplyKind::kInteger) return false;
  }
  const auto& e = reply.elements;
  d.allowed = e[0].integer == 1;
  d.denied = d.allowed ? -1 : static_cast<int>(e[1].integer);
  d.retry_after_us = e[2].integer < 0 ? kNeverUs : e[2].integer;
  d.count = checks.size();
  for (size_t i = 0; i < checks.size(); ++i) {
    d.counters[i].limit = checks[i].limit;
    d.counters[i].remaining = std::max<int64_t>(0, e[3 + 2 * i].integer);
    d.counters[i].reset_us = std::max<int64_t>(0, e[4 + 2 * i].integer);
  }
  return true;
}

// A check as the in-process store decides it while Redis is away: this instance's share.
Check LocalShare(const Check& c, int instances) {
  Check local = c;
  local.limit = CeilDiv(c.limit, instances);
  local.burst = CeilDiv(c.burst, instances);
  return local;
}

}  // namespace

RedisLimiterStore::RedisLimiterStore(RedisLimiterStoreOptions options, LimiterStore& fallback)
    : serial_(g_next_serial.fetch_add(1)),
      options_(std::move(options)),
      fallback_(fallback),
      decide_sha_(Sha1Hex(DecideScript())),
      adjust_sha_(Sha1Hex(AdjustScript())) {
  if (options_.instances < 1) options_.instances = 1;
}

void RedisLimiterStore::CloseConnections() {
  std::lock_guard lock(mutex_);
  // No thread runs these io_contexts any more, so closing from here cannot race; pending
  // handlers die with their io_context.
  for (auto& t : threads_) t->client->Close();
  threads_.clear();
}

RedisLimiterStore::~RedisLimiterStore() {
  std::lock_guard lock(mutex_);
  for (auto& t : threads_) {
    asio::post(t->client->executor(), [client = t->client] { client->Close(); });
  }
}

FallbackCounts RedisLimiterStore::fallback_decisions() const {
  FallbackCounts c;
  c.local_fallback = local_fallback_.load(std::memory_order_relaxed);
  c.fail_open = fail_open_.load(std::memory_order_relaxed);
  c.fail_closed = fail_closed_.load(std::memory_order_relaxed);
  return c;
}

RedisLimiterStore::PerThread& RedisLimiterStore::ForExecutor(
    const RedisClient::Executor& executor) {
  const void* context = &asio::query(executor, asio::execution::context);
  for (const ThreadSlot& s : t_slots) {
    if (s.serial == serial_ && s.context == context) return *s.slot;
  }
  auto slot = std::make_unique<PerThread>();
  slot->context = context;
  slot->client = RedisClient::Create(executor, options_.redis);
  slot->client->Start();
  PerThread* raw = slot.get();
  {
    std::lock_guard lock(mutex_);
    threads_.push_back(std::move(slot));
  }
  t_slots.push_back(ThreadSlot{serial_, context, raw});
  return *raw;
}

RedisLimiterStore::PerThread* RedisLimiterStore::ForThisThread() {
  for (const ThreadSlot& s : t_slots) {
    if (s.serial == serial_) return s.slot;
  }
  return nullptr;
}

// Pipelined ahead of the EVALSHA that needs them (FIFO on one connection): no round trip.
void RedisLimiterStore::LoadScripts(PerThread& slot) {
  std::array<RedisArg, 3> decide{"SCRIPT", "LOAD", DecideScript()};
  std::array<RedisArg, 3> adjust{"SCRIPT", "LOAD", AdjustScript()};
  if (slot.client->Send(decide) && slot.client->Send(adjust)) {
    slot.scripts_loaded_on = slot.client->connection_id();
  }
}

asio::awaitable<Decision> RedisLimiterStore::Acquire(std::span<const Check> checks,
                                                     int64_t now_us) {
  if (checks.size() > kMaxChecks) {  // as LocalLimiterStore: refused, never passes
    Decision d;
    d.denied = static_cast<int>(kMaxChecks);
    d.retry_after_us = kNeverUs;
    co_return d;
  }
  auto executor = co_await asio::this_coro::executor;
  PerThread& slot = ForExecutor(executor);
  RedisClient& client = *slot.client;
  if (!client.connected() && client.connects() == 0 &&
      std::chrono::steady_clock::now() - slot.created < options_.redis.connect_timeout) {
    // This thread's connection is still being made (its first decisions): wait for it up to
    // the decision timeout instead of falling back. Polled (1 ms) because it happens once
    // per thread; an instance that cannot reach Redis at all stops waiting after
    // connect_timeout.
    asio::steady_timer timer(executor);
    auto give_up = std::chrono::steady_clock::now() + options_.timeout;
    while (!client.connected() && std::chrono::steady_clock::now() < give_up) {
      timer.expires_after(std::chrono::milliseconds(1));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  if (client.connected()) {
    if (slot.scripts_loaded_on != client.connection_id()) LoadScripts(slot);
    std::array<RedisArg, kMaxArgs> args;
    NumberBlock numbers;
    size_t n = BuildArgs(args, numbers, decide_sha_, checks, now_us, options_);
    std::span<const RedisArg> command(args.data(), n);
    RedisReply reply = co_await client.Command(command, options_.timeout);
    if (reply.IsErrorCode("NOSCRIPT")) {  // flushed (or a failover): load and retry once
      LoadScripts(slot);
      reply = co_await client.Command(command, options_.timeout);
    }
    Decision d;
    if (ParseDecision(reply, checks, d)) co_return d;
    if (reply.is_error() && !logged_error_.exchange(true, std::memory_order_relaxed)) {
      // E.g. CROSSSLOT on Redis Cluster, OOM, WRONGTYPE: logged once, decided by policy.
      spdlog::warn("redis limiter: the decide script failed ({}); failure policies apply",
                   reply.str);
    }
  }
  Decision d = co_await Fallback(checks, now_us);
  co_return d;
}

asio::awaitable<Decision> RedisLimiterStore::Fallback(std::span<const Check> checks,
                                                      int64_t now_us) {
  // Decisions reach the fallback out of arrival order (each waited for its own timeout,
  // or a dropped connection failed several at once), and GCRA refuses a free slot when an
  // earlier time follows a later one: the fallback's clock never goes backwards.
  int64_t latest = fallback_clock_us_.load(std::memory_order_relaxed);
  while (latest < now_us &&
         !fallback_clock_us_.compare_exchange_weak(latest, now_us, std::memory_order_relaxed)) {
  }
  now_us = std::max(now_us, latest);
  Decision d;
  d.count = checks.size();
  for (size_t i = 0; i < checks.size(); ++i) {
    if (checks[i].on_store_failure != OnStoreFailure::kFailClosed) continue;
    d.allowed = false;
    d.denied = static_cast<int>(i);
    d.retry_after_us = options_.fail_closed_retry_after.count() * 1000;
    for (size_t j = 0; j < checks.size(); ++j) d.counters[j].limit = checks[j].limit;
    d.fallback = "fail_closed";
    fail_closed_.fetch_add(1, std::memory_order_relaxed);
    co_return d;
  }
  // Local share of the kLocalFallback checks (copies: this path runs only while Redis is
  // away); kFailOpen checks are admitted without counting and report a full counter.
  std::array<Check, kMaxChecks> local;
  std::array<size_t, kMaxChecks> origin{};
  size_t n = 0;
  for (size_t i = 0; i < checks.size(); ++i) {
    d.counters[i] = CounterState{checks[i].limit, checks[i].limit, 0};
    if (checks[i].on_store_failure != OnStoreFailure::kLocalFallback) continue;
    local[n] = LocalShare(checks[i], options_.instances);
    origin[n++] = i;
  }
  d.allowed = true;
  if (n == 0) {
    d.fallback = "fail_open";
    fail_open_.fetch_add(1, std::memory_order_relaxed);
    co_return d;
  }
  std::span<const Check> subset(local.data(), n);
  Decision ld;
  std::optional<Decision> immediate = fallback_.AcquireNow(subset, now_us);
  if (immediate) {
    ld = *immediate;
  } else {
    ld = co_await fallback_.Acquire(subset, now_us);
  }
  for (size_t j = 0; j < n && j < ld.count; ++j) d.counters[origin[j]] = ld.counters[j];
  if (!ld.allowed) {
    d.allowed = false;
    d.denied = ld.denied >= 0 && static_cast<size_t>(ld.denied) < n
                   ? static_cast<int>(origin[static_cast<size_t>(ld.denied)])
                   : 0;
    d.retry_after_us = ld.retry_after_us;
  }
  d.fallback = "local_fallback";
  local_fallback_.fetch_add(1, std::memory_order_relaxed);
  co_return d;
}

void RedisLimiterStore::Adjust(std::span<const Check> deltas, int64_t now_us) {
  if (deltas.empty()) return;
  PerThread* slot = ForThisThread();
  if (slot != nullptr && slot->client->connected() && deltas.size() <= kMaxChecks) {
    if (slot->scripts_loaded_on != slot->client->connection_id()) LoadScripts(*slot);
    std::array<RedisArg, kMaxArgs> args;
    NumberBlock numbers;
    size_t n = BuildArgs(args, numbers, adjust_sha_, deltas, now_us, options_);
    if (slot->client->Send(std::span<const RedisArg>(args.data(), n))) return;
  }
  AdjustLocally(deltas, now_us);
}

void RedisLimiterStore::AdjustLocally(std::span<const Check> deltas, int64_t now_us) {
  local_adjusts_.fetch_add(1, std::memory_order_relaxed);
  std::array<Check, kMaxChecks> local;
  size_t n = 0;
  for (const Check& c : deltas) {
    if (c.on_store_failure != OnStoreFailure::kLocalFallback || n == kMaxChecks) continue;
    local[n++] = LocalShare(c, options_.instances);
  }
  if (n > 0) fallback_.Adjust(std::span<const Check>(local.data(), n), now_us);
}

}  // namespace sluice::limits
