// Integration: load steering through the real server. A model group of three in-process
// upstreams, one of which answers 200 ms late: after a warm-up in which the balancer has
// measured all three, P2C-EWMA sends the slow one less than 10% of a bounded concurrent
// load, while round robin over the same setup keeps sending it a third (which shows that
// the share is decided by the balancer, and that the test can fail).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

constexpr std::string_view kChatBody =
    R"({"model":"m","messages":[{"role":"user","content":"hello"}]})";
constexpr milliseconds kSlowDelay{200};
constexpr int kClients = 8;             // concurrent clients, one keep-alive connection each
constexpr int kRequestsPerClient = 25;  // 200 measured requests in all
constexpr int kMaxWarmupRequests = 50;

// Three upstreams (d0, d1 fast, d2 slow) and a gateway whose model "m" spreads them with
// `balancer`. Retries, breakers and ejection stay at their defaults: a slow answer is a
// success, so nothing is retried or ejected.
class SlowDeploymentGroup {
 public:
  explicit SlowDeploymentGroup(const std::string& balancer)
      : fast_a_(Fast()),
        fast_b_(Fast()),
        slow_([](FakeExchange& ex) -> asio::awaitable<void> {
          co_await ex.Sleep(kSlowDelay);
          co_await ex.RespondJson(200, ChatCompletionJson("slow", 3, 1));
        }),
        gateway_(Config(balancer)) {}

  uint16_t port() const { return gateway_.port(); }
  int total() const { return fast_a_.requests() + fast_b_.requests() + slow_.requests(); }
  int slow() const { return slow_.requests(); }
  bool AllAnswered() const {
    return fast_a_.requests() > 0 && fast_b_.requests() > 0 && slow_.requests() > 0;
  }

  // Sequential requests until every upstream has answered one, so the balancer has measured
  // all three (an unmeasured deployment with a request in flight looks worse than a slow
  // one), bounded. Returns false when one was never picked.
  bool WarmUp() {
    for (int i = 0; i < kMaxWarmupRequests && !AllAnswered(); ++i) {
      if (PostChat(port()) != 200) return false;
    }
    return AllAnswered();
  }

  // kClients threads each send kRequestsPerClient requests back to back on their own
  // connection; returns how many were answered 200.
  int RunConcurrentLoad() {
    std::atomic<int> ok{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&] {
        TestClient client(port());
        for (int i = 0; i < kRequestsPerClient; ++i) {
          client.Send(JsonRequest("/v1/chat/completions", kChatBody));
          auto response = client.ReadResponse();
          if (!response) return;  // counted as missing below
          if (response->status == 200) ++ok;
        }
      });
    }
    for (auto& t : clients) t.join();
    return ok.load();
  }

  static int PostChat(uint16_t port) {
    TestClient client(port);
    client.Send(JsonRequest("/v1/chat/completions", kChatBody));
    auto response = client.ReadResponse();
    return response ? response->status : 0;
  }

 private:
  static FakeUpstream::Handler Fast() {
    return [](FakeExchange& ex) -> asio::awaitable<void> {
      co_await ex.RespondJson(200, ChatCompletionJson("fast", 3, 1));
    };
  }

  std::string Config(const std::string& balancer) const {
    std::string yaml = "server:\n  listen: 127.0.0.1:0\n  workers: 1\nbackends:\n";
    const FakeUpstream* upstreams[] = {&fast_a_, &fast_b_, &slow_};
    for (size_t i = 0; i < 3; ++i) {
      yaml += "  - name: d" + std::to_string(i) + "\n    url: http://" + upstreams[i]->address() +
              "/v1\n";
    }
    yaml += "models:\n  - name: m\n    balancer: " + balancer + "\n    deployments:\n";
    for (size_t i = 0; i < 3; ++i) {
      yaml += "      - {backend: d" + std::to_string(i) + ", upstream_model: up-m}\n";
    }
    yaml += "filters:\n  - request_id: {}\n  - access_log:\n      output: {access_log}\n";
    return yaml;
  }

  FakeUpstream fast_a_;
  FakeUpstream fast_b_;
  FakeUpstream slow_;
  GatewayHarness gateway_;
};

struct Share {
  int slow = 0;
  int total = 0;
  double value() const { return total == 0 ? 1.0 : static_cast<double>(slow) / total; }
};

// Warms the group up, then measures the slow upstream's share of the concurrent load.
Share MeasureSlowShare(SlowDeploymentGroup& group) {
  EXPECT_TRUE(group.WarmUp()) << "a deployment was never picked during the warm-up";
  const int slow_before = group.slow();
  const int total_before = group.total();
  EXPECT_EQ(group.RunConcurrentLoad(), kClients * kRequestsPerClient)
      << "every request must be answered 200";
  Share share{group.slow() - slow_before, group.total() - total_before};
  EXPECT_EQ(share.total, kClients * kRequestsPerClient) << "one upstream attempt per request";
  return share;
}

TEST(RoutingBalance, P2cEwmaSteersAwayFromASlowDeployment) {
  SlowDeploymentGroup group("p2c_ewma");
  Share share = MeasureSlowShare(group);
  RecordProperty("slow_requests", share.slow);
  RecordProperty("measured_requests", share.total);
  EXPECT_LT(share.value(), 0.10) << share.slow << " of " << share.total
                                 << " requests went to the slow deployment";
}

TEST(RoutingBalance, RoundRobinKeepsSendingTheSlowDeploymentItsThird) {
  SlowDeploymentGroup group("round_robin");
  Share share = MeasureSlowShare(group);
  RecordProperty("slow_requests", share.slow);
  RecordProperty("measured_requests", share.total);
  EXPECT_GT(share.value(), 0.30) << share.slow << " of " << share.total;
  EXPECT_LT(share.value(), 0.37) << share.slow << " of " << share.total;
}

}  // namespace
}  // namespace sluice::testing
