// Tests of the route table and of ModelTableResolver (the body fields the gateway acts on:
// model, stream, stream_options.include_usage).
#include "routing/router.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <string>

#include "config/snapshot.h"
#include "routing/model_resolver.h"

namespace sluice {
namespace {

TEST(Router, RouteTable) {
  const struct {
    Method method;
    const char* path;
    RouteKind kind;
    bool allowed;
    const char* allow;
    const char* name;
    const char* param;
  } kCases[] = {
      {Method::kPost, "/v1/chat/completions", RouteKind::kChatCompletions, true, "POST",
       "chat_completions", ""},
      {Method::kPost, "/chat/completions", RouteKind::kChatCompletions, true, "POST",
       "chat_completions", ""},
      {Method::kGet, "/v1/chat/completions", RouteKind::kChatCompletions, false, "POST",
       "chat_completions", ""},
      {Method::kPost, "/v1/completions", RouteKind::kCompletions, true, "POST", "completions", ""},
      {Method::kPost, "/completions", RouteKind::kCompletions, true, "POST", "completions", ""},
      {Method::kPut, "/v1/completions", RouteKind::kCompletions, false, "POST", "completions", ""},
      {Method::kPost, "/v1/embeddings", RouteKind::kEmbeddings, true, "POST", "embeddings", ""},
      {Method::kPost, "/embeddings", RouteKind::kEmbeddings, true, "POST", "embeddings", ""},
      {Method::kGet, "/v1/models", RouteKind::kListModels, true, "GET, HEAD", "models", ""},
      {Method::kHead, "/models", RouteKind::kListModels, true, "GET, HEAD", "models", ""},
      {Method::kPost, "/v1/models", RouteKind::kListModels, false, "GET, HEAD", "models", ""},
      {Method::kGet, "/v1/models/gpt-4o", RouteKind::kRetrieveModel, true, "GET, HEAD", "model",
       "gpt-4o"},
      {Method::kGet, "/models/meta-llama/Llama-3", RouteKind::kRetrieveModel, true, "GET, HEAD",
       "model", "meta-llama/Llama-3"},
      {Method::kDelete, "/v1/models/x", RouteKind::kRetrieveModel, false, "GET, HEAD", "model",
       "x"},
      {Method::kGet, "/health/live", RouteKind::kHealthLive, true, "GET, HEAD", "health_live", ""},
      {Method::kHead, "/health/ready", RouteKind::kHealthReady, true, "GET, HEAD", "health_ready",
       ""},
      {Method::kPost, "/health/ready", RouteKind::kHealthReady, false, "GET, HEAD", "health_ready",
       ""},
      // Not routes.
      {Method::kGet, "/v1/models/", RouteKind::kNotFound, false, "", "not_found", ""},
      {Method::kGet, "/", RouteKind::kNotFound, false, "", "not_found", ""},
      {Method::kPost, "/v1", RouteKind::kNotFound, false, "", "not_found", ""},
      {Method::kPost, "/v2/chat/completions", RouteKind::kNotFound, false, "", "not_found", ""},
      {Method::kPost, "/v1/chat/completions/", RouteKind::kNotFound, false, "", "not_found", ""},
      {Method::kPost, "/V1/chat/completions", RouteKind::kNotFound, false, "", "not_found", ""},
      {Method::kPost, "/v1/v1/chat/completions", RouteKind::kNotFound, false, "", "not_found", ""},
      {Method::kGet, "/v1/health/live", RouteKind::kNotFound, false, "", "not_found", ""},
      {Method::kPost, "/v1/images/generations", RouteKind::kNotFound, false, "", "not_found", ""},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(testing::Message() << MethodName(c.method) << " " << c.path);
    RouteMatch m = MatchRoute(c.method, c.path);
    EXPECT_EQ(m.kind, c.kind);
    EXPECT_EQ(m.method_allowed, c.allowed);
    EXPECT_EQ(m.allow, c.allow);
    EXPECT_EQ(m.name, c.name);
    EXPECT_EQ(m.param, c.param);
  }
}

TEST(Router, ModelRoutes) {
  EXPECT_TRUE(IsModelRoute(RouteKind::kChatCompletions));
  EXPECT_TRUE(IsModelRoute(RouteKind::kCompletions));
  EXPECT_TRUE(IsModelRoute(RouteKind::kEmbeddings));
  EXPECT_FALSE(IsModelRoute(RouteKind::kListModels));
  EXPECT_FALSE(IsModelRoute(RouteKind::kRetrieveModel));
  EXPECT_FALSE(IsModelRoute(RouteKind::kHealthLive));
  EXPECT_FALSE(IsModelRoute(RouteKind::kNotFound));
}

class ResolverTest : public testing::Test {
 protected:
  ResolverTest() {
    auto backend = std::make_unique<BackendConfig>();
    backend->name = "local";
    auto model = std::make_unique<ModelConfig>();
    model->name = "llama";
    model->aliases = {"llama-3", "default"};
    model->backend = backend.get();
    model->upstream_model = "meta-llama/Llama-3-8B";
    snapshot_.backends.push_back(std::move(backend));
    snapshot_.models.push_back(std::move(model));
    snapshot_.Finalize();
  }

