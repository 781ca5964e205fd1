// Integration, with the real `sluice` binary: SIGTERM drains gracefully (stop accepting,
// finish the open stream, exit 0), the drain timeout bounds it, SIGHUP does not kill the
// process, `sluice config check` reports file:line errors with exit code 1.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <regex>

#include "tests/testing/child_process.h"
#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;

std::string GatewayConfig(const std::string& upstream, const std::string& drain_timeout) {
  // idle_release_after is short so idle connections are parked (no buffer) when drained.
  std::string yaml =
      BasicConfig("", "  drain_timeout: " + drain_timeout + "\n  idle_release_after: 10ms\n");
  for (auto [from, to] :
       {std::pair<std::string, std::string>{"{upstream}", upstream}, {"{access_log}", "stdout"}}) {
    yaml.replace(yaml.find(from), from.size(), to);
  }
  return yaml;
}

// Starts sluice and returns the port it reports in its start-up line.
uint16_t StartAndGetPort(ChildProcess& sluice) {
  auto line = sluice.WaitForLine("listening on http://", seconds(20));
  EXPECT_TRUE(line) << sluice.output();
  if (!line) return 0;
  std::smatch match;
  EXPECT_TRUE(std::regex_search(*line, match, std::regex(R"(127\.0\.0\.1:(\d+))")));
  return static_cast<uint16_t>(std::stoi(match[1]));
}

asio::awaitable<void> SlowStream(FakeExchange& ex) {
  co_await ex.StartSse();
  for (int i = 0; i < 10; ++i) {
    co_await ex.SendEvent(ChatChunkEvent("t"));
    co_await ex.Sleep(milliseconds(60));
  }
  co_await ex.SendEvent(kDoneEvent);
  co_await ex.EndChunked();
}

TEST(Drain, SigtermFinishesTheOpenStreamStopsAcceptingAndExitsZero) {
  FakeUpstream upstream(SlowStream);
  std::string config = WriteTempFile("drain.yaml", GatewayConfig(upstream.address(), "10s"));
  ChildProcess sluice({SLUICE_BINARY, "serve", "--config", config});
  uint16_t port = StartAndGetPort(sluice);
  ASSERT_NE(port, 0);

  TestClient idle(port);  // an idle keep-alive connection: closed at once by the drain
  idle.Send(GetRequest("/health/live"));
  ASSERT_TRUE(idle.ReadResponse());

  TestClient client(port);
  client.Send(JsonRequest("/v1/chat/completions", R"({"model":"m","stream":true,"messages":[]})"));
  ASSERT_TRUE(client.ReadHead());
  ASSERT_TRUE(client.ReadSseEvent());
  sluice.Signal(SIGTERM);
  ASSERT_TRUE(sluice.WaitForLine("draining", seconds(5)));
  EXPECT_TRUE(idle.WaitForClose(seconds(2))) << "idle connections are closed on drain";

  std::vector<std::string> rest;
  while (auto e = client.ReadSseEvent()) rest.push_back(SseData(*e));
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back(), "[DONE]") << "the in-flight stream was cut";
  EXPECT_TRUE(client.stream_finished());

  EXPECT_EQ(sluice.Wait(seconds(10)), 0) << sluice.output();
  EXPECT_THROW(TestClient late(port), std::runtime_error) << "still accepting after drain";
}

TEST(Drain, DrainTimeoutBoundsAStreamThatNeverEnds) {
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.StartSse();
    for (int i = 0; i < 1000; ++i) {
      if (!co_await ex.SendEvent(ChatChunkEvent("t"))) co_return;
      co_await ex.Sleep(milliseconds(20));
    }
  });
  std::string config = WriteTempFile("drain2.yaml", GatewayConfig(upstream.address(), "300ms"));
  ChildProcess sluice({SLUICE_BINARY, "serve", "--config", config});
  uint16_t port = StartAndGetPort(sluice);
  ASSERT_NE(port, 0);
  TestClient client(port);
  client.Send(JsonRequest("/v1/chat/completions", R"({"model":"m","stream":true,"messages":[]})"));
  ASSERT_TRUE(client.ReadHead());
  ASSERT_TRUE(client.ReadSseEvent());
  auto start = std::chrono::steady_clock::now();
  sluice.Signal(SIGTERM);
  EXPECT_EQ(sluice.Wait(seconds(10)), 0) << sluice.output();
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(4));
  EXPECT_NE(sluice.output().find("drain timeout reached"), std::string::npos);
}

TEST(Drain, SighupIsReservedAndDoesNotStopTheServer) {
  FakeUpstream upstream(SlowStream);
  std::string config = WriteTempFile("hup.yaml", GatewayConfig(upstream.address(), "1s"));
  ChildProcess sluice({SLUICE_BINARY, "serve", "--config", config});
  uint16_t port = StartAndGetPort(sluice);
  ASSERT_NE(port, 0);
  sluice.Signal(SIGHUP);
  ASSERT_TRUE(sluice.WaitForLine("SIGHUP", seconds(5)));
  TestClient client(port);
  client.Send(GetRequest("/health/ready"));
  auto r = client.ReadResponse();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  sluice.Signal(SIGINT);
  EXPECT_EQ(sluice.Wait(seconds(10)), 0);
}

TEST(Cli, ConfigCheckReportsEveryErrorWithFileAndLine) {
  std::string path = WriteTempFile("bad.yaml",
                                   "server:\n"
                                   "  listen: 127.0.0.1:8080\n"
                                   "  workerz: 2\n"
                                   "models:\n"
                                   "  - name: m\n"
                                   "    backend: missing\n");
  ChildProcess check({SLUICE_BINARY, "config", "check", path});
  EXPECT_EQ(check.Wait(seconds(10)), 1);
  EXPECT_NE(check.output().find(path + ":3: server: unknown key 'workerz'"), std::string::npos)
      << check.output();
  EXPECT_NE(check.output().find(path + ":6: models[0].backend: unknown backend 'missing'"),
            std::string::npos)
      << check.output();
}

TEST(Cli, ASecondGatewayOnTheSamePortIsRefused) {
  // Both would set SO_REUSEPORT, which alone would let them share the port silently.
  FakeUpstream upstream(SlowStream);
  ChildProcess first({SLUICE_BINARY, "serve", "--config",
                      WriteTempFile("first.yaml", GatewayConfig(upstream.address(), "1s"))});
  uint16_t port = StartAndGetPort(first);
  ASSERT_NE(port, 0);
  std::string yaml = GatewayConfig(upstream.address(), "1s");
  yaml.replace(yaml.find("127.0.0.1:0"), 11, "127.0.0.1:" + std::to_string(port));
  ChildProcess second({SLUICE_BINARY, "serve", "--config", WriteTempFile("second.yaml", yaml)});
  EXPECT_EQ(second.Wait(seconds(10)), 1);
  EXPECT_NE(second.output().find("cannot listen on"), std::string::npos) << second.output();
  first.Signal(SIGTERM);
  EXPECT_EQ(first.Wait(seconds(10)), 0);
}

TEST(Cli, ServeRefusesAnInvalidConfig) {
  std::string path = WriteTempFile("bad2.yaml", "server: [1, 2]\n");
  ChildProcess serve({SLUICE_BINARY, "serve", "--config", path});
  EXPECT_EQ(serve.Wait(seconds(10)), 1);
  EXPECT_NE(serve.output().find("not starting"), std::string::npos);
}

}  // namespace
}  // namespace sluice::testing
