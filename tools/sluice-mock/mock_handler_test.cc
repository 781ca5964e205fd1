// Tests of sluice-mock's request handling without sockets (mock_handler.h): response
// shapes, stream chunks, usage, truncation, overrides, faults, auth and embeddings.
#include "mock_handler.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <memory>

#include "core/request_context.h"
#include "http/sse.h"
#include "mock_embeddings.h"
#include "mock_test_util.h"
#include "mock_text.h"

namespace sluice {
namespace {
namespace json = boost::json;

struct Result {
  ResponsePlan plan;
  mocktest::Response response;
  std::vector<std::string> events;  // SSE data payloads (streams)
  json::value body;                 // parsed JSON body (non-streams)
};

class MockHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override { Rebuild(); }

  // Re-creates the service after a test changed config_.
  void Rebuild() {
    service_.reset();
    catalog_ = std::make_unique<MockCatalog>(config_);
    stats_ = std::make_unique<StatsRegistry>(1);
    service_ = std::make_unique<MockService>(*catalog_, *stats_, 0);
  }

  Result Call(std::string_view method, std::string_view path, std::string_view body = {},
              std::string_view authorization = {}) {
    HttpRequest request;
    request.method_text = method;
    request.method = ParseMethod(method);
    request.target = path;
    request.path = path;
    request.body = body;
    if (!authorization.empty()) request.headers.Add("Authorization", authorization);
    Result result;
    std::string out;
    StreamEmitter emitter;
    service_->Handle(request, out, result.plan, emitter);
    if (result.plan.kind == ResponsePlan::Kind::kStream) {
      // What the connection does when every delay is zero and no reset is planned.
      for (int64_t i = 0; i < result.plan.tokens; ++i) {
        if (i == 0) emitter.AppendStart(out);
        emitter.AppendToken(out, i);
      }
      if (result.plan.tokens == 0) emitter.AppendStart(out);
      emitter.AppendEnd(out);
    }
    size_t used = mocktest::ParseResponse(out, result.response);
    EXPECT_EQ(used, out.size()) << out;
    if (result.plan.kind == ResponsePlan::Kind::kStream) {
      result.events = mocktest::SseData(result.response.body);
    } else if (!result.response.body.empty()) {
      json::error_code ec;
      result.body = json::parse(result.response.body, ec);
      EXPECT_FALSE(ec) << result.response.body;
    }
    return result;
  }

  Result Post(std::string_view path, std::string_view body) { return Call("POST", path, body); }

  static std::string Expected(int64_t n) {
    std::string text;
    AppendContent(text, n);
    return text;
  }