  // Resolves `body` posted to `route` on a fresh context.
  RequestContext& Resolve(RouteKind route, std::string body, std::string_view param = {}) {
    body_ = std::move(body);
    request_.Reset();
    request_.method = Method::kPost;
    request_.body = body_;
    ctx_.Begin(request_, &snapshot_, &ModelTableResolver::Instance(), SteadyTime{}, WallTime{});
    ctx_.route = route;
    ctx_.route_param = param;
    ctx_.Model();
    return ctx_;
  }

  // The pending error's status, error class and parsed body.
  void ExpectError(ErrorClass error, std::string_view param, std::string_view message_part) {
    ASSERT_TRUE(ctx_.pending_error().has_value());
    const LocalReply& reply = *ctx_.pending_error();
    EXPECT_EQ(reply.error, error);
    EXPECT_EQ(reply.status, Describe(error).status);
    boost::json::value body = boost::json::parse(reply.body);
    const boost::json::object& e = body.at("error").as_object();
    if (param.empty()) {
      EXPECT_TRUE(e.at("param").is_null());
    } else {
      EXPECT_EQ(e.at("param").as_string(), param);
    }
    EXPECT_NE(std::string(e.at("message").as_string()).find(message_part), std::string::npos)
        << e.at("message").as_string();
    EXPECT_EQ(ctx_.Model(), nullptr);
  }

