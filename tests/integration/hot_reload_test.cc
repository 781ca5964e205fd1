// Integration: hot reload of the configuration (Server::ReloadConfig, what SIGHUP, the file
// watch and POST /admin/config/reload call). New requests see the new file at once; a
// stream in flight finishes on the configuration it started with; an invalid file or a
// change to a restart-only section is refused with its errors and the running
// configuration stays; live routing state and upstream connections of unchanged
// deployments carry over; /admin/status reports the version.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <fstream>

#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

// Model `model` (aliases `aliases`) on backend `backend` of the two fake upstreams.
// Every file logs to the same access log (a reload opens it again).
const std::string access_log = "/tmp/sluice-reload-" + std::to_string(::getpid()) + ".log";

std::string Config(const FakeUpstream& a, const FakeUpstream& b, const std::string& model,
                   const std::string& backend, const std::string& aliases = "[]") {
  return "server:\n  listen: 127.0.0.1:0\n  workers: 2\n  watch_config: false\n"
         "backends:\n"
         "  - {name: a, url: 'http://" +
         a.address() +
         "/v1'}\n"
         "  - {name: b, url: 'http://" +
         b.address() +
         "/v1'}\n"
         "models:\n"
         "  - name: " +
         model + "\n    aliases: " + aliases + "\n    backend: " + backend +
         "\n    upstream_model: up\n"
         "filters:\n  - request_id: {}\n  - access_log:\n      output: " +
         access_log + "\n";
}

