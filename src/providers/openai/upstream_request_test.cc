// Tests of the OpenAI-compatible dialect: upstream body rewriting (model name, forced
// stream usage), the upstream request head (read back with the strict request parser),
// the usage-only chunk detector and the response header allowlist.
#include "providers/openai/upstream_request.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "http/http_parser.h"
#include "routing/model_resolver.h"

namespace sluice {
namespace {

class UpstreamRequestTest : public testing::Test {
 protected:
  UpstreamRequestTest() {
    auto backend = std::make_unique<BackendConfig>();
    backend->name = "local";
    backend->host_header = "127.0.0.1:8000";
    backend->base_path = "/v1";
    backend_ = backend.get();
    auto same = std::make_unique<ModelConfig>();
    same->name = "llama";
    same->backend = backend_;
    same->upstream_model = "llama";
    auto renamed = std::make_unique<ModelConfig>();
    renamed->name = "fast";
    renamed->aliases = {"quick"};
    renamed->backend = backend_;
    renamed->upstream_model = "meta-llama/Llama-3-8B-Instruct";
    snapshot_.backends.push_back(std::move(backend));
    snapshot_.models.push_back(std::move(same));
    snapshot_.models.push_back(std::move(renamed));
    snapshot_.Finalize();
  }

  // Resolves `body` for `route` and returns the upstream body, parsed.
  boost::json::object UpstreamBody(std::string body,
                                   RouteKind route = RouteKind::kChatCompletions) {
    body_ = std::move(body);
    request_.Reset();
    request_.body = body_;
    ctx_.Begin(request_, &snapshot_, &ModelTableResolver::Instance(), SteadyTime{}, WallTime{});
    ctx_.route = route;
    const ModelConfig* model = ctx_.Model();
    EXPECT_NE(model, nullptr);
    if (model == nullptr) return {};
    std::string out = "stale";
    BuildUpstreamBody(ctx_, *model, out);
    boost::json::value v = boost::json::parse(out);
    return v.as_object();
  }

  std::string Head(size_t body_size) {
    std::string out = "stale";
    BuildUpstreamHead(ctx_, *backend_, body_size, out);
    return out;
  }