  Snapshot snapshot_;
  std::string body_;
  HttpRequest request_;
  RequestContext ctx_;
};

TEST_F(ResolverTest, ResolvesNameAndAliases) {
  for (const char* name : {"llama", "llama-3", "default"}) {
    SCOPED_TRACE(name);
    RequestContext& ctx =
        Resolve(RouteKind::kChatCompletions, std::string("{\"model\":\"") + name + "\"}");
    ASSERT_NE(ctx.Model(), nullptr);
    EXPECT_EQ(ctx.Model()->name, "llama");
    EXPECT_EQ(ctx.requested_model, name);
    EXPECT_FALSE(ctx.pending_error().has_value());
    EXPECT_FALSE(ctx.stream);
    EXPECT_FALSE(ctx.client_wants_usage);
  }
}

TEST_F(ResolverTest, InvalidJson) {
  for (const char* body : {"", "{", "{\"model\":}", "not json", "{\"model\":\"llama\"} trailing"}) {
    SCOPED_TRACE(body);
    Resolve(RouteKind::kChatCompletions, body);
    ExpectError(ErrorClass::kInvalidJson, "", "could not parse the JSON body");
  }
}

TEST_F(ResolverTest, NonObjectBody) {
  for (const char* body : {"[]", "\"llama\"", "42", "null", "[{\"model\":\"llama\"}]"}) {
    SCOPED_TRACE(body);
    Resolve(RouteKind::kEmbeddings, body);
    ExpectError(ErrorClass::kInvalidJson, "", "must be a JSON object");
  }
}

TEST_F(ResolverTest, MissingOrNullModel) {
  for (const char* body : {"{}", "{\"model\":null}", "{\"messages\":[]}"}) {
    SCOPED_TRACE(body);
    Resolve(RouteKind::kChatCompletions, body);
    ExpectError(ErrorClass::kInvalidRequest, "model", "you must provide a model parameter");
  }
}

TEST_F(ResolverTest, NonStringModel) {
  for (const char* body : {"{\"model\":5}", "{\"model\":true}", "{\"model\":[\"llama\"]}",
                           "{\"model\":{\"name\":\"llama\"}}", "{\"model\":\"\"}"}) {
    SCOPED_TRACE(body);
    Resolve(RouteKind::kChatCompletions, body);
    ExpectError(ErrorClass::kInvalidRequest, "model", "must be a non-empty string");
  }
}

TEST_F(ResolverTest, UnknownModelIs404ModelNotFound) {
  RequestContext& ctx = Resolve(RouteKind::kCompletions, R"({"model":"gpt-5","prompt":"x"})");
  ExpectError(ErrorClass::kModelNotFound, "model", "The model `gpt-5` does not exist");
  EXPECT_EQ(ctx.pending_error()->status, 404);
  EXPECT_EQ(ctx.requested_model, "gpt-5");
  boost::json::value body = boost::json::parse(ctx.pending_error()->body);
  EXPECT_EQ(body.at("error").at("code").as_string(), "model_not_found");
  // Upstream names are not public names; names are case-sensitive.
  Resolve(RouteKind::kCompletions, R"({"model":"meta-llama/Llama-3-8B"})");
  ExpectError(ErrorClass::kModelNotFound, "model", "meta-llama/Llama-3-8B");
  Resolve(RouteKind::kCompletions, R"({"model":"LLAMA"})");
  ExpectError(ErrorClass::kModelNotFound, "model", "`LLAMA`");
}

TEST_F(ResolverTest, StreamFlag) {
  const struct {
    const char* body;
    RouteKind route;
    bool ok;
    bool stream;
    bool usage;
  } kCases[] = {
      {R"({"model":"llama","stream":true})", RouteKind::kChatCompletions, true, true, false},
      {R"({"model":"llama","stream":false})", RouteKind::kChatCompletions, true, false, false},
      {R"({"model":"llama","stream":null})", RouteKind::kChatCompletions, true, false, false},
      {R"({"model":"llama"})", RouteKind::kCompletions, true, false, false},
      {R"({"model":"llama","stream":true})", RouteKind::kCompletions, true, true, false},
      // Embeddings never stream, whatever the body says.
      {R"({"model":"llama","stream":true})", RouteKind::kEmbeddings, true, false, false},
      {R"({"model":"llama","stream":"yes"})", RouteKind::kChatCompletions, false, false, false},
      {R"({"model":"llama","stream":1})", RouteKind::kChatCompletions, false, false, false},
      {R"({"model":"llama","stream":{}})", RouteKind::kChatCompletions, false, false, false},
      // stream_options.include_usage
      {R"({"model":"llama","stream":true,"stream_options":{"include_usage":true}})",
       RouteKind::kChatCompletions, true, true, true},
      {R"({"model":"llama","stream":true,"stream_options":{"include_usage":false}})",
       RouteKind::kChatCompletions, true, true, false},
      {R"({"model":"llama","stream":true,"stream_options":{"include_usage":"true"}})",
       RouteKind::kChatCompletions, true, true, false},
      {R"({"model":"llama","stream":true,"stream_options":null})", RouteKind::kChatCompletions,
       true, true, false},
      {R"({"model":"llama","stream":true,"stream_options":{}})", RouteKind::kChatCompletions, true,
       true, false},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.body);
    RequestContext& ctx = Resolve(c.route, c.body);
    if (c.ok) {
      EXPECT_FALSE(ctx.pending_error().has_value());
      EXPECT_NE(ctx.Model(), nullptr);
      EXPECT_EQ(ctx.stream, c.stream);
      EXPECT_EQ(ctx.client_wants_usage, c.usage);
    } else {
      ExpectError(ErrorClass::kInvalidRequest, "stream", "'stream' must be a boolean");
    }
  }
}

TEST_F(ResolverTest, UnknownModelStillReadsStreamFlag) {
  // The error for an unknown model is written as a stream or not depending on the request.
  RequestContext& ctx = Resolve(RouteKind::kChatCompletions, R"({"model":"nope","stream":true})");
  EXPECT_TRUE(ctx.stream);
  ExpectError(ErrorClass::kModelNotFound, "model", "nope");
}

TEST_F(ResolverTest, RetrieveModelUsesThePathParameter) {
  RequestContext& ctx = Resolve(RouteKind::kRetrieveModel, "", "llama-3");
  ASSERT_NE(ctx.Model(), nullptr);
  EXPECT_EQ(ctx.Model()->name, "llama");
  EXPECT_EQ(ctx.requested_model, "llama-3");
  Resolve(RouteKind::kRetrieveModel, "", "gpt-5");
  ExpectError(ErrorClass::kModelNotFound, "model", "gpt-5");
}

TEST_F(ResolverTest, NonModelRoutesResolveNothing) {
  for (RouteKind route : {RouteKind::kListModels, RouteKind::kHealthLive, RouteKind::kNotFound}) {
    RequestContext& ctx = Resolve(route, "not json at all");
    EXPECT_EQ(ctx.Model(), nullptr);
    EXPECT_FALSE(ctx.pending_error().has_value());
  }
}

TEST_F(ResolverTest, ResolutionIsLazyAndHappensOnce) {
  body_ = R"({"model":"llama"})";
  request_.Reset();
  request_.body = body_;
  ctx_.Begin(request_, &snapshot_, &ModelTableResolver::Instance(), SteadyTime{}, WallTime{});
  ctx_.route = RouteKind::kChatCompletions;
  EXPECT_TRUE(ctx_.requested_model.empty());  // nothing parsed before the first Model() call
  const ModelConfig* first = ctx_.Model();
  ASSERT_NE(first, nullptr);
  ctx_.JsonBody()->erase("model");  // a filter rewriting the body does not re-resolve
  EXPECT_EQ(ctx_.Model(), first);
  EXPECT_EQ(ctx_.requested_model, "llama");  // still valid: the arena keeps the text
}

TEST_F(ResolverTest, ContextIsReusableAcrossRequests) {
  Resolve(RouteKind::kChatCompletions, R"({"model":"nope"})");
  ASSERT_TRUE(ctx_.pending_error().has_value());
  RequestContext& ctx = Resolve(RouteKind::kChatCompletions, R"({"model":"llama","stream":true})");
  EXPECT_FALSE(ctx.pending_error().has_value());
  EXPECT_NE(ctx.Model(), nullptr);
  EXPECT_TRUE(ctx.stream);
}

}  // namespace
}  // namespace sluice
