// Tests of deployments' own limits: the limiter's exact admission counts, refill, token
// reservations and their settlement; model groups that skip a deployment over its limits
// (charging only the one picked), report when every deployment is over them and how long
// until one has room, and keep the state across a rebuilt table unless the limits changed.
// Manual clock, seeded random, configs loaded from YAML.
#include "routing/deployment_limits.h"

#include <gtest/gtest.h>

#include <map>

#include "config/config_test_support.h"
#include "config/loader.h"
#include "routing/manual_clock.h"
#include "routing/routing_runtime.h"

namespace sluice::routing {
namespace {

using config_test::LoadOkWithoutFilters;
using std::chrono::milliseconds;
using std::chrono::seconds;

DeploymentLimiter Limiter(int64_t requests_per_minute, int64_t tokens_per_minute) {
  return DeploymentLimiter(DeploymentLimitsConfig{.requests_per_minute = requests_per_minute,
                                                  .tokens_per_minute = tokens_per_minute});
}

int TakeAll(DeploymentLimiter& limiter, int64_t tokens, SteadyTime now, int at_most = 1000) {
  int taken = 0;
  while (taken < at_most && limiter.TryTake(tokens, now)) ++taken;
  return taken;
}

TEST(DeploymentLimiter, WithoutLimitsEverythingPasses) {
  ManualClock clock;
  DeploymentLimiter limiter = Limiter(0, 0);
  EXPECT_FALSE(limiter.enabled());
  EXPECT_EQ(TakeAll(limiter, 1'000'000, clock.Now()), 1000);
  EXPECT_EQ(limiter.WaitFor(1'000'000, clock.Now()), Duration::zero());
  EXPECT_EQ(limiter.RemainingRequests(clock.Now()), -1);
}

TEST(DeploymentLimiter, AdmitsExactlyTheMinutesRequestsThenRefillsOneAtATime) {
  ManualClock clock;
  DeploymentLimiter limiter = Limiter(5, 0);
  ASSERT_TRUE(limiter.enabled());
  EXPECT_FALSE(limiter.limits_tokens());
  EXPECT_EQ(TakeAll(limiter, 0, clock.Now()), 5) << "an idle deployment takes a minute's worth";
  EXPECT_EQ(limiter.RemainingRequests(clock.Now()), 0);
  EXPECT_EQ(limiter.WaitFor(0, clock.Now()), seconds(12)) << "one request every 60s / 5";
  clock.Advance(seconds(12) - milliseconds(1));
  EXPECT_FALSE(limiter.TryTake(0, clock.Now()));
  EXPECT_EQ(limiter.WaitFor(0, clock.Now()), milliseconds(1));
  clock.Advance(milliseconds(1));
  EXPECT_EQ(TakeAll(limiter, 0, clock.Now()), 1);
  clock.Advance(seconds(36));
  EXPECT_EQ(TakeAll(limiter, 0, clock.Now()), 3);
  clock.Advance(seconds(600));
  EXPECT_EQ(TakeAll(limiter, 0, clock.Now()), 5) << "a long idle time saves no more than 5";
}

TEST(DeploymentLimiter, TokensPerMinuteAdmitsByTheEstimate) {
  ManualClock clock;
  DeploymentLimiter limiter = Limiter(0, 1000);  // one token every 60 ms
  ASSERT_TRUE(limiter.limits_tokens());
  EXPECT_TRUE(limiter.TryTake(400, clock.Now()));
  EXPECT_TRUE(limiter.TryTake(400, clock.Now()));
  EXPECT_FALSE(limiter.TryTake(400, clock.Now()));
  EXPECT_EQ(limiter.RemainingTokens(clock.Now()), 200);
  EXPECT_EQ(limiter.WaitFor(400, clock.Now()), seconds(12)) << "200 tokens short x 60 ms";
  EXPECT_TRUE(limiter.HasRoom(200, clock.Now()));
  EXPECT_TRUE(limiter.TryTake(200, clock.Now()));
  EXPECT_EQ(limiter.RemainingTokens(clock.Now()), 0);
  clock.Advance(seconds(6));
  EXPECT_EQ(limiter.RemainingTokens(clock.Now()), 100) << "refilled continuously";
}

TEST(DeploymentLimiter, ARequestLargerThanAMinutesTokensNeverHasRoom) {
  ManualClock clock;
  DeploymentLimiter limiter = Limiter(0, 1000);
  EXPECT_EQ(limiter.WaitFor(1001, clock.Now()), kNeverRoom);
  EXPECT_FALSE(limiter.TryTake(1001, clock.Now()));
  EXPECT_EQ(limiter.RemainingTokens(clock.Now()), 1000) << "a refused take charges nothing";
}

TEST(DeploymentLimiter, TakingIsAllOrNothingAcrossRequestsAndTokens) {
  ManualClock clock;
  DeploymentLimiter limiter = Limiter(5, 1000);
  EXPECT_TRUE(limiter.TryTake(1000, clock.Now()));
  EXPECT_FALSE(limiter.TryTake(1, clock.Now())) << "no token left";
  EXPECT_EQ(limiter.RemainingRequests(clock.Now()), 4) << "the refused take gave its slot back";
  limiter.Refund(1000, clock.Now());
  EXPECT_EQ(limiter.RemainingRequests(clock.Now()), 5);
  EXPECT_EQ(limiter.RemainingTokens(clock.Now()), 1000);
}

TEST(DeploymentLimiter, SettlingRefundsUnusedTokens) {
  ManualClock clock;
  DeploymentLimiter limiter = Limiter(0, 1000);
  ASSERT_TRUE(limiter.TryTake(1000, clock.Now()));  // prompt + max_tokens reserved
  limiter.SettleTokens(1000, 100, clock.Now());     // the upstream used 100
  EXPECT_EQ(limiter.RemainingTokens(clock.Now()), 900);
  EXPECT_TRUE(limiter.TryTake(900, clock.Now()));
  EXPECT_FALSE(limiter.TryTake(1, clock.Now()));
}

TEST(DeploymentLimiter, SettlingChargesExtraTokensAndLaterRequestsWaitOutTheDebt) {
  ManualClock clock;
  DeploymentLimiter limiter = Limiter(0, 1000);
  ASSERT_TRUE(limiter.TryTake(100, clock.Now()));
  limiter.SettleTokens(100, 1100, clock.Now());  // 100 tokens past the minute's allowance
  EXPECT_EQ(limiter.RemainingTokens(clock.Now()), 0);
  EXPECT_FALSE(limiter.TryTake(0, clock.Now())) << "in debt: not even an empty request";
  EXPECT_EQ(limiter.WaitFor(0, clock.Now()), seconds(6)) << "100 tokens x 60 ms";
  clock.Advance(seconds(6));
  EXPECT_TRUE(limiter.TryTake(0, clock.Now()));
}

// --- Model groups.

// Model "chat": a (2 requests/min), b (3 requests/min), round robin. Model "tok": c with
// 1000 tokens/min. Model "also": lists a too (same limits, so the same state).
std::string Config(const std::string& a_limits = "{requests_per_minute: 2}") {
  return "backends:\n"
         "  - {name: a, url: 'http://127.0.0.1:1'}\n"
         "  - {name: b, url: 'http://127.0.0.1:2'}\n"
         "  - {name: c, url: 'http://127.0.0.1:3'}\n"
         "routing:\n"
         "  circuit_breaker: {consecutive_failures: 1, open_duration: 5s}\n"
         "models:\n"
         "  - name: chat\n"
         "    balancer: round_robin\n"
         "    deployments:\n"
         "      - {backend: a, upstream_model: x, limits: " +
         a_limits +
         "}\n"
         "      - {backend: b, upstream_model: x, limits: {requests_per_minute: 3}}\n"
         "  - name: tok\n"
         "    deployments:\n"
         "      - {backend: c, upstream_model: y, limits: {tokens_per_minute: 1000}}\n"
         "  - name: also\n"
         "    deployments:\n"
         "      - {backend: a, upstream_model: x, limits: " +
         a_limits + "}\n";
}

class GroupLimitsTest : public testing::Test {
 protected:
  void SetUp() override {
    snapshot_ = LoadOkWithoutFilters(Config());
    ASSERT_NE(snapshot_, nullptr);
    std::string error;
    runtime_ = RoutingRuntime::Create(snapshot_, clock_, error);
    ASSERT_NE(runtime_, nullptr) << error;
    table_ = runtime_->current();  // keeps the groups below alive across rebuilds
    chat_ = runtime_->Group(*snapshot_->models[0]);
    tok_ = runtime_->Group(*snapshot_->models[1]);
    also_ = runtime_->Group(*snapshot_->models[2]);
    ASSERT_NE(chat_, nullptr);
    ASSERT_NE(tok_, nullptr);
    ASSERT_NE(also_, nullptr);
  }

