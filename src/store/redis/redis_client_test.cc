// RedisClient against a real redis-server (started per test on a free loopback port):
// reply kinds, 1,000 pipelined commands, AUTH and SELECT, timeouts on a paused server,
// stall detection, reconnection after a restart, fast failure while disconnected.
#include "store/redis/redis_client.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include "store/redis/redis_test_server.h"

namespace sluice::redis {
namespace {
namespace asio = boost::asio;
using std::chrono::milliseconds;

class RedisClientTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()); }

  std::shared_ptr<RedisClient> NewClient(RedisOptions options) {
    auto client = RedisClient::Create(io_.get_executor(), std::move(options));
    client->Start();
    clients_.push_back(client);
    return client;
  }
  void TearDown() override {
    for (auto& c : clients_) c->Close();
    io_.run_for(milliseconds(20));
  }

  asio::io_context io_;
  RedisTestServer server_;
  std::vector<std::shared_ptr<RedisClient>> clients_;
};

TEST_F(RedisClientTest, CommandsReturnEveryReplyKind) {
  auto client = NewClient(server_.Options());
  auto body = [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await AwaitConnected(*client, milliseconds(2000)));
    std::array<RedisArg, 3> set{"SET", "k", "value"};
    RedisReply r = co_await client->Command(set, milliseconds(1000));
    EXPECT_EQ(r.kind, RedisReplyKind::kStatus);
    EXPECT_EQ(r.str, "OK");
    std::array<RedisArg, 2> get{"GET", "k"};
    r = co_await client->Command(get, milliseconds(1000));
    EXPECT_EQ(r.kind, RedisReplyKind::kString);
    EXPECT_EQ(r.str, "value");
    std::array<RedisArg, 2> missing{"GET", "nope"};
    r = co_await client->Command(missing, milliseconds(1000));
    EXPECT_EQ(r.kind, RedisReplyKind::kNil);
    std::array<RedisArg, 3> incr{"INCRBY", "n", int64_t{-5}};
    r = co_await client->Command(incr, milliseconds(1000));
    EXPECT_EQ(r.kind, RedisReplyKind::kInteger);
    EXPECT_EQ(r.integer, -5);
    std::array<RedisArg, 2> wrong{"INCR", "k"};  // not an integer
    r = co_await client->Command(wrong, milliseconds(1000));
    EXPECT_TRUE(r.is_error());
    EXPECT_TRUE(r.IsErrorCode("ERR")) << r.str;
    std::array<RedisArg, 5> push{"RPUSH", "l", "a", "bb", int64_t{3}};
    co_await client->Command(push, milliseconds(1000));
    std::array<RedisArg, 4> range{"LRANGE", "l", 0, -1};
    r = co_await client->Command(range, milliseconds(1000));
    EXPECT_EQ(r.kind, RedisReplyKind::kArray);
    EXPECT_EQ(r.elements.size(), 3u);
    if (r.elements.size() == 3) {
      EXPECT_EQ(r.elements[1].str, "bb");
      EXPECT_EQ(r.elements[2].str, "3");
    }
    // Send: fire and forget, but FIFO with what follows.
    std::array<RedisArg, 3> sent{"SET", "f", "x"};
    EXPECT_TRUE(client->Send(sent));
    std::array<RedisArg, 2> getf{"GET", "f"};
    r = co_await client->Command(getf, milliseconds(1000));
    EXPECT_EQ(r.str, "x");
  };
  RunCoroutine(io_, body());
}

TEST_F(RedisClientTest, PipelinesAThousandCommandsInFlight) {
  auto client = NewClient(server_.Options());
  constexpr int kCommands = 1000;
  std::vector<int64_t> seen;
  size_t max_in_flight = 0;
  int finished = 0;
  auto one = [&]() -> asio::awaitable<void> {
    std::array<RedisArg, 2> incr{"INCR", "counter"};
    RedisReply r = co_await client->Command(incr, milliseconds(5000));
    max_in_flight = std::max(max_in_flight, client->in_flight() + 1);
    EXPECT_EQ(r.kind, RedisReplyKind::kInteger) << RedisFailureName(r.failure);
    seen.push_back(r.integer);
    ++finished;
  };
  auto body = [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await AwaitConnected(*client, milliseconds(2000)));
    for (int i = 0; i < kCommands; ++i) asio::co_spawn(io_, one(), asio::detached);
    asio::steady_timer timer(io_);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (finished < kCommands && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(milliseconds(2));
      co_await timer.async_wait(asio::use_awaitable);
    }
  };
  RunCoroutine(io_, body());
  ASSERT_EQ(finished, kCommands);
  // FIFO matching: the i-th reply to arrive is the i-th INCR.
  for (int i = 0; i < kCommands; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], i + 1);
  EXPECT_GE(max_in_flight, 500u) << "commands were not pipelined";
  EXPECT_EQ(server_.Call({"GET", "counter"}).str, "1000");
}

