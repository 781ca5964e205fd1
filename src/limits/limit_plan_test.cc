// Tests of LimitPlan::Build and the per-request containers it fills: the counter names are
// the documented format (docs/limits.md, they are Redis keys), budget windows follow the
// clock across a day boundary (through the per-thread window cache), a warmed-up thread
// builds a request's checks without allocating, and the inline containers (InlineVector,
// CounterName) behave like the std::vector / std::string they replace.
#include "limits/limit_plan.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>

#include "core/principal.h"
#include "limits/calendar_window.h"

// Counts every allocation of this test binary, so a test can assert that a piece of code
// allocates nothing. Forwards to malloc/free; harmless to the other tests. Not inlined, so
// tools that intercept these symbols (valgrind) see matching new/delete pairs.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

__attribute__((noinline)) void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
__attribute__((noinline)) void* operator new[](size_t size) { return operator new(size); }
__attribute__((noinline)) void operator delete(void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void* p) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete(void* p, size_t) noexcept { std::free(p); }
__attribute__((noinline)) void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace sluice::limits {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kDayUs = 86'400 * kSecond;
constexpr int64_t kNow = 1'795'696'496 * kSecond;           // 2026-11-26T12:34:56Z
constexpr int64_t kNextMidnight = 1'795'737'600 * kSecond;  // 2026-11-27T00:00:00Z

// config/sluice.yaml's per-key policy: requests with a burst, tokens, concurrency and a
// daily money budget.
LimitsConfig PerKeyConfig() {
  LimitsConfig config;
  config.configured = true;
  LimitPolicyConfig& p = config.policies.emplace_back();
  p.name = "per-key";
  p.per = {LimitSubject::kKey};
  p.requests = {600, std::chrono::minutes(1), 100};
  p.tokens = {2'000'000, std::chrono::minutes(1), 0};
  p.concurrency = 64;
  p.budgets = {BudgetSpec{true, 50'000'000, BudgetPeriod::kDay}};
  return config;
}

class LimitPlanTest : public ::testing::Test {
 protected:
  LimitPlanTest() : config_(PerKeyConfig()), plan_(config_, *zone_) {
    auto key = std::make_shared<Principal>();
    key->kind = Principal::Kind::kApiKey;
    key->key_id = "key_ab12";
    key->id = "key:key_ab12";
    ctx_.principal = std::move(key);
  }

  std::shared_ptr<const TimeZone> zone_ = TimeZone::Fixed("UTC", 0);
  LimitsConfig config_;
  LimitPlan plan_;
  RequestContext ctx_;
  RequestEstimate estimate_{.prompt_tokens = 250, .completion_tokens = 256, .cost_micro_usd = 191};
};

TEST_F(LimitPlanTest, NamesCountersInTheDocumentedFormat) {
  PlannedChecks out;
  plan_.Build(ctx_, estimate_, kNow, out);
  ASSERT_EQ(out.checks.size(), 4u);
  ASSERT_EQ(out.meta.size(), 4u);
  EXPECT_EQ(out.checks[0].key, "sl:{key=key_ab12}:per-key:req");
  EXPECT_EQ(out.checks[1].key, "sl:{key=key_ab12}:per-key:tok");
  EXPECT_EQ(out.checks[2].key, "sl:{key=key_ab12}:per-key:conc");
  EXPECT_EQ(out.checks[3].key, "sl:{key=key_ab12}:per-key:usd:2026-11-26");

  EXPECT_EQ(out.checks[0].kind, CounterKind::kRate);
  EXPECT_EQ(out.checks[0].limit, 600);
  EXPECT_EQ(out.checks[0].burst, 100);
  EXPECT_EQ(out.checks[0].period_us, 60 * kSecond);
  EXPECT_EQ(out.checks[0].amount, 1);
  EXPECT_EQ(out.checks[1].burst, 2'000'000) << "burst 0 means the limit";
  EXPECT_EQ(out.checks[1].amount, 250 + 256);
  EXPECT_EQ(out.checks[2].kind, CounterKind::kConcurrency);
  EXPECT_EQ(out.checks[2].amount, 1);
  EXPECT_EQ(out.checks[3].kind, CounterKind::kBudget);
  EXPECT_EQ(out.checks[3].limit, 50'000'000);
  EXPECT_EQ(out.checks[3].window_end_us, kNextMidnight);
  EXPECT_EQ(out.checks[3].amount, 191);
  EXPECT_EQ(out.checks[3].on_store_failure, OnStoreFailure::kFailClosed);
  EXPECT_EQ(out.meta[1].role, CheckRole::kTokens);
  EXPECT_EQ(out.meta[3].role, CheckRole::kBudgetMoney);
}

TEST_F(LimitPlanTest, BudgetWindowFollowsTheClockAcrossMidnight) {
  PlannedChecks today, same_day, tomorrow;
  plan_.Build(ctx_, estimate_, kNow, today);
  plan_.Build(ctx_, estimate_, kNextMidnight - 1, same_day);  // served from the cache
  plan_.Build(ctx_, estimate_, kNextMidnight, tomorrow);      // the cached window has ended
  EXPECT_EQ(same_day.checks[3].key, "sl:{key=key_ab12}:per-key:usd:2026-11-26");
  EXPECT_EQ(same_day.checks[3].window_end_us, kNextMidnight);
  EXPECT_EQ(tomorrow.checks[3].key, "sl:{key=key_ab12}:per-key:usd:2026-11-27");
  EXPECT_EQ(tomorrow.checks[3].window_end_us, kNextMidnight + kDayUs);
}

TEST_F(LimitPlanTest, APlanInAnotherZoneGetsItsOwnWindow) {
  PlannedChecks utc, tokyo;
  plan_.Build(ctx_, estimate_, kNow, utc);  // caches the UTC day on this thread
  auto plus9 = TimeZone::Fixed("+09:00", 9 * 3600);
  LimitPlan tokyo_plan(config_, *plus9);
  tokyo_plan.Build(ctx_, estimate_, kNow, tokyo);  // 21:34 on the same day in Tokyo
  tokyo_plan.Build(ctx_, estimate_, kNow + 3 * 3600 * kSecond, tokyo);  // 00:34 next day
  EXPECT_EQ(utc.checks[3].key, "sl:{key=key_ab12}:per-key:usd:2026-11-26");
  ASSERT_EQ(tokyo.checks.size(), 8u);
  EXPECT_EQ(tokyo.checks[3].key, "sl:{key=key_ab12}:per-key:usd:2026-11-26");
  EXPECT_EQ(tokyo.checks[7].key, "sl:{key=key_ab12}:per-key:usd:2026-11-27");
}

TEST_F(LimitPlanTest, AWarmThreadBuildsWithoutAllocating) {
  {
    PlannedChecks warm_up;  // grows this thread's scratch strings, fills the window cache
    plan_.Build(ctx_, estimate_, kNow, warm_up);
  }
  const long before = g_allocations.load();
  {
    PlannedChecks out;
    plan_.Build(ctx_, estimate_, kNow + kSecond, out);
    EXPECT_EQ(out.checks.size(), 4u);
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
}

TEST_F(LimitPlanTest, NoSubjectNoChecks) {
  ctx_.principal = nullptr;  // a policy per key does not apply to an anonymous request
  PlannedChecks out;
  plan_.Build(ctx_, estimate_, kNow, out);
  EXPECT_TRUE(out.checks.empty());
  EXPECT_TRUE(out.meta.empty());
}

TEST(InlineVectorTest, BehavesLikeAVectorUpToItsCapacity) {
  InlineVector<Check, 3> v;
  EXPECT_TRUE(v.empty());
  v.emplace_back().key = "a";
  v.push_back(Check{});
  v.back().key = "b";
  Check c;
  c.key = "c";
  c.limit = 7;
  v.push_back(c);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_TRUE(v.full());
  EXPECT_EQ(v[2].limit, 7);
  v.emplace_back().key = "dropped";  // full: handed a spare, not added
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[2].key, "c");
  std::string keys;
  for (const Check& check : v) keys += check.key.view();
  EXPECT_EQ(keys, "abc");
  v.resize(1);
  EXPECT_EQ(v.size(), 1u);
  Check& fresh = v.emplace_back();
  EXPECT_TRUE(fresh.key.empty()) << "a removed element comes back default";
  EXPECT_EQ(fresh.limit, 0);
  InlineVector<Check, 3> copy = v;
  v.clear();
  ASSERT_EQ(copy.size(), 2u);
  EXPECT_EQ(copy[0].key, "a");
  std::span<const Check> view = copy;  // as the stores take it
  EXPECT_EQ(view.size(), 2u);
}

TEST(CounterNameTest, KeepsShortNamesInlineAndLongOnesOnTheHeap) {
  CounterName name;
  name.append("sl:{key=key_ab12}:").append("per-key").push_back(':');
  name.append("req");
  EXPECT_EQ(name, "sl:{key=key_ab12}:per-key:req");
  const std::string long_part(300, 'x');
  name.append(long_part);  // past the inline buffer
  EXPECT_EQ(name.size(), 29u + 300u);
  EXPECT_EQ(name.view().substr(0, 29), "sl:{key=key_ab12}:per-key:req");
  name.append(name.view().substr(0, 3));  // aliasing its own (heap) buffer
  EXPECT_EQ(name.view().substr(name.size() - 3), "sl:");

  CounterName small(std::string_view("abc"));
  small.append(small.view());  // aliasing its own (inline) buffer
  EXPECT_EQ(small, "abcabc");
  const std::string big(CounterName::kInline + 1, 'y');
  small.append(big);  // grows while `big` is elsewhere
  EXPECT_EQ(small.view(), "abcabc" + big);

  CounterName copied = name;
  CounterName moved = std::move(name);
  EXPECT_EQ(copied, moved);
  EXPECT_TRUE(name.empty());  // NOLINT(bugprone-use-after-move): moved-from is empty
  CounterName assigned;
  assigned = std::string("from a std::string");
  EXPECT_EQ(assigned, std::string_view("from a std::string"));
  assigned = std::move(copied);
  EXPECT_EQ(assigned.size(), 332u);
  assigned.clear();
  EXPECT_TRUE(assigned.empty());
  std::string counter_key;
  counter_key = small.view();
  EXPECT_EQ(counter_key, "abcabc" + big);
}

}  // namespace
}  // namespace sluice::limits