  // Checks a chat stream's chunks and returns the concatenated content deltas.
  static std::string CheckChatStream(const Result& r, bool include_usage,
                                     std::string_view finish_reason, std::string_view model) {
    EXPECT_EQ(r.response.status, 200);
    EXPECT_TRUE(r.response.chunked);
    EXPECT_EQ(r.response.content_type, "text/event-stream; charset=utf-8");
    EXPECT_GE(r.events.size(), 3u);
    EXPECT_EQ(r.events.back(), "[DONE]");
    std::string content, id;
    int64_t created = 0;
    size_t json_events = r.events.size() - 1;
    for (size_t i = 0; i < json_events; ++i) {
      json::object chunk = json::parse(r.events[i]).as_object();
      EXPECT_EQ(chunk.at("object"), "chat.completion.chunk");
      EXPECT_EQ(chunk.at("model").as_string(), model);
      if (i == 0) {
        id = chunk.at("id").as_string().c_str();
        created = chunk.at("created").as_int64();
        EXPECT_EQ(id.rfind("chatcmpl-", 0), 0u);
      }
      EXPECT_EQ(chunk.at("id").as_string(), id);
      EXPECT_EQ(chunk.at("created"), created);
      bool usage_chunk = include_usage && i + 1 == json_events;
      if (!include_usage) {
        EXPECT_FALSE(chunk.contains("usage")) << r.events[i];
      }
      const json::array& choices = chunk.at("choices").as_array();
      if (usage_chunk) {
        EXPECT_TRUE(choices.empty());
        EXPECT_TRUE(chunk.at("usage").is_object());
        continue;
      }
      if (include_usage) {
        EXPECT_TRUE(chunk.at("usage").is_null()) << r.events[i];
      }
      EXPECT_EQ(choices.size(), 1u);
      const json::object& choice = choices[0].as_object();
      EXPECT_EQ(choice.at("index"), 0);
      EXPECT_TRUE(choice.at("logprobs").is_null());
      const json::object& delta = choice.at("delta").as_object();
      bool finish_chunk = i + 1 == json_events - (include_usage ? 1 : 0);
      if (i == 0) {
        EXPECT_EQ(delta, json::parse(R"({"role":"assistant","content":""})").as_object());
        EXPECT_TRUE(choice.at("finish_reason").is_null());
      } else if (finish_chunk) {
        EXPECT_TRUE(delta.empty());
        EXPECT_EQ(choice.at("finish_reason").as_string(), finish_reason);
      } else {
        EXPECT_EQ(delta.size(), 1u);
        content += delta.at("content").as_string().c_str();
        EXPECT_TRUE(choice.at("finish_reason").is_null());
      }
    }
    return content;
  }