class ConfigFile {
 public:
  ConfigFile() : path_("/tmp/sluice-reload-" + std::to_string(::getpid()) + ".yaml") {}
  ~ConfigFile() { ::unlink(path_.c_str()); }
  const std::string& Write(const std::string& text) {
    std::ofstream(path_, std::ios::trunc) << text;
    return path_;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Answers with the name of the backend, so a test sees which configuration served it.
FakeUpstream::Handler Named(const char* name) {
  return [name](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.RespondJson(200, ChatCompletionJson(name, 3, 1));
  };
}

std::vector<json::object> ReadAccessLog() {
  std::vector<json::object> lines;
  std::ifstream in(access_log);
  std::string line;
  while (std::getline(in, line)) lines.push_back(json::parse(line).as_object());
  return lines;
}

int Ask(GatewayHarness& gateway, const std::string& model, std::string* body = nullptr) {
  TestClient client(gateway.port());
  client.Send(
      JsonRequest("/v1/chat/completions",
                  R"({"model":")" + model + R"(","messages":[{"role":"user","content":"x"}]})"));
  auto response = client.ReadResponse();
  if (!response) return 0;
  if (body != nullptr) *body = response->body;
  return response->status;
}

json::object Status(GatewayHarness& gateway) {
  return json::parse(gateway.server().StatusJson()).as_object();
}

class HotReload : public ::testing::Test {
 protected:
  void SetUp() override { ::unlink(access_log.c_str()); }
  void TearDown() override { ::unlink(access_log.c_str()); }
};

TEST_F(HotReload, NewRequestsUseTheReloadedFile) {
  FakeUpstream a(Named("from-a")), b(Named("from-b"));
  ConfigFile file;
  std::string first = Config(a, b, "m", "a");
  GatewayHarness gateway(first);
  gateway.server().EnableReload(file.Write(first));
  std::string body;
  ASSERT_EQ(Ask(gateway, "m", &body), 200);
  EXPECT_NE(body.find("from-a"), std::string::npos);

  file.Write(Config(a, b, "m", "b", "[fast]"));
  ReloadOutcome outcome = gateway.server().ReloadConfig("test");
  ASSERT_TRUE(outcome.ok) << (outcome.errors.empty() ? "" : outcome.errors[0]);
  EXPECT_EQ(outcome.version, 2u);
  EXPECT_EQ(outcome.content_id.rfind("sha256:", 0), 0u);
  EXPECT_NE(outcome.content_id, gateway.snapshot().content_id);
  // Every worker has the new generation once it handled the posted swap; two workers, so
  // ask a few times (each request lands on either).
  for (int i = 0; i < 6; ++i) {
    ASSERT_EQ(Ask(gateway, "fast", &body), 200) << body;
    EXPECT_NE(body.find("from-b"), std::string::npos);
  }
  json::object status = Status(gateway);
  EXPECT_EQ(status.at("config").at("version").as_int64(), 2);
  EXPECT_EQ(status.at("config").at("reloads").at("accepted").as_int64(), 1);
  EXPECT_EQ(status.at("config").at("reloads").at("last").at("trigger").as_string(), "test");
}

TEST_F(HotReload, AnInvalidFileIsRejectedWithItsErrorsAndTheOldConfigurationStays) {
  FakeUpstream a(Named("from-a")), b(Named("from-b"));
  ConfigFile file;
  std::string first = Config(a, b, "m", "a");
  GatewayHarness gateway(first);
  gateway.server().EnableReload(file.Write(first));
  file.Write(Config(a, b, "m", "nope"));  // names a backend that does not exist
  ReloadOutcome outcome = gateway.server().ReloadConfig("test");
  EXPECT_FALSE(outcome.ok);
  EXPECT_EQ(outcome.version, 1u);
  ASSERT_FALSE(outcome.errors.empty());
  EXPECT_NE(outcome.errors[0].find(file.path() + ":"), std::string::npos) << outcome.errors[0];
  EXPECT_NE(outcome.errors[0].find("nope"), std::string::npos) << outcome.errors[0];

  file.Write("models: [");  // not even YAML
  outcome = gateway.server().ReloadConfig("test");
  EXPECT_FALSE(outcome.ok);
  ASSERT_FALSE(outcome.errors.empty());

  std::string body;
  EXPECT_EQ(Ask(gateway, "m", &body), 200);
  EXPECT_NE(body.find("from-a"), std::string::npos);
  json::object status = Status(gateway);
  EXPECT_EQ(status.at("config").at("version").as_int64(), 1);
  EXPECT_EQ(status.at("config").at("reloads").at("rejected").as_int64(), 2);
  EXPECT_FALSE(status.at("config").at("reloads").at("last").at("ok").as_bool());
}

TEST_F(HotReload, ARestartOnlySectionChangeIsRejectedNamingTheSection) {
  FakeUpstream a(Named("from-a")), b(Named("from-b"));
  ConfigFile file;
  std::string first = Config(a, b, "m", "a");
  GatewayHarness gateway(first);
  gateway.server().EnableReload(file.Write(first));
  std::string changed = first;
  changed.replace(changed.find("workers: 2"), 10, "workers: 3");
  file.Write(changed);
  ReloadOutcome outcome = gateway.server().ReloadConfig("test");
  EXPECT_FALSE(outcome.ok);
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].find("section 'server'"), std::string::npos) << outcome.errors[0];
}

TEST_F(HotReload, WithoutAConfigFileReloadIsRefused) {
  FakeUpstream a(Named("from-a")), b(Named("from-b"));
  GatewayHarness gateway(Config(a, b, "m", "a"));
  gateway.server().EnableReload("");  // a server started from text, not a file
  ReloadOutcome outcome = gateway.server().ReloadConfig("test");
  EXPECT_FALSE(outcome.ok);
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].find("not enabled"), std::string::npos);
}

