// Tests of ChainRun with fake filters that record every call: lazy creation, chain order
// for requests and reverse order for responses, a reply stops later filters from being
// created, OnComplete exactly once (explicitly, via the destructor, on restart and for
// rejected requests). RunRequest is driven by a real io_context, never by sleeping.
#include "core/filter_chain.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <string>
#include <vector>

namespace sluice {
namespace {

namespace asio = boost::asio;

using Log = std::vector<std::string>;

struct FakeOptions {
  bool reply = false;       // OnRequest (or OnRequestNow) answers with a 429 LocalReply
  bool suspend = false;     // OnRequest suspends once (posts itself) before answering
  bool decide_now = false;  // OnRequestNow decides (OnRequest must then never be called)
  bool drop_body = false;   // OnResponseBody empties the piece
  bool sees_rejected = false;
  bool wants_body = false;
};

class FakeFilter final : public Filter {
 public:
  FakeFilter(std::string name, Log& log, int& live, FakeOptions options)
      : name_(std::move(name)), log_(log), live_(live), options_(options) {
    log_.push_back("create " + name_);
    ++live_;
  }
  ~FakeFilter() override { --live_; }

  std::optional<Verdict> OnRequestNow(RequestContext& ctx) override {
    if (!options_.decide_now) return std::nullopt;
    log_.push_back("now " + name_);
    ctx.upstream_headers.Add("X-Seen-By", name_);
    if (options_.reply)
      return Verdict::Reply(ErrorReply(ErrorClass::kInvalidRequest, name_, {}, 429));
    return Verdict::Continue();
  }
  asio::awaitable<Verdict> OnRequest(RequestContext& ctx) override {
    log_.push_back("request " + name_);
    if (options_.suspend) {
      co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      log_.push_back("resumed " + name_);
    }
    ctx.upstream_headers.Add("X-Seen-By", name_);
    if (options_.reply)
      co_return Verdict::Reply(ErrorReply(ErrorClass::kInvalidRequest, name_, {}, 429));
    co_return Verdict::Continue();
  }
  void OnResponseHead(RequestContext&, ResponseHead& head) override {
    log_.push_back("head " + name_);
    head.headers.Add("X-Filter", name_);
  }
  void OnResponseBody(RequestContext&, std::string& piece) override {
    log_.push_back("body " + name_);
    if (options_.drop_body) {
      piece.clear();
    } else {
      piece += "+" + name_;
    }
  }
  void OnComplete(const RequestContext& ctx) override {
    log_.push_back("complete " + name_ + " status=" + std::to_string(ctx.status));
  }

 private:
  std::string name_;
  Log& log_;
  int& live_;
  FakeOptions options_;
};

class FakeFactory final : public FilterFactory {
 public:
  FakeFactory(std::string name, Log& log, int& live, FakeOptions options = {})
      : name_(std::move(name)), log_(log), live_(live), options_(options) {}
  std::string_view name() const override { return name_; }
  std::unique_ptr<Filter> NewFilter() const override {
    return std::make_unique<FakeFilter>(name_, log_, live_, options_);
  }
  bool wants_response_body() const override { return options_.wants_body; }
  bool sees_rejected_requests() const override { return options_.sees_rejected; }

 private:
  std::string name_;
  Log& log_;
  int& live_;
  FakeOptions options_;
};

class ChainRunTest : public testing::Test {
 protected:
  ChainRunTest() {
    request_.method = Method::kPost;
    request_.path = "/v1/chat/completions";
    ctx_.Begin(request_, nullptr, nullptr, SteadyTime{}, WallTime{});
  }

  FilterChain Chain(std::vector<std::pair<std::string, FakeOptions>> filters) {
    std::vector<std::shared_ptr<const FilterFactory>> factories;
    for (auto& [name, options] : filters) {
      factories.push_back(std::make_shared<FakeFactory>(name, log_, live_, options));
    }
    return FilterChain(std::move(factories));
  }

