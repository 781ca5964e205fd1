// Integration: traffic splits through the real server with two fake upstreams (one per arm
// model). A 20% canary gets its share of 1,000 requests within ±5 points, counted at the
// upstreams; the experiment header forces an arm and an unknown arm is a 400; the arm is
// sent upstream and echoed to the client in x-sluice-experiment (JSON and SSE); the access
// log and the usage record name it; the default sticky assignment keeps a client in one
// arm; and access checks apply to the arm's model as well as the model asked for.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "auth/api_key.h"
#include "auth/audit_log.h"
#include "auth/auth_runtime.h"
#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;

constexpr std::string_view kChat = R"({"model":"chat","messages":[{"role":"user","content":"x"}]})";
constexpr std::string_view kStream =
    R"({"model":"chat","stream":true,"messages":[{"role":"user","content":"x"}]})";

asio::awaitable<void> Answer(FakeExchange& ex) {
  if (ex.request().body.find("\"stream\":true") != std::string::npos) {
    co_await ex.StartSse();
    co_await ex.SendEvent(ChatChunkEvent("a"));
    co_await ex.SendEvent(UsageChunkEvent(5, 1));
    co_await ex.SendEvent(kDoneEvent);
    co_await ex.EndChunked();
    co_return;
  }
  co_await ex.RespondJson(200, ChatCompletionJson("hi", 4, 2));
}

// A unique temporary directory, removed with the fixture.
std::string TempDir() {
  static int counter = 0;
  std::string dir =
      "/tmp/sluice-split-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  std::filesystem::create_directories(dir);
  return dir;
}

class RoutingSplitTest : public ::testing::Test {
 protected:
  ~RoutingSplitTest() override {
    gateway_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // "chat" splits between chat-v1 (arm control, backend stable) and chat-v2 (arm canary,
  // backend canary). `experiment` and `extra` (top-level sections) are appended.
  std::string Config(const std::string& experiment, const std::string& extra = "",
                     const std::string& filters = "  - request_id: {}\n") {
    return "server:\n  listen: 127.0.0.1:0\n  workers: 1\n"
           "backends:\n"
           "  - {name: stable, url: 'http://" +
           stable_.address() +
           "/v1'}\n"
           "  - {name: canary, url: 'http://" +
           canary_.address() +
           "/v1'}\n"
           "models:\n"
           "  - {name: chat-v1, backend: stable, upstream_model: up-v1}\n"
           "  - {name: chat-v2, backend: canary, upstream_model: up-v2}\n"
           "  - name: chat\n"
           "    split:\n"
           "      - {name: control, model: chat-v1, weight: 80}\n"
           "      - {name: canary, model: chat-v2, weight: 20}\n" +
           experiment + extra + "filters:\n" + filters +
           "  - access_log:\n      output: {access_log}\n";
  }

  void Start(const std::string& yaml) { gateway_ = std::make_unique<GatewayHarness>(yaml); }

  Response Chat(TestClient& client, std::string_view headers = "") {
    client.Send(JsonRequest("/v1/chat/completions", kChat, headers));
    std::optional<Response> response = client.ReadResponse();
    EXPECT_TRUE(response) << "no response";
    return response.value_or(Response{});
  }

  std::string dir_ = TempDir();
  FakeUpstream stable_{Answer};
  FakeUpstream canary_{Answer};
  std::unique_ptr<GatewayHarness> gateway_;
};

TEST_F(RoutingSplitTest, ATwentyPercentCanaryGetsItsShareOfAThousandRequests) {
  Start(Config("    experiment: {sticky: none}\n"));
  TestClient client(gateway_->port());
  constexpr int kRequests = 1'000;
  int ok = 0;
  for (int i = 0; i < kRequests; ++i) ok += Chat(client).status == 200;
  EXPECT_EQ(ok, kRequests);
  EXPECT_EQ(stable_.requests() + canary_.requests(), kRequests);
  double share = 100.0 * canary_.requests() / kRequests;
  EXPECT_NEAR(share, 20.0, 5.0) << canary_.requests() << " of " << kRequests << " at the canary";
  for (const FakeRequest& seen : canary_.requests_seen()) {
    ASSERT_EQ(seen.Header("x-sluice-experiment"), "chat=canary");
    ASSERT_EQ(json::parse(seen.body).at("model").as_string(), "up-v2");
  }
  for (const FakeRequest& seen : stable_.requests_seen()) {
    ASSERT_EQ(seen.Header("x-sluice-experiment"), "chat=control");
  }
}

TEST_F(RoutingSplitTest, TheHeaderForcesAnArmWhichIsPropagatedAndEchoed) {
  Start(Config("    experiment: {sticky: none}\n"));
  TestClient client(gateway_->port());
  for (int i = 0; i < 20; ++i) {
    Response r = Chat(client, "X-Experiment: canary\r\n");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("x-sluice-experiment"), "chat=canary");
  }
  EXPECT_EQ(canary_.requests(), 20);
  EXPECT_EQ(stable_.requests(), 0);
  EXPECT_EQ(canary_.requests_seen().back().Header("x-sluice-experiment"), "chat=canary");