  Snapshot snapshot_;
  BackendConfig* backend_ = nullptr;
  std::string body_;
  HttpRequest request_;
  RequestContext ctx_;
};

TEST_F(UpstreamRequestTest, ModelIsRewrittenToTheUpstreamName) {
  for (const char* model : {"fast", "quick"}) {
    SCOPED_TRACE(model);
    boost::json::object body =
        UpstreamBody(std::string("{\"model\":\"") + model +
                     "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
    EXPECT_EQ(body.at("model").as_string(), "meta-llama/Llama-3-8B-Instruct");
    EXPECT_EQ(body.at("messages").as_array().size(), 1u);
    EXPECT_FALSE(body.contains("stream_options"));
  }
  boost::json::object same = UpstreamBody(R"({"model":"llama","temperature":0.5})");
  EXPECT_EQ(same.at("model").as_string(), "llama");
  EXPECT_EQ(same.at("temperature").as_double(), 0.5);
}

TEST_F(UpstreamRequestTest, UnknownFieldsAreKept) {
  boost::json::object body = UpstreamBody(
      R"({"model":"fast","x_vendor":{"a":[1,2,{"b":null}]},"n":2,"logit_bias":{"50256":-100},)"
      R"("text":"caf\u00e9 \"q\" \n"})");
  EXPECT_EQ(boost::json::serialize(body.at("x_vendor")), R"({"a":[1,2,{"b":null}]})");
  EXPECT_EQ(body.at("n").as_int64(), 2);
  EXPECT_EQ(body.at("logit_bias").at("50256").as_int64(), -100);
  EXPECT_EQ(body.at("text").as_string(), "caf\xC3\xA9 \"q\" \n");
  EXPECT_EQ(body.size(), 5u);
}

TEST_F(UpstreamRequestTest, StreamsForceIncludeUsage) {
  const struct {
    const char* body;
    const char* expected_options;  // serialized stream_options upstream, "" when absent
  } kCases[] = {
      {R"({"model":"fast","stream":true})", R"({"include_usage":true})"},
      {R"({"model":"fast","stream":true,"stream_options":null})", R"({"include_usage":true})"},
      {R"({"model":"fast","stream":true,"stream_options":"bogus"})", R"({"include_usage":true})"},
      {R"({"model":"fast","stream":true,"stream_options":{"include_usage":false}})",
       R"({"include_usage":true})"},
      {R"({"model":"fast","stream":true,"stream_options":{"include_usage":true}})",
       R"({"include_usage":true})"},
      // Other fields of stream_options survive.
      {R"({"model":"fast","stream":true,"stream_options":{"continuous_usage_stats":true}})",
       R"({"continuous_usage_stats":true,"include_usage":true})"},
      // Not streaming: the body keeps whatever the client sent.
      {R"({"model":"fast","stream":false})", ""},
      {R"({"model":"fast","stream_options":{"x":1}})", R"({"x":1})"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.body);
    boost::json::object body = UpstreamBody(c.body);
    if (*c.expected_options == '\0') {
      EXPECT_FALSE(body.contains("stream_options"));
    } else {
      ASSERT_TRUE(body.contains("stream_options"));
      EXPECT_EQ(boost::json::serialize(body.at("stream_options")), c.expected_options);
    }
    EXPECT_EQ(body.at("model").as_string(), "meta-llama/Llama-3-8B-Instruct");
  }
}

TEST_F(UpstreamRequestTest, EmbeddingsNeverGetStreamOptions) {
  boost::json::object body =
      UpstreamBody(R"({"model":"fast","input":"x","stream":true})", RouteKind::kEmbeddings);
  EXPECT_FALSE(body.contains("stream_options"));
  EXPECT_TRUE(body.at("stream").as_bool());  // passed through untouched
}

HttpRequest ParseHead(const std::string& head) {
  HttpRequest parsed;
  ParseError error;
  HeadScanner scanner;
  size_t size = 0;
  EXPECT_EQ(scanner.Scan(head, HeadLimits{}, true, size, error), ParseStatus::kDone);
  EXPECT_EQ(size, head.size());
  EXPECT_TRUE(ParseRequestHead(head, HeadLimits{}, parsed, error)) << error.message;
  return parsed;
}

TEST_F(UpstreamRequestTest, HeadWithoutKey) {
  UpstreamBody(R"({"model":"fast"})");
  std::string head = Head(123);
  EXPECT_EQ(head,
            "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n"
            "Content-Type: application/json\r\nContent-Length: 123\r\n"
            "Accept: application/json\r\nUser-Agent: sluice\r\n\r\n");
  HttpRequest parsed = ParseHead(head);
  EXPECT_EQ(parsed.path, "/v1/chat/completions");
  EXPECT_EQ(parsed.content_length, 123u);
  EXPECT_FALSE(parsed.headers.Has("authorization"));
}

TEST_F(UpstreamRequestTest, HeadWithKeyExtraAndFilterHeaders) {
  backend_->api_key = "sk-upstream";
  backend_->extra_headers = "X-Team: platform\r\nOpenAI-Organization: org-1\r\n";
  backend_->base_path = "";
  UpstreamBody(R"({"model":"fast","stream":true})", RouteKind::kCompletions);
  ctx_.upstream_headers.Add("X-Request-Id", "req_1");
  std::string head = Head(0);
  HttpRequest parsed = ParseHead(head);
  EXPECT_EQ(parsed.method, Method::kPost);
  EXPECT_EQ(parsed.path, "/completions");
  EXPECT_EQ(parsed.headers.Get("host"), "127.0.0.1:8000");
  EXPECT_EQ(parsed.headers.Get("content-length"), "0");
  EXPECT_EQ(parsed.headers.Get("accept"), "text/event-stream");
  EXPECT_EQ(parsed.headers.Get("authorization"), "Bearer sk-upstream");
  EXPECT_EQ(parsed.headers.Count("authorization"), 1);
  EXPECT_EQ(parsed.headers.Get("x-team"), "platform");
  EXPECT_EQ(parsed.headers.Get("openai-organization"), "org-1");
  EXPECT_EQ(parsed.headers.Get("x-request-id"), "req_1");
  EXPECT_EQ(parsed.headers.Count("host"), 1);
  EXPECT_FALSE(parsed.headers.Has("transfer-encoding"));
  EXPECT_FALSE(parsed.headers.Has("connection"));
}

TEST_F(UpstreamRequestTest, ClientHeadersAreNeverCopied) {
  // The upstream head is rebuilt from the model, so client credentials and hop-by-hop
  // headers cannot leak through.
  body_ = R"({"model":"fast"})";
  request_.Reset();
  request_.body = body_;
  request_.headers.Add("Authorization", "Bearer client-key");
  request_.headers.Add("Connection", "keep-alive, X-Secret");
  request_.headers.Add("Cookie", "a=b");
  ctx_.Begin(request_, &snapshot_, &ModelTableResolver::Instance(), SteadyTime{}, WallTime{});
  ctx_.route = RouteKind::kEmbeddings;
  std::string head = Head(2);
  EXPECT_EQ(head.find("client-key"), std::string::npos);
  EXPECT_EQ(head.find("Cookie"), std::string::npos);
  EXPECT_EQ(head.find("Connection"), std::string::npos);
  EXPECT_EQ(ParseHead(head).path, "/v1/embeddings");
}

TEST(UpstreamPath, Suffixes) {
  EXPECT_EQ(UpstreamPathSuffix(RouteKind::kChatCompletions), "/chat/completions");
  EXPECT_EQ(UpstreamPathSuffix(RouteKind::kCompletions), "/completions");
  EXPECT_EQ(UpstreamPathSuffix(RouteKind::kEmbeddings), "/embeddings");
  EXPECT_EQ(UpstreamPathSuffix(RouteKind::kListModels), "");
}

TEST(UsageOnlyChunk, Table) {
  const struct {
    const char* data;
    bool usage_only;
  } kCases[] = {
      {R"({"id":"c","choices":[],"usage":{"total_tokens":3}})", true},
      {R"({"id": "c", "choices": [ ], "usage": {"total_tokens": 3}})", true},
      {"{\"choices\" :\n[\n\t]}", true},
      {R"({"id":"c","choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null})", false},
      {R"({"choices": [ {"delta": {}} ]})", false},
      {R"({"usage":{"total_tokens":3}})", false},
      {R"({"choices":null})", false},
      {R"({"choices":[)", false},
      {"[DONE]", false},
      {"", false},
  };
  for (const auto& c : kCases) EXPECT_EQ(IsUsageOnlyChunk(c.data), c.usage_only) << c.data;
}

TEST(ForwardResponseHeader, Allowlist) {
  for (const char* name :
       {"openai-processing-ms", "OpenAI-Version", "Retry-After", "retry-after-ms"}) {
    EXPECT_TRUE(ForwardResponseHeader(name)) << name;
  }
  for (const char* name :
       {"Set-Cookie", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive",
        "Authorization", "WWW-Authenticate", "Server", "OpenAI-Organization", "X-Request-Id",
        "Date", "Content-Type", "Strict-Transport-Security", "retry-after-extra", ""}) {
    EXPECT_FALSE(ForwardResponseHeader(name)) << name;
  }
}

TEST(StripNullUsage, RemovesTheMemberAndOneComma) {
  const struct {
    const char* in;
    const char* out;
    bool changed;
  } kCases[] = {
      {R"(data: {"id":"c","choices":[],"usage":null}

)",
       R"(data: {"id":"c","choices":[]}

)",
       true},
      {R"(data: {"usage": null, "id":"c"}

)",
       R"(data: {"id":"c"}

)",
       true},
      {R"(data: {"id":"c" , "usage" : null}

)",
       R"(data: {"id":"c"}

)",
       true},
      {R"(data: {"id":"c","usage":{"prompt_tokens":1}}

)",
       R"(data: {"id":"c","usage":{"prompt_tokens":1}}

)",
       false},
      {R"(data: {"id":"c"}

)",
       R"(data: {"id":"c"}

)",
       false},
  };
  for (const auto& c : kCases) {
    std::string text = c.in;
    EXPECT_EQ(StripNullUsage(text), c.changed) << c.in;
    EXPECT_EQ(text, c.out);
  }
}
}  // namespace
}  // namespace sluice