  // Runs RunRequest to completion on an io_context.
  std::optional<LocalReply> RunRequest(ChainRun& run) {
    asio::io_context io;
    std::optional<LocalReply> result;
    bool finished = false;
    asio::co_spawn(io, run.RunRequest(),
                   [&](std::exception_ptr e, std::optional<LocalReply> reply) {
                     ASSERT_FALSE(e);
                     result = std::move(reply);
                     finished = true;
                   });
    io.run();
    EXPECT_TRUE(finished);
    return result;
  }

  Log TakeLog() { return std::exchange(log_, {}); }

  // Every filter created was destroyed (the runs are gone by now).
  void TearDown() override { EXPECT_EQ(live_, 0); }

  Log log_;
  int live_ = 0;  // filters alive
  HttpRequest request_;
  RequestContext ctx_;
};

TEST_F(ChainRunTest, FullRunOrder) {
  FilterChain chain = Chain({{"a", {}}, {"b", {.suspend = true}}, {"c", {}}});
  EXPECT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain.factory(1).name(), "b");
  {
    ChainRun run;
    run.Start(chain, ctx_);
    EXPECT_TRUE(log_.empty()) << "filters are created lazily, not by Start";
    EXPECT_FALSE(RunRequest(run).has_value());
    EXPECT_EQ(ctx_.upstream_headers.wire(), "X-Seen-By: a\r\nX-Seen-By: b\r\nX-Seen-By: c\r\n");
    ResponseHead head;
    run.ResponseHead(head);
    EXPECT_EQ(head.headers.wire(), "X-Filter: c\r\nX-Filter: b\r\nX-Filter: a\r\n");
    std::string piece = "data";
    EXPECT_TRUE(run.ResponseBody(piece));
    EXPECT_EQ(piece, "data+c+b+a");
    ctx_.status = 200;
    run.Complete();
    EXPECT_EQ(live_, 0) << "Complete destroys the filters";
    run.Complete();  // idempotent
  }
  EXPECT_EQ(TakeLog(),
            (Log{"create a", "request a", "create b", "request b", "resumed b", "create c",
                 "request c", "head c", "head b", "head a", "body c", "body b", "body a",
                 "complete c status=200", "complete b status=200", "complete a status=200"}));
}

TEST_F(ChainRunTest, ReplyStopsTheChainAndLaterFiltersAreNeverCreated) {
  FilterChain chain = Chain({{"a", {}}, {"auth", {.reply = true, .suspend = true}}, {"c", {}}});
  ChainRun run;
  run.Start(chain, ctx_);
  std::optional<LocalReply> reply = RunRequest(run);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 429);
  EXPECT_NE(reply->body.find("auth"), std::string::npos);
  ResponseHead head;
  run.ResponseHead(head);
  std::string piece = "x";
  run.ResponseBody(piece);
  ctx_.status = 429;
  run.Complete();
  EXPECT_EQ(TakeLog(), (Log{"create a", "request a", "create auth", "request auth", "resumed auth",
                            "head auth", "head a", "body auth", "body a",
                            "complete auth status=429", "complete a status=429"}));
}

// Filters that decide without suspending and filters that await mix in chain order; a
// filter that decided in OnRequestNow never gets OnRequest.
TEST_F(ChainRunTest, SynchronousVerdictsSkipTheCoroutine) {
  FilterChain chain =
      Chain({{"a", {.decide_now = true}}, {"b", {.suspend = true}}, {"c", {.decide_now = true}}});
  ChainRun run;
  run.Start(chain, ctx_);
  EXPECT_FALSE(RunRequest(run).has_value());
  EXPECT_EQ(TakeLog(),
            (Log{"create a", "now a", "create b", "request b", "resumed b", "create c", "now c"}));
  EXPECT_EQ(ctx_.upstream_headers.Get("X-Seen-By"), "a");
  run.Complete();
}