TEST_F(HotReload, AStreamInFlightFinishesOnItsConfigurationAndNewRequestsUseTheNewOne) {
  std::atomic<bool> release{false};
  auto slow_stream = [&](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.StartSse();
    co_await ex.SendEvent(ChatChunkEvent("first"));
    while (!release.load()) co_await ex.Sleep(std::chrono::milliseconds(2));
    co_await ex.SendEvent(ChatChunkEvent("second"));
    co_await ex.SendEvent(UsageChunkEvent(3, 2));
    co_await ex.SendEvent(kDoneEvent);
    co_await ex.EndChunked();
  };
  FakeUpstream a(slow_stream), b(Named("from-b"));
  ConfigFile file;
  std::string first = Config(a, b, "m", "a");
  GatewayHarness gateway(first);
  gateway.server().EnableReload(file.Write(first));

  TestClient stream(gateway.port());
  stream.Send(
      JsonRequest("/v1/chat/completions",
                  R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]})"));
  auto head = stream.ReadHead();
  ASSERT_TRUE(head);
  ASSERT_EQ(head->status, 200);
  auto event = stream.ReadSseEvent();
  ASSERT_TRUE(event);
  EXPECT_NE(event->find("first"), std::string::npos);

  // The new file drops model m (only "n" on backend b) while the stream is in flight.
  file.Write(Config(a, b, "n", "b"));
  ASSERT_TRUE(gateway.server().ReloadConfig("test").ok);
  std::string body;
  EXPECT_EQ(Ask(gateway, "m", &body), 404) << body;
  EXPECT_NE(body.find("model_not_found"), std::string::npos);
  EXPECT_EQ(Ask(gateway, "n", &body), 200);

  release = true;
  std::vector<std::string> rest;
  while (auto next = stream.ReadSseEvent()) rest.push_back(SseData(*next));
  // The usage chunk the gateway asked for is not relayed: the client did not ask for it.
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_NE(rest[0].find("second"), std::string::npos);
  EXPECT_EQ(rest[1], "[DONE]");
  EXPECT_TRUE(stream.stream_finished());
  // The stream's line comes from the first generation's access-log filter, after the two
  // lines of the new one.
  std::vector<json::object> log;
  ASSERT_TRUE(FakeUpstream::WaitUntil([&] {
    log = ReadAccessLog();
    return log.size() >= 3;
  }));
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[2].at("model").as_string(), "m");
  EXPECT_EQ(log[2].at("backend").as_string(), "a");
  EXPECT_EQ(log[2].at("completion_tokens").as_int64(), 2);
}

TEST_F(HotReload, UnchangedDeploymentsKeepTheirLiveStateAndConnections) {
  FakeUpstream a(Named("from-a")), b(Named("from-b"));
  ConfigFile file;
  std::string first = Config(a, b, "m", "a");
  GatewayHarness gateway(first);
  gateway.server().EnableReload(file.Write(first));
  TestClient client(gateway.port());  // one keep-alive connection: one worker, one pool
  auto ask = [&](const std::string& model) {
    client.Send(
        JsonRequest("/v1/chat/completions",
                    R"({"model":")" + model + R"(","messages":[{"role":"user","content":"x"}]})"));
    auto response = client.ReadResponse();
    return response ? response->status : 0;
  };
  for (int i = 0; i < 3; ++i) ASSERT_EQ(ask("m"), 200);
  EXPECT_EQ(a.connections(), 1);

  // Same deployment (backend a, model up) under a new alias: its state and pool carry over.
  file.Write(Config(a, b, "m", "a", "[other]"));
  ASSERT_TRUE(gateway.server().ReloadConfig("test").ok);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(ask("other"), 200);
  EXPECT_EQ(a.connections(), 1) << "the idle upstream connection was reused after the reload";
  // The attempt is booked just after its response went out: wait for the last one.
  json::object status;
  auto deployment = [&]() -> const json::object& {
    return status.at("models").as_array().at(0).at("deployments").as_array().at(0).as_object();
  };
  EXPECT_TRUE(FakeUpstream::WaitUntil([&] {
    status = Status(gateway);
    return deployment().at("recent_requests").as_int64() == 6;
  })) << "the statistics kept counting across the reload: "
      << json::serialize(status);
  EXPECT_EQ(deployment().at("key").as_string(), "a/up");
  EXPECT_EQ(deployment().at("breaker").as_string(), "closed");
}

}  // namespace
}  // namespace sluice::testing