  Response control = Chat(client, "X-Experiment: control\r\n");
  ASSERT_EQ(control.status, 200);
  EXPECT_EQ(control.Header("x-sluice-experiment"), "chat=control");
  EXPECT_EQ(stable_.requests(), 1);
}

TEST_F(RoutingSplitTest, AnUnknownArmIsA400NamingTheAllowedArms) {
  Start(Config(""));
  TestClient client(gateway_->port());
  Response r = Chat(client, "X-Experiment: purple\r\n");
  ASSERT_EQ(r.status, 400) << r.body;
  json::value body = json::parse(r.body);
  EXPECT_EQ(body.at("error").at("type").as_string(), "invalid_request_error");
  std::string message(body.at("error").at("message").as_string());
  EXPECT_NE(message.find("'purple'"), std::string::npos) << message;
  EXPECT_NE(message.find("control, canary"), std::string::npos) << message;
  EXPECT_EQ(r.Header("x-sluice-experiment"), "") << "no arm was chosen";
  EXPECT_EQ(stable_.requests() + canary_.requests(), 0);
}

TEST_F(RoutingSplitTest, AStreamEchoesItsArmInTheResponseHead) {
  Start(Config(""));
  TestClient client(gateway_->port());
  client.Send(JsonRequest("/v1/chat/completions", kStream, "X-Experiment: canary\r\n"));
  auto head = client.ReadHead();
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->Header("x-sluice-experiment"), "chat=canary");
  std::string last;
  while (auto event = client.ReadSseEvent()) last = *event;
  EXPECT_EQ(last, kDoneEvent);
  EXPECT_EQ(canary_.requests(), 1);
  EXPECT_EQ(canary_.requests_seen()[0].Header("x-sluice-experiment"), "chat=canary");
}

TEST_F(RoutingSplitTest, TheDefaultStickyAssignmentKeepsAClientInOneArm) {
  Start(Config(""));  // no principal: the client address is hashed
  TestClient client(gateway_->port());
  std::string first;
  for (int i = 0; i < 30; ++i) {
    Response r = Chat(client);
    ASSERT_EQ(r.status, 200);
    if (i == 0) first = r.Header("x-sluice-experiment");
    EXPECT_EQ(r.Header("x-sluice-experiment"), first);
  }
  EXPECT_TRUE(stable_.requests() == 30 || canary_.requests() == 30)
      << stable_.requests() << " / " << canary_.requests();
}

// The exported usage row of `request_id`: model_requested, experiment_arm, cost_micros.
struct UsageRow {
  std::string model, arm;
  int64_t cost_micros = -1;
};