  // Begins and ends `n` successful attempts on `group`; counts them per deployment.
  std::map<size_t, int> Serve(const ModelGroup& group, int n, int64_t tokens = 0) {
    std::map<size_t, int> counts;
    for (int i = 0; i < n; ++i) {
      std::optional<AttemptTicket> ticket = group.Begin({}, 0, random_, clock_.Now(), tokens);
      if (!ticket) continue;
      ++counts[ticket->index];
      group.End(*ticket, AttemptResult::kSuccess, clock_.Now(), milliseconds(10));
    }
    return counts;
  }

  ManualClock clock_;
  Xoshiro256 random_{7};
  std::shared_ptr<const Snapshot> snapshot_;
  std::unique_ptr<RoutingRuntime> runtime_;
  std::shared_ptr<const RoutingTable> table_;
  const ModelGroup* chat_ = nullptr;
  const ModelGroup* tok_ = nullptr;
  const ModelGroup* also_ = nullptr;
};

TEST_F(GroupLimitsTest, ADeploymentOverItsLimitsIsSkippedForTheOther) {
  std::map<size_t, int> counts = Serve(*chat_, 10);
  EXPECT_EQ(counts[0], 2) << "a: 2 per minute";
  EXPECT_EQ(counts[1], 3) << "b: 3 per minute";
  EXPECT_FALSE(chat_->limits_tokens());
}

TEST_F(GroupLimitsTest, OnlyThePickedDeploymentIsCharged) {
  ASSERT_EQ(Serve(*chat_, 2)[0], 1);  // round robin: a, b
  Serve(*chat_, 1);                   // a again: a is now full
  ASSERT_FALSE(chat_->state(0).limiter.HasRoom(0, clock_.Now()));
  const Duration a_wait = chat_->state(0).limiter.WaitFor(0, clock_.Now());
  // Round robin keeps choosing a first; it is skipped and b serves, charged once each.
  EXPECT_EQ(chat_->state(1).limiter.RemainingRequests(clock_.Now()), 2);
  EXPECT_EQ(Serve(*chat_, 2)[1], 2);
  EXPECT_EQ(chat_->state(1).limiter.RemainingRequests(clock_.Now()), 0);
  EXPECT_EQ(chat_->state(0).limiter.WaitFor(0, clock_.Now()), a_wait)
      << "the skipped deployment was not charged";
}

TEST_F(GroupLimitsTest, WhenEveryDeploymentIsOverItsLimitsBeginSaysSoAndWhenOneHasRoom) {
  Serve(*chat_, 5);
  OverLimits over;
  EXPECT_FALSE(chat_->Begin({}, 0, random_, clock_.Now(), 0, &over));
  EXPECT_TRUE(over.all);
  // a refills one request every 30 s, b one every 20 s: b is first.
  EXPECT_EQ(over.retry_after, seconds(20));
  clock_.Advance(seconds(5));
  over = {};
  EXPECT_FALSE(chat_->Begin({}, 0, random_, clock_.Now(), 0, &over));
  EXPECT_EQ(over.retry_after, seconds(15));
  clock_.Advance(seconds(15));
  std::optional<AttemptTicket> ticket = chat_->Begin({}, 0, random_, clock_.Now(), 0, &over);
  ASSERT_TRUE(ticket);
  EXPECT_EQ(ticket->index, 1u);
}

TEST_F(GroupLimitsTest, AnotherReasonForNoDeploymentIsNotOverLimits) {
  // b is tried already and a's breaker is open (one failure opens it): not a limits matter.
  std::optional<AttemptTicket> a = chat_->Begin({}, 0, random_, clock_.Now());
  ASSERT_TRUE(a);
  ASSERT_EQ(a->index, 0u);
  chat_->End(*a, AttemptResult::kServerError, clock_.Now(), milliseconds(1), 0);
  DeploymentMask tried;
  tried.Set(1);
  OverLimits over;
  EXPECT_FALSE(chat_->Begin(tried, 0, random_, clock_.Now(), 0, &over));
  EXPECT_FALSE(over.all);
  EXPECT_EQ(chat_->state(0).limiter.RemainingRequests(clock_.Now()), 1)
      << "a's server error kept its request slot";
}

TEST_F(GroupLimitsTest, AConnectFailureGivesTheRequestBack) {
  std::optional<AttemptTicket> ticket = also_->Begin({}, 0, random_, clock_.Now());
  ASSERT_TRUE(ticket);
  EXPECT_TRUE(ticket->limited);
  EXPECT_EQ(also_->state(0).limiter.RemainingRequests(clock_.Now()), 1);
  also_->End(*ticket, AttemptResult::kConnectFailure, clock_.Now(), milliseconds(1));
  EXPECT_EQ(also_->state(0).limiter.RemainingRequests(clock_.Now()), 2);
}

TEST_F(GroupLimitsTest, TokensAreReservedByTheEstimateAndSettledByTheUsage) {
  ASSERT_TRUE(tok_->limits_tokens());
  std::optional<AttemptTicket> ticket = tok_->Begin({}, 0, random_, clock_.Now(), 700);
  ASSERT_TRUE(ticket);
  EXPECT_EQ(ticket->reserved_tokens, 700);
  EXPECT_EQ(tok_->state(0).limiter.RemainingTokens(clock_.Now()), 300);
  OverLimits over;
  EXPECT_FALSE(tok_->Begin({}, 0, random_, clock_.Now(), 700, &over)) << "no room for 700";
  EXPECT_TRUE(over.all);
  EXPECT_EQ(over.retry_after, seconds(24)) << "400 tokens short x 60 ms";
  tok_->End(*ticket, AttemptResult::kSuccess, clock_.Now(), milliseconds(5), 150);
  EXPECT_EQ(tok_->state(0).limiter.RemainingTokens(clock_.Now()), 850);
  EXPECT_TRUE(tok_->Begin({}, 0, random_, clock_.Now(), 700));
}

TEST_F(GroupLimitsTest, UnknownUsageKeepsTheReservation) {
  std::optional<AttemptTicket> ticket = tok_->Begin({}, 0, random_, clock_.Now(), 600);
  ASSERT_TRUE(ticket);
  tok_->End(*ticket, AttemptResult::kServerError, clock_.Now(), milliseconds(5));
  EXPECT_EQ(tok_->state(0).limiter.RemainingTokens(clock_.Now()), 400);
}

TEST_F(GroupLimitsTest, ARequestTooLargeForEveryDeploymentNeverHasRoom) {
  OverLimits over;
  EXPECT_FALSE(tok_->Begin({}, 0, random_, clock_.Now(), 5000, &over));
  EXPECT_TRUE(over.all);
  EXPECT_EQ(over.retry_after, kNeverRoom);
}

TEST_F(GroupLimitsTest, GroupsListingADeploymentShareItsLimits) {
  EXPECT_EQ(&chat_->state(0), &also_->state(0));
  Serve(*also_, 2);
  EXPECT_EQ(Serve(*chat_, 3)[1], 3) << "a's two requests were spent through the other group";
  EXPECT_EQ(Serve(*chat_, 1).size(), 0u);
}

TEST_F(GroupLimitsTest, ARebuiltTableKeepsTheStateUnlessTheLimitsChanged) {
  Serve(*also_, 2);  // a is full
  std::string error;
  auto same = LoadOkWithoutFilters(Config());
  ASSERT_TRUE(runtime_->BuildTable(same, error)) << error;
  const ModelGroup* rebuilt = runtime_->Group(*same->models[2]);
  ASSERT_NE(rebuilt, nullptr);
  EXPECT_EQ(rebuilt->state(0).limiter.RemainingRequests(clock_.Now()), 0)
      << "unchanged limits keep their counters";

  auto changed = LoadOkWithoutFilters(Config("{requests_per_minute: 4}"));
  ASSERT_TRUE(runtime_->BuildTable(changed, error)) << error;
  const ModelGroup* fresh = runtime_->Group(*changed->models[2]);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(fresh->state(0).limiter.RemainingRequests(clock_.Now()), 4)
      << "a changed limit starts with new state";
  EXPECT_EQ(also_->state(0).limiter.RemainingRequests(clock_.Now()), 0)
      << "requests of the old table keep the old state";
}

}  // namespace
}  // namespace sluice::routing