TEST(RedisClientAuthTest, AuthenticatesAndSelectsTheDatabase) {
  RedisTestServer server({"--requirepass", "s3cret-pw"});
  ASSERT_TRUE(server.Start());
  asio::io_context io;
  RedisOptions good = server.Options();
  good.password = "s3cret-pw";
  good.db = 3;
  RedisOptions bad = server.Options();
  bad.password = "wrong";
  RedisOptions db0 = good;
  db0.db = 0;
  auto client = RedisClient::Create(io.get_executor(), good);
  auto refused = RedisClient::Create(io.get_executor(), bad);
  auto other_db = RedisClient::Create(io.get_executor(), db0);
  client->Start();
  refused->Start();
  other_db->Start();
  auto body = [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await AwaitConnected(*client, milliseconds(2000)));
    std::array<RedisArg, 3> set{"SET", "in3", "yes"};
    RedisReply r = co_await client->Command(set, milliseconds(1000));
    EXPECT_EQ(r.str, "OK");
    std::array<RedisArg, 2> get{"GET", "in3"};
    r = co_await client->Command(get, milliseconds(1000));
    EXPECT_EQ(r.str, "yes");
    EXPECT_TRUE(co_await AwaitConnected(*other_db, milliseconds(2000)));
    r = co_await other_db->Command(get, milliseconds(1000));
    EXPECT_EQ(r.kind, RedisReplyKind::kNil);  // db 0 does not have it
    EXPECT_FALSE(co_await AwaitConnected(*refused, milliseconds(300)));
    std::array<RedisArg, 1> ping{"PING"};
    r = co_await refused->Command(ping, milliseconds(1000));
    EXPECT_EQ(r.failure, RedisFailure::kNotConnected);
    client->Close();
    refused->Close();
    other_db->Close();
  };
  RunCoroutine(io, body());
  // Without AUTH the server answers nothing but NOAUTH: the password was really required.
  EXPECT_TRUE(server.Call({"GET", "in3"}).IsErrorCode("NOAUTH"));
}

TEST_F(RedisClientTest, FailsFastWhileNoServerAndConnectsWhenItComes) {
  server_.Kill();
  auto client = NewClient(server_.Options());
  auto body = [&]() -> asio::awaitable<void> {
    std::array<RedisArg, 1> ping{"PING"};
    auto start = std::chrono::steady_clock::now();
    RedisReply r = co_await client->Command(ping, milliseconds(1000));
    EXPECT_EQ(r.failure, RedisFailure::kNotConnected);
    EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(50));
    EXPECT_FALSE(client->connected());
    server_.Start();  // same port
    EXPECT_TRUE(co_await AwaitConnected(*client, milliseconds(3000)));
    r = co_await client->Command(ping, milliseconds(1000));
    EXPECT_EQ(r.str, "PONG");
  };
  RunCoroutine(io_, body());
}

TEST_F(RedisClientTest, ReconnectsAfterARestart) {
  auto client = NewClient(server_.Options());
  auto body = [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await AwaitConnected(*client, milliseconds(2000)));
    uint64_t first = client->connection_id();
    server_.Kill();
    std::array<RedisArg, 1> ping{"PING"};
    RedisReply r = co_await client->Command(ping, milliseconds(1000));
    EXPECT_TRUE(r.is_no_reply());  // disconnected (in flight) or not connected (noticed)
    EXPECT_TRUE(server_.Start());
    EXPECT_TRUE(co_await AwaitConnected(*client, milliseconds(3000)));
    EXPECT_GT(client->connection_id(), first);
    r = co_await client->Command(ping, milliseconds(1000));
    EXPECT_EQ(r.str, "PONG");
  };
  RunCoroutine(io_, body());
}

TEST_F(RedisClientTest, TimesOutOnAPausedServerDropsTheStalledConnectionAndRecovers) {
  auto client = NewClient(server_.Options());  // stall_timeout 300 ms
  auto body = [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await AwaitConnected(*client, milliseconds(2000)));
    server_.Pause();
    std::array<RedisArg, 1> ping{"PING"};
    auto start = std::chrono::steady_clock::now();
    RedisReply r = co_await client->Command(ping, milliseconds(50));
    auto waited = std::chrono::steady_clock::now() - start;
    EXPECT_EQ(r.failure, RedisFailure::kTimeout);
    EXPECT_GE(waited, milliseconds(50));
    EXPECT_LT(waited, milliseconds(250));
    // No reply for stall_timeout: the connection is dropped; commands then fail at once.
    asio::steady_timer timer(io_);
    timer.expires_after(milliseconds(400));
    co_await timer.async_wait(asio::use_awaitable);
    EXPECT_FALSE(client->connected());
    r = co_await client->Command(ping, milliseconds(50));
    EXPECT_EQ(r.failure, RedisFailure::kNotConnected);
    server_.Resume();
    EXPECT_TRUE(co_await AwaitConnected(*client, milliseconds(3000)));
    r = co_await client->Command(ping, milliseconds(1000));
    EXPECT_EQ(r.str, "PONG");
  };
  RunCoroutine(io_, body());
}

TEST_F(RedisClientTest, CloseCompletesCommandsInFlight) {
  auto client = NewClient(server_.Options());
  auto body = [&]() -> asio::awaitable<void> {
    EXPECT_TRUE(co_await AwaitConnected(*client, milliseconds(2000)));
    server_.Pause();
    asio::co_spawn(
        io_,
        [&]() -> asio::awaitable<void> {
          asio::steady_timer timer(io_);
          timer.expires_after(milliseconds(20));
          co_await timer.async_wait(asio::use_awaitable);
          client->Close();
        },
        asio::detached);
    std::array<RedisArg, 1> ping{"PING"};
    RedisReply r = co_await client->Command(ping, milliseconds(5000));
    EXPECT_EQ(r.failure, RedisFailure::kClosed);
    server_.Resume();
  };
  RunCoroutine(io_, body());
}

}  // namespace
}  // namespace sluice::redis