std::optional<UsageRow> ExportedRow(const std::string& db, const std::string& request_id) {
  for (int attempt = 0; attempt < 150; ++attempt) {  // the exporter runs every 200 ms
    sqlite3* handle = nullptr;
    std::optional<UsageRow> row;
    if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_busy_timeout(handle, 1000);
      sqlite3_stmt* stmt = nullptr;
      const char* sql =
          "SELECT model_requested, experiment_arm, cost_micros FROM usage_records "
          "WHERE request_id = ?1";
      if (sqlite3_prepare_v2(handle, sql, -1, &stmt, nullptr) == SQLITE_OK) {
        sqlite3_bind_text(stmt, 1, request_id.c_str(), -1, SQLITE_TRANSIENT);
        if (sqlite3_step(stmt) == SQLITE_ROW) {
          row = UsageRow{reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
                         reinterpret_cast<const char*>(sqlite3_column_text(stmt, 1)),
                         sqlite3_column_int64(stmt, 2)};
        }
      }
      sqlite3_finalize(stmt);
    }
    sqlite3_close(handle);
    if (row) return row;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

TEST_F(RoutingSplitTest, TheAccessLogAndTheUsageRecordNameTheArm) {
  // Prices per 1M tokens: v1 costs nothing, v2 costs 1 USD in and 2 USD out, so the cost
  // shows whose price was charged (4 prompt + 2 completion tokens on v2: 8 micro-USD).
  std::string yaml = Config("", "store:\n  sqlite: " + dir_ + "/sluice.db\n");
  yaml.replace(yaml.find("upstream_model: up-v2}"), 22,
               "upstream_model: up-v2, price: {input: 1, output: 2}}");
  Start(yaml);
  TestClient client(gateway_->port());
  Response r = Chat(client, "X-Experiment: canary\r\nX-Request-Id: split-usage-1\r\n");
  ASSERT_EQ(r.status, 200) << r.body;

  auto log = gateway_->AccessLog();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].at("model").as_string(), "chat") << "the model asked for";
  EXPECT_EQ(log[0].at("experiment_arm").as_string(), "canary");
  EXPECT_EQ(log[0].at("backend").as_string(), "canary");
  EXPECT_EQ(log[0].at("upstream_model").as_string(), "up-v2");

  std::optional<UsageRow> row = ExportedRow(dir_ + "/sluice.db", "split-usage-1");
  ASSERT_TRUE(row) << "no usage row exported";
  EXPECT_EQ(row->model, "chat");
  EXPECT_EQ(row->arm, "canary");
  EXPECT_EQ(row->cost_micros, 8) << "the arm's price is charged";
}

// A key of `tier` in the gateway's store.
std::string CreateKey(AuthRuntime& auth, const std::string& tier) {
  NewApiKey generated = GenerateApiKey();
  ApiKeyRecord record;
  record.id = NewId("key");
  record.name = "split test key";
  record.hash = generated.hash;
  record.prefix = generated.prefix;
  record.tier = tier;
  record.created_at = NowSeconds();
  StoreResult<void> inserted =
      auth.store_pool().RunSync([&] { return auth.store().InsertKey(record); });
  EXPECT_TRUE(inserted.ok());
  return generated.secret;
}

TEST_F(RoutingSplitTest, AccessChecksApplyToTheArmsModelToo) {
  // Tier "control" may use chat and chat-v1 but not chat-v2; "all" may use everything.
  Start(Config("",
               "auth:\n  bootstrap: {admin_key: false}\n"
               "  tiers:\n    control: [chat, chat-v1]\n    all: [\"*\"]\n"
               "store:\n  sqlite: " +
                   dir_ + "/sluice.db\n",
               "  - request_id: {}\n  - auth: {}\n  - authorize: {}\n"));
  ASSERT_NE(gateway_->auth(), nullptr);
  std::string narrow = CreateKey(*gateway_->auth(), "control");
  std::string wide = CreateKey(*gateway_->auth(), "all");
  TestClient client(gateway_->port());

  Response denied =
      Chat(client, "Authorization: Bearer " + narrow + "\r\nX-Experiment: canary\r\n");
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_NE(denied.body.find("chat-v2"), std::string::npos) << denied.body;
  EXPECT_EQ(canary_.requests(), 0) << "a denied arm never reaches its upstream";

  Response allowed =
      Chat(client, "Authorization: Bearer " + narrow + "\r\nX-Experiment: control\r\n");
  EXPECT_EQ(allowed.status, 200) << allowed.body;
  Response wide_canary =
      Chat(client, "Authorization: Bearer " + wide + "\r\nX-Experiment: canary\r\n");
  EXPECT_EQ(wide_canary.status, 200) << wide_canary.body;
  EXPECT_EQ(canary_.requests(), 1);

  // Sticky by API key: the same key stays in one arm.
  std::string arm;
  for (int i = 0; i < 10; ++i) {
    Response r = Chat(client, "Authorization: Bearer " + wide + "\r\n");
    ASSERT_EQ(r.status, 200) << r.body;
    if (i == 0) arm = r.Header("x-sluice-experiment");
    EXPECT_EQ(r.Header("x-sluice-experiment"), arm);
  }
}

}  // namespace
}  // namespace sluice::testing
