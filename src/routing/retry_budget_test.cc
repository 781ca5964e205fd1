// Tests of the retry budget: the minimum of concurrent retries, the share of requests in
// flight, release, the bound under an outage where every request wants to retry, and the
// bound under concurrent callers.
#include "routing/retry_budget.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

namespace sluice::routing {
namespace {

TEST(RetryBudget, MinimumConcurrentRetries) {
  RetryBudget budget;  // 20%, at least 3
  RetryBudget::RequestScope request(budget);
  std::vector<RetryBudget::RetryPermit> permits;
  for (int i = 0; i < 3; ++i) {
    permits.push_back(budget.TryAcquireRetry());
    EXPECT_TRUE(permits.back());
  }
  EXPECT_FALSE(budget.TryAcquireRetry());
  EXPECT_EQ(budget.Refused(), 1u);
  permits.pop_back();  // one retry finished
  EXPECT_TRUE(budget.TryAcquireRetry());
}

TEST(RetryBudget, ShareOfRequestsInFlight) {
  RetryBudget budget({.ratio = 0.2, .min_concurrent = 3});
  std::vector<RetryBudget::RequestScope> requests;
  requests.reserve(100);
  for (int i = 0; i < 100; ++i) requests.emplace_back(budget);
  EXPECT_EQ(budget.Allowed(), 20);
  std::vector<RetryBudget::RetryPermit> permits;
  for (int i = 0; i < 20; ++i) permits.push_back(budget.TryAcquireRetry());
  for (const auto& p : permits) EXPECT_TRUE(p);
  EXPECT_FALSE(budget.TryAcquireRetry());
  EXPECT_EQ(budget.RetriesInFlight(), 20);
  permits.clear();
  requests.clear();
  EXPECT_EQ(budget.RetriesInFlight(), 0);
  EXPECT_EQ(budget.RequestsInFlight(), 0);
}

TEST(RetryBudget, OutageAmplificationIsBounded) {
  // 200 requests in flight, every upstream failing, each request retrying up to 3 times
  // while its retries are outstanding: attempts stay within 1 + ratio of the requests.
  RetryBudget budget({.ratio = 0.2, .min_concurrent = 3});
  std::vector<RetryBudget::RequestScope> requests;
  requests.reserve(200);
  for (int i = 0; i < 200; ++i) requests.emplace_back(budget);
  std::vector<RetryBudget::RetryPermit> outstanding;
  int attempts = 200;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 200; ++i) {
      if (auto permit = budget.TryAcquireRetry()) {
        ++attempts;
        outstanding.push_back(std::move(permit));
      }
    }
  }
  EXPECT_EQ(attempts, 240);
  EXPECT_LE(attempts, 200 * 1.2);
}

TEST(RetryBudget, ConcurrentCallersNeverExceedTheBudget) {
  RetryBudget budget({.ratio = 0.1, .min_concurrent = 2});
  std::vector<RetryBudget::RequestScope> requests;
  requests.reserve(50);
  for (int i = 0; i < 50; ++i) requests.emplace_back(budget);  // allowed: 5
  std::atomic<int64_t> inside{0}, peak{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20'000; ++i) {
        auto permit = budget.TryAcquireRetry();
        if (!permit) continue;
        const int64_t now = inside.fetch_add(1) + 1;
        int64_t seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        inside.fetch_sub(1);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_LE(peak.load(), 5);
  EXPECT_EQ(budget.RetriesInFlight(), 0);
}

}  // namespace
}  // namespace sluice::routing
