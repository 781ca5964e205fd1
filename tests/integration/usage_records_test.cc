// Integration: one usage record per model request through the real server with a SQLite
// store — durable in the journal by the time the client has the last byte (JSON) or the
// [DONE] event (SSE), exported to the store once, with the upstream's token counts, the
// model, backend, status and error class; upstream failures and client disconnects are
// recorded too, and requests other than model calls are not.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"
#include "usage/usage_journal.h"
#include "usage/usage_record.h"

namespace sluice::testing {
namespace {

namespace asio = boost::asio;

struct Row {
  int status = 0;
  int64_t prompt = 0, completion = 0;
  bool stream = false, estimated = false, disconnected = false;
  std::string model, backend, error;
};

class UsageRecordsTest : public ::testing::Test {
 protected:
  UsageRecordsTest() {
    static int counter = 0;
    dir_ = "/tmp/sluice-usage-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    std::filesystem::create_directories(dir_);
  }
  ~UsageRecordsTest() override {
    gateway_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Start(FakeUpstream& upstream) {
    gateway_ = std::make_unique<GatewayHarness>(BasicConfig() + "store:\n  sqlite: " + db() + "\n",
                                                upstream.address());
  }
  std::string db() const { return dir_ + "/sluice.db"; }
  std::string journal() const { return db() + ".usage"; }

  // Every record in the journal's segment files right now.
  std::map<std::string, UsageRecord> Journaled() {
    std::map<std::string, UsageRecord> out;
    for (uint64_t seq : ListUsageSegments(journal())) {
      std::ifstream file(UsageSegmentPath(journal(), seq), std::ios::binary);
      std::string data((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
      std::string_view rest(data);
      for (FrameView frame = ReadUsageFrame(rest); frame.status == FrameStatus::kOk;
           frame = ReadUsageFrame(rest)) {
        UsageRecord record;
        if (DecodeUsagePayload(frame.payload, &record)) out[record.request_id] = record;
        rest.remove_prefix(frame.frame_bytes);
      }
    }
    return out;
  }

  // The exported rows, once `expected` are there (the exporter runs every 200 ms).
  std::map<std::string, Row> Exported(size_t expected) {
    std::map<std::string, Row> rows;
    for (int attempt = 0; attempt < 150; ++attempt) {
      rows = ReadRows();
      if (rows.size() >= expected) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return rows;
  }

  std::map<std::string, Row> ReadRows() {
    std::map<std::string, Row> rows;
    sqlite3* handle = nullptr;
    if (sqlite3_open_v2(db().c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close(handle);
      return rows;
    }
    sqlite3_busy_timeout(handle, 1000);
    sqlite3_stmt* stmt = nullptr;
    const char* sql =
        "SELECT request_id, status, prompt_tokens, completion_tokens, stream, tokens_estimated, "
        "client_disconnected, model_requested, backend, error_class FROM usage_records";
    if (sqlite3_prepare_v2(handle, sql, -1, &stmt, nullptr) == SQLITE_OK) {
      while (sqlite3_step(stmt) == SQLITE_ROW) {
        Row row;
        auto text = [&](int i) {
          const unsigned char* t = sqlite3_column_text(stmt, i);
          return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
        };
        row.status = sqlite3_column_int(stmt, 1);
        row.prompt = sqlite3_column_int64(stmt, 2);
        row.completion = sqlite3_column_int64(stmt, 3);
        row.stream = sqlite3_column_int(stmt, 4) != 0;
        row.estimated = sqlite3_column_int(stmt, 5) != 0;
        row.disconnected = sqlite3_column_int(stmt, 6) != 0;
        row.model = text(7);
        row.backend = text(8);
        row.error = text(9);
        rows[text(0)] = row;
      }
    }
    sqlite3_finalize(stmt);
    sqlite3_close(handle);
    return rows;
  }

  std::string dir_;
  std::unique_ptr<GatewayHarness> gateway_;
};

asio::awaitable<void> AnswerByKind(FakeExchange& ex) {
  if (ex.request().body.find("\"stream\":true") != std::string::npos) {
    co_await ex.StartSse();
    for (const char* word : {"a", "b"}) co_await ex.SendEvent(ChatChunkEvent(word));
    co_await ex.SendEvent(UsageChunkEvent(11, 3));
    co_await ex.SendEvent(kDoneEvent);
    co_await ex.EndChunked();
    co_return;
  }
  co_await ex.RespondJson(200, ChatCompletionJson("hi", 7, 2));
}

TEST_F(UsageRecordsTest, DurableBeforeTheLastByteAndExportedOnce) {
  FakeUpstream upstream(AnswerByKind);
  Start(upstream);
  TestClient client(gateway_->port());
  client.Send(
      JsonRequest("/v1/chat/completions", kChatRequestBody, "X-Request-Id: usage-json-1\r\n"));
  auto json = client.ReadResponse();
  ASSERT_TRUE(json);
  ASSERT_EQ(json->status, 200);
  // The client has the whole response: its record is in the journal already.
  auto journaled = Journaled();
  ASSERT_TRUE(journaled.contains("usage-json-1")) << "record not journaled before the response";
  EXPECT_EQ(journaled["usage-json-1"].prompt_tokens, 7);

  client.Send(
      JsonRequest("/v1/chat/completions", kStreamRequestBody, "X-Request-Id: usage-sse-1\r\n"));
  auto head = client.ReadHead();
  ASSERT_TRUE(head);
  std::string last;
  while (auto event = client.ReadSseEvent()) last = *event;
  EXPECT_EQ(last, "data: [DONE]\n\n");
  journaled = Journaled();
  ASSERT_TRUE(journaled.contains("usage-sse-1")) << "record not journaled before [DONE]";
  EXPECT_EQ(journaled["usage-sse-1"].completion_tokens, 3);
  EXPECT_TRUE(journaled["usage-sse-1"].stream);

  // Health probes and model lists are not usage.
  client.Send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(client.ReadResponse());

  auto rows = Exported(2);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows["usage-json-1"].status, 200);
  EXPECT_EQ(rows["usage-json-1"].prompt, 7);
  EXPECT_EQ(rows["usage-json-1"].completion, 2);
  EXPECT_EQ(rows["usage-json-1"].model, "m");
  EXPECT_EQ(rows["usage-json-1"].backend, "up");
  EXPECT_FALSE(rows["usage-json-1"].estimated);
  EXPECT_EQ(rows["usage-sse-1"].prompt, 11);
  EXPECT_EQ(rows["usage-sse-1"].completion, 3);
  EXPECT_TRUE(rows["usage-sse-1"].stream);
  EXPECT_TRUE(rows["usage-sse-1"].error.empty());
}

TEST_F(UsageRecordsTest, FailuresAndDisconnectsAreRecorded) {
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    if (ex.request().body.find("\"stream\":true") != std::string::npos) {
      co_await ex.StartSse();
      co_await ex.SendEvent(ChatChunkEvent("a"));
      co_await ex.WaitForPeerClose(std::chrono::milliseconds(5'000));
      co_return;
    }
    co_await ex.RespondJson(500, R"({"oops":true})");
  });
  Start(upstream);
  TestClient client(gateway_->port());
  client.Send(
      JsonRequest("/v1/chat/completions", kChatRequestBody, "X-Request-Id: usage-fail-1\r\n"));
  auto failed = client.ReadResponse();
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 502);

  TestClient leaving(gateway_->port());
  leaving.Send(
      JsonRequest("/v1/chat/completions", kStreamRequestBody, "X-Request-Id: usage-gone-1\r\n"));
  ASSERT_TRUE(leaving.ReadHead());
  ASSERT_TRUE(leaving.ReadSseEvent());
  leaving.Close();

  auto rows = Exported(2);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows["usage-fail-1"].status, 502);
  EXPECT_EQ(rows["usage-fail-1"].error, "upstream_error");
  EXPECT_TRUE(rows["usage-gone-1"].disconnected);
  EXPECT_EQ(rows["usage-gone-1"].error, "client_closed");
  EXPECT_TRUE(rows["usage-gone-1"].estimated) << "no usage chunk: tokens are estimated";
}

TEST_F(UsageRecordsTest, ManyRequestsGiveExactlyOneRecordEach) {
  FakeUpstream upstream(AnswerByKind);
  Start(upstream);
  std::set<std::string> sent;
  std::vector<std::thread> threads;
  std::mutex mutex;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      TestClient client(gateway_->port());
      for (int i = 0; i < 25; ++i) {
        std::string id = "many-" + std::to_string(t) + "-" + std::to_string(i);
        client.Send(JsonRequest("/v1/chat/completions",
                                i % 2 ? kStreamRequestBody : kChatRequestBody,
                                "X-Request-Id: " + id + "\r\n"));
        if (i % 2) {
          if (!client.ReadHead()) continue;
          while (client.ReadSseEvent()) {
          }
        } else if (!client.ReadResponse()) {
          continue;
        }
        std::lock_guard lock(mutex);
        sent.insert(id);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  ASSERT_EQ(sent.size(), 100u);
  auto rows = Exported(100);
  EXPECT_EQ(rows.size(), 100u);
  for (const std::string& id : sent) EXPECT_TRUE(rows.contains(id)) << id;
}

}  // namespace
}  // namespace sluice::testing