TEST_F(ChainRunTest, SynchronousReplyStopsTheChain) {
  FilterChain chain = Chain({{"a", {}}, {"auth", {.reply = true, .decide_now = true}}, {"c", {}}});
  ChainRun run;
  run.Start(chain, ctx_);
  std::optional<LocalReply> reply = RunRequest(run);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 429);
  EXPECT_EQ(TakeLog(), (Log{"create a", "request a", "create auth", "now auth"}));
  run.Complete();
  EXPECT_EQ(TakeLog(), (Log{"complete auth status=0", "complete a status=0"}));
}

TEST_F(ChainRunTest, DroppedPieceStopsLaterBodyFilters) {
  FilterChain chain =
      Chain({{"a", {}}, {"redact", {.drop_body = true, .wants_body = true}}, {"c", {}}});
  EXPECT_TRUE(chain.any_wants_response_body());
  ChainRun run;
  run.Start(chain, ctx_);
  EXPECT_TRUE(run.wants_response_body());
  RunRequest(run);
  TakeLog();
  std::string piece = "secret";
  EXPECT_FALSE(run.ResponseBody(piece));
  EXPECT_TRUE(piece.empty());
  EXPECT_EQ(TakeLog(), (Log{"body c", "body redact"}));
}

TEST_F(ChainRunTest, WantsResponseBodyOnlyWhenAFilterDoes) {
  FilterChain chain = Chain({{"a", {}}, {"b", {}}});
  EXPECT_FALSE(chain.any_wants_response_body());
  ChainRun run;
  EXPECT_FALSE(run.wants_response_body());  // not started
  run.Start(chain, ctx_);
  EXPECT_FALSE(run.wants_response_body());
}

TEST_F(ChainRunTest, DestructorCompletesAbandonedRun) {
  FilterChain chain = Chain({{"a", {}}, {"b", {}}});
  {
    ChainRun run;
    run.Start(chain, ctx_);
    RunRequest(run);
    ctx_.status = 499;
    // Client went away: no response phase, no explicit Complete.
  }
  EXPECT_EQ(TakeLog(), (Log{"create a", "request a", "create b", "request b",
                            "complete b status=499", "complete a status=499"}));
}

TEST_F(ChainRunTest, RestartCompletesThePreviousRequestOnce) {
  FilterChain chain = Chain({{"a", {}}});
  ChainRun run;
  run.Start(chain, ctx_);
  RunRequest(run);
  ctx_.status = 200;
  run.Start(chain, ctx_);  // keep-alive: the next request on the same connection
  ctx_.status = 204;
  RunRequest(run);
  run.Complete();
  EXPECT_EQ(TakeLog(), (Log{"create a", "request a", "complete a status=200", "create a",
                            "request a", "complete a status=204"}));
}

TEST_F(ChainRunTest, NothingCreatedNothingCompleted) {
  FilterChain chain = Chain({{"a", {}}});
  {
    ChainRun never_started;
    never_started.Complete();
    ChainRun started;
    started.Start(chain, ctx_);
  }
  EXPECT_TRUE(log_.empty());
}

TEST_F(ChainRunTest, RejectedRequestsReachOnlyObservingFilters) {
  FilterChain chain = Chain({{"request_id", {}},
                             {"log", {.sees_rejected = true}},
                             {"auth", {}},
                             {"metrics", {.sees_rejected = true}}});
  {
    ChainRun run;
    run.StartRejected(chain, ctx_);
    EXPECT_EQ(TakeLog(), (Log{"create log", "create metrics"}));
    ResponseHead head;
    head.status = 431;
    run.ResponseHead(head);
    ctx_.status = 431;
    // No explicit Complete: the destructor must still complete exactly once.
  }
  EXPECT_EQ(TakeLog(), (Log{"head metrics", "head log", "complete metrics status=431",
                            "complete log status=431"}));
}

TEST_F(ChainRunTest, EmptyChain) {
  FilterChain chain;
  ChainRun run;
  run.Start(chain, ctx_);
  EXPECT_FALSE(RunRequest(run).has_value());
  std::string piece = "unchanged";
  EXPECT_TRUE(run.ResponseBody(piece));
  EXPECT_EQ(piece, "unchanged");
  run.Complete();
}

}  // namespace
}  // namespace sluice
