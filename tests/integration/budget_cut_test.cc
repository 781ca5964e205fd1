// Integration: a stream that runs past its token reservation is cut at its budget's cap —
// the client gets the chunks the budget pays for (also those batched with the refused one,
// in order), then the SSE error event budget_exceeded and a clean end without [DONE]; the
// upstream connection is closed; the usage record is durable before the error event and
// says what was delivered (estimated). Two layers: the relay alone, with a scripted
// StreamBudget filter registered through a test filter catalog, and the whole feature
// through the rate_limit filter (on_budget_exceeded: cut | finish).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "config/loader.h"
#include "core/stream_budget.h"
#include "filters/registry.h"
#include "limits/token_estimator.h"
#include "server.h"
#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"
#include "usage/usage_journal.h"
#include "usage/usage_record.h"

namespace sluice::testing {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr int kChunks = 40;  // one-token content chunks every test stream carries
constexpr std::string_view kStreamChat =
    R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hello"}]})";
constexpr std::string_view kStreamCompletion =
    R"({"model":"m","stream":true,"prompt":"Once upon a time"})";
constexpr std::string_view kRoleChunk =
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n";
constexpr std::string_view kFinishChunk =
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{},\"finish_reason\":\"length\"}]}\n\n";

// The prompt tokens the gateway estimates for a body (what a cut stream records).
int64_t PromptEstimate(std::string_view body) {
  return limits::EstimateTokens(json::parse(body).as_object(), 0).prompt;
}

std::string ContentOf(int i) { return "t" + std::to_string(i); }

std::string TextChunk(std::string_view text) {
  return "data: {\"id\":\"cmpl\",\"object\":\"text_completion\",\"choices\":[{\"index\":0,"
         "\"text\":\"" +
         std::string(text) + "\",\"finish_reason\":null}]}\n\n";
}

// The fake upstream's side of one stream. `expect_cut`: after its last content chunk it
// waits (bounded) for the gateway to close the connection instead of finishing at once.
struct UpstreamLog {
  std::atomic<bool> expect_cut{false};
  std::atomic<int> closed_by_gateway{0};
  std::atomic<int> finished{0};  // sent [DONE] (the gateway kept reading)
};

std::string StreamEvent(int i, bool text) {
  if (i == 0) return text ? TextChunk("") : std::string(kRoleChunk);
  return text ? TextChunk(ContentOf(i - 1)) : ChatChunkEvent(ContentOf(i - 1));
}

// A stream of a role-only chunk and kChunks one-token chunks ("t0".."t39"), then a finish
// chunk, the usage chunk and [DONE]. `one_write` sends everything up to the last content
// chunk in one write, so the gateway parses it from as few reads as it can. `text` streams
// /v1/completions chunks instead.
FakeUpstream::Handler StreamForty(UpstreamLog& log, int64_t reported_prompt, bool one_write = false,
                                  bool text = false) {
  return [&log, reported_prompt, one_write, text](FakeExchange& ex) -> asio::awaitable<void> {
    if (!co_await ex.StartSse()) co_return;
    std::string all;
    for (int i = 0; i <= kChunks; ++i) {
      std::string event = StreamEvent(i, text);
      if (one_write) {
        all += event;
      } else if (!co_await ex.SendEvent(event)) {
        log.closed_by_gateway++;
        co_return;
      }
    }
    if (one_write) {
      bool sent = co_await ex.SendEvent(all);
      if (!sent) {
        log.closed_by_gateway++;
        co_return;
      }
    }
    // A gateway that cuts closes the connection now (a gateway that does not gets the rest
    // of the stream after the wait, and the test fails on what its client receives).
    if (log.expect_cut) {
      bool closed = co_await ex.WaitForPeerClose(std::chrono::milliseconds(5'000));
      if (closed) {
        log.closed_by_gateway++;
        co_return;
      }
    }
    const std::string usage = UsageChunkEvent(static_cast<int>(reported_prompt), kChunks);
    const std::string_view tail[] = {kFinishChunk, usage, kDoneEvent};
    for (std::string_view event : tail) {
      bool sent = co_await ex.SendEvent(event);
      if (!sent) co_return;
    }
    bool ended = co_await ex.EndChunked();
    if (ended) log.finished++;
  };
}

// --- A StreamBudget driven by a script, so the relay is tested without the limits runtime.

constexpr int64_t kUnset = -2;

struct BudgetScript {
  std::atomic<int64_t> allowance{-1};  // ctx.stream_token_allowance at admission
  std::atomic<int64_t> grantable{0};   // tokens Extend hands out per request (partial at the end)
  std::atomic<int> extend_calls{0};
  std::atomic<int64_t> last_wanted{0};
  std::atomic<int64_t> final_allowance{kUnset};  // ctx.stream_token_allowance at OnComplete
};

class ScriptedBudgetFilter final : public Filter, public StreamBudget {
 public:
  explicit ScriptedBudgetFilter(BudgetScript& script)
      : script_(script), grantable_(script.grantable) {}

  std::optional<Verdict> OnRequestNow(RequestContext& ctx) override {
    ctx.stream_budget = this;
    ctx.stream_token_allowance = script_.allowance;
    return Verdict::Continue();
  }

  asio::awaitable<int64_t> Extend(RequestContext& ctx, int64_t wanted) override {
    (void)ctx;
    script_.extend_calls++;
    script_.last_wanted = wanted;
    // Suspends, as a remote counter store does, before answering.
    asio::any_io_executor executor = co_await asio::this_coro::executor;
    co_await asio::post(executor, asio::use_awaitable);
    int64_t granted = std::min(wanted, grantable_);
    grantable_ -= granted;
    co_return granted;
  }

  void OnComplete(const RequestContext& ctx) override {
    script_.final_allowance = ctx.stream_token_allowance;
  }

 private:
  BudgetScript& script_;
  int64_t grantable_;
};

class ScriptedBudgetFactory final : public FilterFactory {
 public:
  explicit ScriptedBudgetFactory(BudgetScript& script) : script_(script) {}
  std::string_view name() const override { return "scripted_budget"; }
  std::unique_ptr<Filter> NewFilter() const override {
    return std::make_unique<ScriptedBudgetFilter>(script_);
  }

 private:
  BudgetScript& script_;
};

// The real registry plus `scripted_budget`, which the production registry cannot know.
class TestCatalog final : public FilterCatalog {
 public:
  TestCatalog(const Services* services, BudgetScript* script)
      : registry_(services), script_(script) {}
  std::shared_ptr<const FilterFactory> Build(std::string_view name,
                                             const ConfigNode& settings) const override {
    if (name == "scripted_budget" && script_ != nullptr) {
      return std::make_shared<ScriptedBudgetFactory>(*script_);
    }
    return registry_.Build(name, settings);
  }
  std::vector<std::string_view> DefaultChain(bool auth_configured,
                                             bool limits_configured) const override {
    return registry_.DefaultChain(auth_configured, limits_configured);
  }

 private:
  filters::Registry registry_;
  BudgetScript* script_;
};

// The real server with a SQLite store (so usage records are journaled), one worker, backend
// "up" at the fake upstream, model "m", and `filters` (a `filters:` list) plus `extra` YAML.
class BudgetGateway {
 public:
  BudgetGateway(const FakeUpstream& upstream, const std::string& filters, const std::string& extra,
                BudgetScript* script = nullptr) {
    static int counter = 0;
    dir_ = "/tmp/sluice-budget-cut-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    dir_cleanup_.path = dir_;
    std::string yaml =
        "server:\n  listen: 127.0.0.1:0\n  workers: 1\n"
        "backends:\n  - name: up\n    url: http://" +
        upstream.address() +
        "/v1\n"
        "models:\n  - name: m\n    backend: up\n    upstream_model: up-m\n"
        "store:\n  sqlite: " +
        db() + "\nfilters:\n  - request_id: {}\n" + filters + extra;
    gateway_ = std::make_unique<GatewayHarness>(yaml, "", [script](const Services* services) {
      return std::make_unique<TestCatalog>(services, script);
    });
  }

  uint16_t port() const { return gateway_->port(); }

  // Every record in the journal right now, by request id.
  std::map<std::string, UsageRecord> Journaled() const {
    std::map<std::string, UsageRecord> out;
    std::string journal = db() + ".usage";
    for (uint64_t seq : ListUsageSegments(journal)) {
      std::ifstream file(UsageSegmentPath(journal, seq), std::ios::binary);
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

 private:
  std::string db() const { return dir_ + "/sluice.db"; }

  struct DirCleanup {  // first member: the directory goes after the store has closed
    std::string path;
    ~DirCleanup() {
      if (!path.empty()) std::filesystem::remove_all(path);
    }
  };
  DirCleanup dir_cleanup_;
  std::string dir_;
  std::unique_ptr<GatewayHarness> gateway_;
};

// What a client saw of one stream.
struct Seen {
  int status = 0;
  std::vector<std::string> contents;  // delta.content / text of each content chunk, in order
  int role_chunks = 0;
  int usage_chunks = 0;
  bool done = false;                  // data: [DONE]
  std::optional<json::object> error;  // the SSE error event's "error" object
  bool events_after_error = false;
  bool clean_end = false;  // the chunked body ended with its last chunk
};

Seen ReadStream(TestClient& client, std::string_view path, std::string_view body,
                std::string_view request_id) {
  Seen seen;
  client.Send(JsonRequest(path, body, "X-Request-Id: " + std::string(request_id) + "\r\n"));
  auto head = client.ReadHead();
  if (!head) return seen;
  seen.status = head->status;
  while (auto event = client.ReadSseEvent()) {
    if (seen.error) seen.events_after_error = true;
    std::string data = SseData(*event);
    if (data == "[DONE]") {
      seen.done = true;
      continue;
    }
    json::object chunk = json::parse(data).as_object();
    if (const json::value* error = chunk.if_contains("error")) {
      seen.error = error->as_object();
      continue;
    }
    if (chunk.contains("usage") && !chunk.at("usage").is_null()) seen.usage_chunks++;
    const json::array& choices = chunk.at("choices").as_array();
    if (choices.empty()) continue;
    const json::object& choice = choices[0].as_object();
    const json::value* text = choice.if_contains("text");
    if (const json::value* delta = choice.if_contains("delta")) {
      if (delta->as_object().contains("role")) seen.role_chunks++;
      text = delta->as_object().if_contains("content");
    }
    if (text != nullptr && text->is_string() && !text->as_string().empty()) {
      seen.contents.emplace_back(text->as_string());
    }
  }
  seen.clean_end = client.stream_finished();
  return seen;
}

std::vector<std::string> FirstContents(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(ContentOf(i));
  return out;
}

void ExpectBudgetErrorEvent(const Seen& seen) {
  ASSERT_TRUE(seen.error) << "no SSE error event";
  EXPECT_EQ(seen.error->at("code").as_string(), "budget_exceeded");
  EXPECT_EQ(seen.error->at("type").as_string(), "insufficient_quota");
  EXPECT_FALSE(seen.error->at("message").as_string().empty());
  EXPECT_FALSE(seen.done) << "no [DONE] after an error event";
  EXPECT_FALSE(seen.events_after_error);
  EXPECT_TRUE(seen.clean_end) << "the chunked body must end cleanly after the error event";
}

const std::string kScriptedChain = "  - scripted_budget: {}\n";

// --- The relay, with a scripted budget.

TEST(BudgetCutRelay, CutWhenNothingIsGranted) {
  UpstreamLog log;
  log.expect_cut = true;
  FakeUpstream upstream(StreamForty(log, 0));
  BudgetScript script;
  script.allowance = 5;
  script.grantable = 0;
  BudgetGateway gateway(upstream, kScriptedChain, "", &script);
  TestClient client(gateway.port());
  Seen seen = ReadStream(client, "/v1/chat/completions", kStreamChat, "cut-1");
  EXPECT_EQ(seen.status, 200);
  EXPECT_EQ(seen.role_chunks, 1) << "a role-only chunk carries no token and is forwarded";
  EXPECT_EQ(seen.contents, FirstContents(5));
  ExpectBudgetErrorEvent(seen);
  EXPECT_EQ(script.extend_calls.load(), 1);
  EXPECT_EQ(script.last_wanted.load(), 16);
  // The record was durable before the error event reached the client.
  auto records = gateway.Journaled();
  ASSERT_TRUE(records.contains("cut-1")) << "the record is journaled before the error event";
  const UsageRecord& record = records["cut-1"];
  EXPECT_EQ(record.completion_tokens, 5);
  EXPECT_EQ(record.prompt_tokens, PromptEstimate(kStreamChat));
  EXPECT_TRUE(record.tokens_estimated);
  EXPECT_EQ(record.error_class, "budget_exceeded");
  EXPECT_EQ(record.status, 200);
  EXPECT_TRUE(record.stream);
  EXPECT_FALSE(record.client_disconnected);
  EXPECT_TRUE(FakeUpstream::WaitUntil([&] { return log.closed_by_gateway.load() == 1; }))
      << "the gateway must close the upstream connection at the cut";
  EXPECT_EQ(log.finished.load(), 0);

  // The aborted connection is not reused: the next request opens a new one and the
  // keep-alive client connection still works.
  script.allowance = -1;
  log.expect_cut = false;
  Seen next = ReadStream(client, "/v1/chat/completions", kStreamChat, "cut-2");
  EXPECT_EQ(next.contents.size(), static_cast<size_t>(kChunks));
  EXPECT_TRUE(next.done);
  EXPECT_EQ(upstream.connections(), 2);
}

TEST(BudgetCutRelay, ExtendsInStepsAndStopsWhereTheGrantsEnd) {
  UpstreamLog log;
  log.expect_cut = true;
  FakeUpstream upstream(StreamForty(log, 0));
  BudgetScript script;
  script.allowance = 3;
  script.grantable = 20;  // 16, then a partial 4, then nothing: 23 tokens in all
  BudgetGateway gateway(upstream, kScriptedChain, "", &script);
  TestClient client(gateway.port());
  Seen seen = ReadStream(client, "/v1/chat/completions", kStreamChat, "steps-1");
  EXPECT_EQ(seen.contents, FirstContents(23));
  ExpectBudgetErrorEvent(seen);
  EXPECT_EQ(script.extend_calls.load(), 3);
  // OnComplete runs after the last byte is written: wait for it.
  EXPECT_TRUE(FakeUpstream::WaitUntil([&] { return script.final_allowance.load() != kUnset; }));
  EXPECT_EQ(script.final_allowance.load(), 23) << "the relay adds what is granted";
  auto records = gateway.Journaled();
  ASSERT_TRUE(records.contains("steps-1"));
  EXPECT_EQ(records["steps-1"].completion_tokens, 23);
  EXPECT_TRUE(FakeUpstream::WaitUntil([&] { return log.closed_by_gateway.load() == 1; }));
}

TEST(BudgetCutRelay, EventsBatchedWithTheRefusedOneAreSentInOrderFirst) {
  UpstreamLog log;
  log.expect_cut = true;
  FakeUpstream upstream(StreamForty(log, 0, /*one_write=*/true));
  BudgetScript script;
  script.allowance = 7;
  BudgetGateway gateway(upstream, kScriptedChain, "", &script);
  TestClient client(gateway.port());
  Seen seen = ReadStream(client, "/v1/chat/completions", kStreamChat, "batch-1");
  EXPECT_EQ(seen.role_chunks, 1);
  EXPECT_EQ(seen.contents, FirstContents(7));
  ExpectBudgetErrorEvent(seen);
  auto records = gateway.Journaled();
  ASSERT_TRUE(records.contains("batch-1"));
  EXPECT_EQ(records["batch-1"].completion_tokens, 7);
  EXPECT_TRUE(FakeUpstream::WaitUntil([&] { return log.closed_by_gateway.load() == 1; }));
}

TEST(BudgetCutRelay, CompletionsTextChunksAreCounted) {
  UpstreamLog log;
  log.expect_cut = true;
  FakeUpstream upstream(StreamForty(log, 0, false, /*text=*/true));
  BudgetScript script;
  script.allowance = 2;
  BudgetGateway gateway(upstream, kScriptedChain, "", &script);
  TestClient client(gateway.port());
  Seen seen = ReadStream(client, "/v1/completions", kStreamCompletion, "text-1");
  EXPECT_EQ(seen.contents, FirstContents(2));
  ExpectBudgetErrorEvent(seen);
  auto records = gateway.Journaled();
  ASSERT_TRUE(records.contains("text-1"));
  EXPECT_EQ(records["text-1"].completion_tokens, 2);
  EXPECT_EQ(records["text-1"].prompt_tokens, PromptEstimate(kStreamCompletion));
}

TEST(BudgetCutRelay, StreamWithinItsAllowanceIsUntouched) {
  UpstreamLog log;
  FakeUpstream upstream(StreamForty(log, 9));
  BudgetScript script;
  script.allowance = kChunks;  // exactly enough
  BudgetGateway gateway(upstream, kScriptedChain, "", &script);
  TestClient client(gateway.port());
  // The client asks for usage: the usage-only chunk still reaches it, then [DONE].
  constexpr std::string_view kWithUsage =
      R"({"model":"m","stream":true,"stream_options":{"include_usage":true},)"
      R"("messages":[{"role":"user","content":"hello"}]})";
  Seen seen = ReadStream(client, "/v1/chat/completions", kWithUsage, "within-1");
  EXPECT_EQ(seen.contents, FirstContents(kChunks));
  EXPECT_EQ(seen.usage_chunks, 1);
  EXPECT_TRUE(seen.done);
  EXPECT_FALSE(seen.error);
  EXPECT_EQ(script.extend_calls.load(), 0);
  EXPECT_TRUE(FakeUpstream::WaitUntil([&] { return log.finished.load() == 1; }));
  auto records = gateway.Journaled();
  ASSERT_TRUE(records.contains("within-1"));
  EXPECT_EQ(records["within-1"].prompt_tokens, 9) << "the upstream's usage, not an estimate";
  EXPECT_EQ(records["within-1"].completion_tokens, kChunks);
  EXPECT_FALSE(records["within-1"].tokens_estimated);
  EXPECT_TRUE(records["within-1"].error_class.empty());
}

TEST(BudgetCutRelay, UnlimitedAllowanceNeverExtends) {
  UpstreamLog log;
  FakeUpstream upstream(StreamForty(log, 9));
  BudgetScript script;
  script.allowance = -1;
  BudgetGateway gateway(upstream, kScriptedChain, "", &script);
  TestClient client(gateway.port());
  Seen seen = ReadStream(client, "/v1/chat/completions", kStreamChat, "unlimited-1");
  EXPECT_EQ(seen.contents.size(), static_cast<size_t>(kChunks));
  EXPECT_EQ(seen.usage_chunks, 0) << "the usage chunk the client did not ask for is dropped";
  EXPECT_TRUE(seen.done);
  EXPECT_EQ(script.extend_calls.load(), 0);
}

// --- The whole feature, through the rate_limit filter (needs its StreamBudget side).

// A daily token budget per client address that leaves room for `completion` tokens after
// the prompt of kStreamChat; requests without max_tokens reserve 8.
std::string WalletLimits(int64_t completion, std::string_view action) {
  return "limits:\n"
         "  default_max_tokens: 8\n"
         "  policies:\n"
         "    - name: wallet\n"
         "      per: [client_ip]\n"
         "      budget: {tokens: " +
         std::to_string(PromptEstimate(kStreamChat) + completion) +
         ", per: day}\n"
         "      on_budget_exceeded: " +
         std::string(action) + "\n";
}

const std::string kRateLimitChain = "  - rate_limit: {}\n";

TEST(BudgetCut, StreamIsCutAtTheCapOfATokenBudget) {
  // 8 reserved at admission + one step of 16 the budget can still pay: 24 tokens.
  constexpr int kRoom = 24;
  UpstreamLog log;
  log.expect_cut = true;
  FakeUpstream upstream(StreamForty(log, PromptEstimate(kStreamChat)));
  BudgetGateway gateway(upstream, kRateLimitChain, WalletLimits(kRoom, "cut"));
  TestClient client(gateway.port());
  Seen seen = ReadStream(client, "/v1/chat/completions", kStreamChat, "wallet-cut-1");
  EXPECT_EQ(seen.status, 200);
  EXPECT_EQ(seen.contents, FirstContents(kRoom));
  ExpectBudgetErrorEvent(seen);
  auto records = gateway.Journaled();
  ASSERT_TRUE(records.contains("wallet-cut-1"));
  const UsageRecord& record = records["wallet-cut-1"];
  EXPECT_EQ(record.completion_tokens, kRoom) << "the recorded usage is what was delivered";
  EXPECT_EQ(record.prompt_tokens, PromptEstimate(kStreamChat));
  EXPECT_TRUE(record.tokens_estimated);
  EXPECT_EQ(record.error_class, "budget_exceeded");
  EXPECT_TRUE(FakeUpstream::WaitUntil([&] { return log.closed_by_gateway.load() == 1; }))
      << "the upstream is aborted at the cut";
  // The budget is spent exactly: the next request is refused before it reaches the upstream.
  client.Send(JsonRequest("/v1/chat/completions", kStreamChat));
  auto refused = client.ReadResponse();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429) << refused->body;
  EXPECT_NE(refused->body.find("insufficient_quota"), std::string::npos) << refused->body;
  EXPECT_EQ(upstream.requests(), 1);
}

TEST(BudgetCut, FinishPolicyLetsTheStreamEndOverTheBudget) {
  constexpr int kRoom = 24;
  UpstreamLog log;
  FakeUpstream upstream(StreamForty(log, PromptEstimate(kStreamChat)));
  BudgetGateway gateway(upstream, kRateLimitChain, WalletLimits(kRoom, "finish"));
  TestClient client(gateway.port());
  Seen seen = ReadStream(client, "/v1/chat/completions", kStreamChat, "wallet-finish-1");
  EXPECT_EQ(seen.contents, FirstContents(kChunks));
  EXPECT_TRUE(seen.done);
  EXPECT_FALSE(seen.error);
  EXPECT_TRUE(FakeUpstream::WaitUntil([&] { return log.finished.load() == 1; }));
  EXPECT_EQ(log.closed_by_gateway.load(), 0);
  auto records = gateway.Journaled();
  ASSERT_TRUE(records.contains("wallet-finish-1"));
  const UsageRecord& record = records["wallet-finish-1"];
  EXPECT_EQ(record.completion_tokens, kChunks);
  EXPECT_FALSE(record.tokens_estimated);
  EXPECT_TRUE(record.error_class.empty());
  EXPECT_GT(record.prompt_tokens + record.completion_tokens, PromptEstimate(kStreamChat) + kRoom)
      << "the settled usage exceeds the budget";
  client.Send(JsonRequest("/v1/chat/completions", kStreamChat));
  auto refused = client.ReadResponse();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429) << "the budget is overdrawn: " << refused->body;
}

TEST(BudgetCut, StreamWithinItsReservationIsUntouched) {
  UpstreamLog log;
  FakeUpstream upstream(StreamForty(log, PromptEstimate(kStreamChat)));
  // max_tokens 40 reserves the whole stream, and the budget holds exactly that.
  BudgetGateway gateway(upstream, kRateLimitChain, WalletLimits(kChunks, "cut"));
  constexpr std::string_view kReserved =
      R"({"model":"m","stream":true,"max_tokens":40,"messages":[{"role":"user","content":"hello"}]})";
  ASSERT_EQ(PromptEstimate(kReserved), PromptEstimate(kStreamChat));
  TestClient client(gateway.port());
  Seen seen = ReadStream(client, "/v1/chat/completions", kReserved, "wallet-within-1");
  EXPECT_EQ(seen.contents, FirstContents(kChunks));
  EXPECT_TRUE(seen.done);
  EXPECT_FALSE(seen.error);
  EXPECT_TRUE(FakeUpstream::WaitUntil([&] { return log.finished.load() == 1; }));
  auto records = gateway.Journaled();
  ASSERT_TRUE(records.contains("wallet-within-1"));
  EXPECT_EQ(records["wallet-within-1"].completion_tokens, kChunks);
  EXPECT_FALSE(records["wallet-within-1"].tokens_estimated);
  EXPECT_TRUE(records["wallet-within-1"].error_class.empty());
}

}  // namespace
}  // namespace sluice::testing