  MockConfig config_;
  std::unique_ptr<MockCatalog> catalog_;
  std::unique_ptr<StatsRegistry> stats_;
  std::unique_ptr<MockService> service_;
};

constexpr std::string_view kChat = "/v1/chat/completions";
constexpr std::string_view kCompletions = "/v1/completions";

// A chat body for model "m" with one user message "x" and the `extra` fields.
std::string ChatBody(std::string_view extra = {}) {
  std::string body = R"({"model":"m","messages":[{"role":"user","content":"x"}])";
  if (!extra.empty()) body.append(",").append(extra);
  return body + "}";
}

TEST_F(MockHandlerTest, ChatNonStreamHasOpenAiShapeAndUsage) {
  Result r =
      Post(kChat, R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi there!"}]})");
  ASSERT_EQ(r.response.status, 200);
  EXPECT_EQ(r.response.content_type, "application/json");
  EXPECT_EQ(r.plan.kind, ResponsePlan::Kind::kWrite);
  const json::object& body = r.body.as_object();
  EXPECT_EQ(std::string(body.at("id").as_string()).rfind("chatcmpl-", 0), 0u);
  EXPECT_EQ(body.at("object"), "chat.completion");
  EXPECT_EQ(body.at("model"), "gpt-4o-mini");
  EXPECT_TRUE(body.at("created").is_int64());
  const json::object& choice = body.at("choices").at(0).as_object();
  EXPECT_EQ(choice.at("index"), 0);
  EXPECT_EQ(choice.at("message").at("role"), "assistant");
  EXPECT_EQ(choice.at("message").at("content").as_string(), Expected(16));
  EXPECT_EQ(choice.at("message").at("content"),
            "Hello from the simulated upstream model server. This deterministic reply is "
            "generated one token at a");
  EXPECT_EQ(choice.at("finish_reason"), "stop");
  // "Hi there!" is 9 bytes: ceil(9 / 4) = 3 prompt tokens.
  EXPECT_EQ(body.at("usage"),
            json::parse(R"({"prompt_tokens":3,"completion_tokens":16,"total_tokens":19})"));
}

TEST_F(MockHandlerTest, StreamDeltasConcatenateToTheNonStreamContent) {
  for (int tokens : {0, 1, 5, 40}) {
    for (bool usage : {false, true}) {
      std::string params =
          R"("model":"m","messages":[{"role":"user","content":"abcde"}],"mock":{"tokens":)" +
          std::to_string(tokens) + "}";
      Result whole = Post(kChat, "{" + params + "}");
      Result stream =
          Post(kChat, "{" + params + R"(,"stream":true,"stream_options":{"include_usage":)" +
                          (usage ? "true" : "false") + "}}");
      ASSERT_EQ(stream.plan.kind, ResponsePlan::Kind::kStream);
      std::string deltas = CheckChatStream(stream, usage, "stop", "m");
      EXPECT_EQ(deltas, whole.body.at("choices").at(0).at("message").at("content").as_string())
          << tokens;
      EXPECT_EQ(deltas, Expected(tokens));
      // One role chunk, one chunk per token, the finish chunk, the usage chunk, [DONE].
      EXPECT_EQ(stream.events.size(), static_cast<size_t>(tokens) + 3 + (usage ? 1 : 0));
      if (usage) {
        json::value last = json::parse(stream.events[stream.events.size() - 2]);
        EXPECT_EQ(last.at("usage"), whole.body.at("usage"));
        // The gateway's own usage extractor reads the same numbers.
        Usage extracted;
        ASSERT_TRUE(ExtractUsage(stream.events[stream.events.size() - 2], extracted));
        EXPECT_EQ(extracted.prompt_tokens, 2);
        EXPECT_EQ(extracted.completion_tokens, tokens);
        EXPECT_EQ(extracted.total_tokens, 2 + tokens);
      }
    }
  }
}

TEST_F(MockHandlerTest, MaxTokensTruncateWithFinishReasonLength) {
  struct Case {
    std::string limits;
    int64_t tokens;
    std::string finish;
  };
  for (const Case& c :
       {Case{R"("max_tokens":5)", 5, "length"},
        Case{R"("max_completion_tokens":3,"max_tokens":10)", 3, "length"},
        Case{R"("max_tokens":16)", 16, "stop"}, Case{R"("max_completion_tokens":100)", 16, "stop"},
        Case{R"("max_tokens":null)", 16, "stop"}}) {
    Result whole = Post(kChat, ChatBody(c.limits));
    const json::value& choice = whole.body.at("choices").at(0);
    EXPECT_EQ(choice.at("finish_reason").as_string(), c.finish) << c.limits;
    EXPECT_EQ(choice.at("message").at("content").as_string(), Expected(c.tokens)) << c.limits;
    EXPECT_EQ(whole.body.at("usage").at("completion_tokens"), c.tokens) << c.limits;
    Result stream = Post(kChat, ChatBody(c.limits + R"(,"stream":true)"));
    EXPECT_EQ(CheckChatStream(stream, false, c.finish, "m"), Expected(c.tokens)) << c.limits;
  }
  for (const char* bad : {R"("max_tokens":0)", R"("max_tokens":-3)", R"("max_tokens":"5")",
                          R"("max_completion_tokens":1.5)"}) {
    Result r = Post(kChat, ChatBody(bad));
    EXPECT_EQ(r.response.status, 400) << bad;
  }
}

TEST_F(MockHandlerTest, LegacyCompletionsStreamAndNonStream) {
  std::string params = R"("model":"davinci","prompt":["abcd","efgh1"],"max_tokens":7)";
  Result whole = Post(kCompletions, "{" + params + "}");
  ASSERT_EQ(whole.response.status, 200);
  EXPECT_EQ(whole.body.at("object"), "text_completion");
  EXPECT_EQ(std::string(whole.body.at("id").as_string()).rfind("cmpl-", 0), 0u);
  const json::value& choice = whole.body.at("choices").at(0);
  EXPECT_EQ(choice.at("text").as_string(), Expected(7));
  EXPECT_EQ(choice.at("index"), 0);
  EXPECT_TRUE(choice.at("logprobs").is_null());
  EXPECT_EQ(choice.at("finish_reason"), "length");
  EXPECT_EQ(whole.body.at("usage"),
            json::parse(R"({"prompt_tokens":3,"completion_tokens":7,"total_tokens":10})"));

  Result stream = Post(kCompletions,
                       "{" + params + R"(,"stream":true,"stream_options":{"include_usage":true}})");
  ASSERT_EQ(stream.plan.kind, ResponsePlan::Kind::kStream);
  ASSERT_EQ(stream.events.size(), 7u + 3u);  // tokens, finish, usage, [DONE]; no role chunk
  std::string text;
  for (size_t i = 0; i < 7; ++i) {
    json::value chunk = json::parse(stream.events[i]);
    EXPECT_EQ(chunk.at("object"), "text_completion");
    EXPECT_TRUE(chunk.at("usage").is_null());
    EXPECT_TRUE(chunk.at("choices").at(0).at("finish_reason").is_null());
    text += chunk.at("choices").at(0).at("text").as_string().c_str();
  }
  EXPECT_EQ(text, choice.at("text").as_string());
  json::value finish = json::parse(stream.events[7]);
  EXPECT_EQ(finish.at("choices").at(0).at("text"), "");
  EXPECT_EQ(finish.at("choices").at(0).at("finish_reason"), "length");
  json::value usage = json::parse(stream.events[8]);
  EXPECT_TRUE(usage.at("choices").as_array().empty());
  EXPECT_EQ(usage.at("usage"), whole.body.at("usage"));
  EXPECT_EQ(stream.events[9], "[DONE]");
}

TEST_F(MockHandlerTest, ResponseBytesSizesTheContent) {
  Result r = Post(kChat, ChatBody(R"("mock":{"response_bytes":1400})"));
  std::string content(r.body.at("choices").at(0).at("message").at("content").as_string());
  EXPECT_GE(content.size(), 1400u);
  EXPECT_LT(content.size(), 1400u + 16u);
  EXPECT_EQ(r.body.at("usage").at("completion_tokens"), TokensForBytes(1400));
  Result stream = Post(kChat, ChatBody(R"("stream":true,"mock":{"response_bytes":1400})"));
  EXPECT_EQ(CheckChatStream(stream, false, "stop", "m"), content);
  config_.response_bytes = 200;
  Rebuild();
  Result flag = Post(kChat, ChatBody());
  EXPECT_EQ(flag.body.at("usage").at("completion_tokens"), TokensForBytes(200));
  Result flag_stream = Post(kChat, ChatBody(R"("stream":true)"));
  EXPECT_EQ(flag_stream.plan.tokens, 16);  // --response-bytes leaves streams at --tokens
}

TEST_F(MockHandlerTest, StreamPlanCarriesTimingAndResetOverrides) {
  config_.ttft_ms = 1;
  config_.itl_ms = 2;
  config_.jitter_ms = 3;
  Rebuild();
  Result flags = Post(kChat, ChatBody(R"("stream":true)"));
  EXPECT_EQ(flags.plan.ttft, std::chrono::milliseconds(1));
  EXPECT_EQ(flags.plan.itl, std::chrono::milliseconds(2));
  EXPECT_EQ(flags.plan.jitter_us, 3000);
  EXPECT_EQ(flags.plan.reset_after, -1);
  Result over = Post(kChat, ChatBody(R"("stream":true,
      "mock":{"tokens":64,"ttft_ms":5,"itl_ms":20,"reset_after":3})"));
  EXPECT_EQ(over.plan.tokens, 64);
  EXPECT_EQ(over.plan.ttft, std::chrono::milliseconds(5));
  EXPECT_EQ(over.plan.itl, std::chrono::milliseconds(20));
  EXPECT_EQ(over.plan.reset_after, 3);
  EXPECT_EQ(stats_->Sum().streams_started, 2u);

  config_.reset_rate = 1.0;
  config_.reset_after = 7;
  Rebuild();
  Result random = Post(kChat, ChatBody(R"("stream":true)"));
  EXPECT_EQ(random.plan.reset_after, 7);
}

TEST_F(MockHandlerTest, LatencyAndNonStreamReset) {
  Result r = Post(kChat, ChatBody(R"("mock":{"latency_ms":25})"));
  EXPECT_EQ(r.plan.kind, ResponsePlan::Kind::kWrite);
  EXPECT_EQ(r.plan.delay, std::chrono::milliseconds(25));
  HttpRequest request;
  request.method = Method::kPost;
  request.method_text = "POST";
  request.path = kChat;
  std::string body = ChatBody(R"("mock":{"reset_after":0})");
  request.body = body;
  std::string out;
  ResponsePlan plan;
  StreamEmitter emitter;
  service_->Handle(request, out, plan, emitter);
  EXPECT_EQ(plan.kind, ResponsePlan::Kind::kReset);
  EXPECT_TRUE(out.empty());
}

TEST_F(MockHandlerTest, InjectedErrorsUseTheStatusAndOpenAiShape) {
  Result forced = Post(kChat, ChatBody(R"("stream":true,"mock":{"status":503})"));
  EXPECT_EQ(forced.response.status, 503);
  EXPECT_EQ(forced.plan.kind, ResponsePlan::Kind::kWrite);
  const json::object& error = forced.body.at("error").as_object();
  EXPECT_EQ(error.size(), 4u);
  EXPECT_EQ(error.at("type"), "server_error");
  EXPECT_TRUE(error.at("param").is_null());
  EXPECT_EQ(stats_->Sum().errors_injected, 1u);
  EXPECT_EQ(stats_->Sum().streams_started, 0u);

  config_.error_rate = 1.0;
  config_.error_status = 429;
  Rebuild();
  for (std::string_view path : {kChat, kCompletions}) {
    Result r = Post(path, ChatBody());
    EXPECT_EQ(r.response.status, 429);
    EXPECT_EQ(r.body.at("error").at("type"), "rate_limit_error");
  }
  EXPECT_EQ(Call("GET", "/v1/models").response.status, 429);
  EXPECT_EQ(Call("GET", "/health").response.status, 200);  // never on the mock's own paths
  EXPECT_EQ(stats_->Sum().errors_injected, 3u);

  config_.error_rate = 0.5;
  config_.seed = 42;
  Rebuild();
  int errors = 0;
  for (int i = 0; i < 400; ++i) errors += Call("GET", "/v1/models").response.status == 429;
  EXPECT_GT(errors, 120);
  EXPECT_LT(errors, 280);
}

TEST_F(MockHandlerTest, ClientErrors) {
  struct Case {
    std::string_view method, path;
    std::string body;
    int status;
    const char* param;  // nullptr: null
  };
  const Case cases[] = {
      {"POST", kChat, "{bad json", 400, nullptr},
      {"POST", kChat, "[1,2]", 400, nullptr},
      {"POST", kChat, R"({"messages":[{"role":"user","content":"x"}]})", 400, "model"},
      {"POST", kChat, R"({"model":"","messages":[{"role":"user","content":"x"}]})", 400, "model"},
      {"POST", kChat, R"({"model":"m"})", 400, "messages"},
      {"POST", kChat, ChatBody(R"("stream":"yes")"), 400, "stream"},
      {"POST", kChat, ChatBody(R"("mock":{"tokens":-1})"), 400, "mock.tokens"},
      {"POST", kCompletions, R"({"prompt":"x"})", 400, "model"},
      {"POST", kCompletions, R"({"model":"m","prompt":5})", 400, "prompt"},
      {"POST", "/v1/embeddings", R"({"model":"m"})", 400, "input"},
      {"POST", "/v1/embeddings", R"({"input":"x"})", 400, "model"},
      {"POST", "/v1/embeddings", R"({"model":"m","input":"x","encoding_format":"hex"})", 400,
       "encoding_format"},
      {"POST", "/v1/embeddings", R"({"model":"m","input":"x","dimensions":0})", 400, "dimensions"},
      {"GET", kChat, "", 405, nullptr},
      {"POST", "/v1/models", "", 405, nullptr},
      {"POST", "/v1/unknown", "{}", 404, nullptr},
      {"GET", "/nothing", "", 404, nullptr},
  };
  for (const Case& c : cases) {
    Result r = Call(c.method, c.path, c.body);
    EXPECT_EQ(r.response.status, c.status) << c.path << " " << c.body;
    ASSERT_TRUE(r.body.is_object()) << c.body;
    const json::object& error = r.body.at("error").as_object();
    EXPECT_TRUE(error.at("message").is_string());
    EXPECT_TRUE(error.at("type").is_string());
    EXPECT_TRUE(error.contains("code"));
    if (c.param == nullptr) {
      EXPECT_TRUE(error.at("param").is_null()) << c.body;
    } else {
      EXPECT_EQ(error.at("param"), c.param) << c.body;
    }
  }
}

TEST_F(MockHandlerTest, StrictModelsRejectUnknownModels) {
  std::string body = R"({"model":"other","messages":[{"role":"user","content":"x"}]})";
  EXPECT_EQ(Post(kChat, body).body.at("model"), "other");  // echoed when not strict
  EXPECT_EQ(Call("GET", "/v1/models/other").response.status, 200);
  config_.strict_models = true;
  Rebuild();
  Result r = Post(kChat, body);
  EXPECT_EQ(r.response.status, 404);
  EXPECT_EQ(r.body.at("error").at("code"), "model_not_found");
  EXPECT_EQ(Call("GET", "/v1/models/other").response.status, 404);
  EXPECT_EQ(Post(kChat, R"({"model":"gpt-4o","messages":[{"role":"user","content":"x"}]})")
                .response.status,
            200);
}

TEST_F(MockHandlerTest, ApiKeyIsRequiredAndNeverEchoed) {
  config_.api_key = "sk-right";
  Rebuild();
  std::string body = ChatBody();
  Result missing = Call("POST", kChat, body);
  EXPECT_EQ(missing.response.status, 401);
  Result wrong = Call("POST", kChat, body, "Bearer sk-wrong-secret");
  EXPECT_EQ(wrong.response.status, 401);
  EXPECT_EQ(wrong.body.at("error").at("code"), "invalid_api_key");
  EXPECT_EQ(wrong.response.body.find("sk-wrong"), std::string::npos);
  EXPECT_EQ(Call("GET", "/v1/models", {}, "Bearer sk-wrong").response.status, 401);
  EXPECT_EQ(Call("POST", kChat, body, "Basic sk-right").response.status, 401);
  EXPECT_EQ(Call("POST", kChat, body, "Bearer sk-right").response.status, 200);
  EXPECT_EQ(Call("POST", kChat, body, "bearer sk-right").response.status, 200);
  EXPECT_EQ(Call("GET", "/health").response.status, 200);  // not under /v1/
}

TEST_F(MockHandlerTest, ModelsHealthAndStats) {
  Result models = Call("GET", "/v1/models");
  ASSERT_EQ(models.response.status, 200);
  EXPECT_EQ(models.body.at("object"), "list");
  const json::array& data = models.body.at("data").as_array();
  ASSERT_EQ(data.size(), 3u);
  EXPECT_EQ(data[0].at("id"), "gpt-4o-mini");
  EXPECT_EQ(data[0].at("object"), "model");
  EXPECT_EQ(data[2].at("id"), "text-embedding-3-small");
  Result one = Call("GET", "/v1/models/org%2Fmodel");
  EXPECT_EQ(one.body.at("id"), "org/model");
  EXPECT_EQ(Call("GET", "/health").body, json::parse(R"({"status":"ok"})"));
  Result stats = Call("GET", "/mock/stats");
  for (const char* key : {"requests", "connections_opened", "connections_active", "streams_started",
                          "streams_completed", "streams_client_aborted", "resets_injected",
                          "errors_injected", "health_checks"}) {
    EXPECT_TRUE(stats.body.at(key).is_number()) << key;
  }
  EXPECT_EQ(stats.body.at("requests"), 4);  // counted before it answers
  // HEAD: the GET response's head (with its Content-Length), no body.
  HttpRequest head;
  head.method = Method::kHead;
  head.method_text = "HEAD";
  head.path = "/health";
  std::string out;
  ResponsePlan plan;
  StreamEmitter emitter;
  service_->Handle(head, out, plan, emitter);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(out.find("Content-Length: 15\r\n"), std::string::npos);
  EXPECT_EQ(out.find("\r\n\r\n"), out.size() - 4);
}

TEST_F(MockHandlerTest, HealthStatusFromTheFlagAndChangedAtRunTime) {
  config_.health_status = 503;
  Rebuild();
  Result down = Call("GET", "/health");
  EXPECT_EQ(down.response.status, 503);
  EXPECT_EQ(down.body, json::parse(R"({"status":"unhealthy"})"));
  EXPECT_EQ(Call("GET", "/mock/health").body, json::parse(R"({"status":503})"));

  Result set = Call("POST", "/mock/health", R"({"status":200})");
  EXPECT_EQ(set.response.status, 200);
  EXPECT_EQ(set.body, json::parse(R"({"status":200})"));
  Result up = Call("GET", "/health");
  EXPECT_EQ(up.response.status, 200);
  EXPECT_EQ(up.body, json::parse(R"({"status":"ok"})"));
  EXPECT_EQ(stats_->Sum().health_checks, 2u);

  catalog_->set_health_status(502);  // what MockServer::SetHealthStatus does
  EXPECT_EQ(Call("GET", "/health").response.status, 502);

  for (std::string_view bad :
       {"", "{}", R"({"status":"503"})", R"({"status":99})", R"({"status":600})", "[503]"}) {
    Result refused = Call("POST", "/mock/health", bad);
    EXPECT_EQ(refused.response.status, 400) << bad;
    EXPECT_EQ(refused.body.at("error").at("param"), "status") << bad;
  }
  EXPECT_EQ(catalog_->health_status(), 502) << "a refused change changes nothing";
  EXPECT_EQ(Call("PUT", "/mock/health", "{}").response.status, 405);
  EXPECT_EQ(Call("POST", "/health", "{}").response.status, 405);
}

TEST_F(MockHandlerTest, EmbeddingsFloatAndBase64) {
  Result floats = Post("/v1/embeddings", R"({"model":"e","input":["abcd","efghi"]})");
  ASSERT_EQ(floats.response.status, 200);
  EXPECT_EQ(floats.body.at("data").as_array().size(), 2u);
  EXPECT_EQ(floats.body.at("data").at(1).at("index"), 1);
  EXPECT_EQ(floats.body.at("data").at(0).at("embedding").as_array().size(), 16u);
  EXPECT_EQ(floats.body.at("usage"), json::parse(R"({"prompt_tokens":3,"total_tokens":3})"));
  EXPECT_EQ(floats.body.at("model"), "e");
  Result again = Post("/v1/embeddings", R"({"model":"e","input":["abcd","efghi"]})");
  EXPECT_EQ(again.body, floats.body);

  Result b64 = Post("/v1/embeddings",
                    R"({"model":"e","input":"abcd","encoding_format":"base64","dimensions":5})");
  std::string bytes;
  ASSERT_TRUE(DecodeBase64(b64.body.at("data").at(0).at("embedding").as_string(), bytes));
  EXPECT_EQ(bytes.size(), 5u * 4u);
  Result same = Post("/v1/embeddings", R"({"model":"e","input":"abcd","dimensions":5})");
  for (size_t k = 0; k < 5; ++k) {
    float value;
    std::memcpy(&value, bytes.data() + 4 * k, 4);
    EXPECT_EQ(value, static_cast<float>(
                         same.body.at("data").at(0).at("embedding").at(k).to_number<double>()));
  }
}

}  // namespace
}  // namespace sluice
