// Tests of the access_log filter: the line is one valid JSON object with every documented
// field, never contains the query string, and reaches its file through the factory.
#include "filters/access_log/access_log_filter.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace sluice::filters {
namespace {

using std::chrono::milliseconds;

boost::json::object ParseLine(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "exactly one line";
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(line, ec);
  EXPECT_FALSE(ec) << line;
  EXPECT_TRUE(v.is_object()) << line;
  return v.is_object() ? v.get_object() : boost::json::object();
}

const char* const kDocumentedFields[] = {
    "time",           "request_id",
    "client",         "method",
    "path",           "status",
    "model",          "backend",
    "upstream_model", "upstream_status",
    "stream",         "latency_ms",
    "ttfb_ms",        "upstream_ms",
    "bytes_in",       "bytes_out",
    "prompt_tokens",  "completion_tokens",
    "total_tokens",   "error",
    "experiment_arm", "principal",
    "key_prefix",     "user",
    "team",           "limit",
    "limit_policy",   "limit_fallback",
    "retries",        "served_model",
    "cache",          "config_version",
    "trace_id",
};

class AccessLogTest : public testing::Test {
 protected:
  AccessLogTest() {
    request_.method = Method::kPost;
    request_.method_text = "POST";
    request_.target = "/v1/chat/completions?api_key=sk-secret-in-query";
    request_.path = "/v1/chat/completions";
    request_.query = "api_key=sk-secret-in-query";
    request_.body = body_;
    SteadyTime t0 = SteadyTime{} + std::chrono::hours(1);
    // 2024-05-06T07:08:09.123Z
    WallTime wall = WallTime{} + std::chrono::seconds(1714979289) + milliseconds(123);
    ctx_.Begin(request_, nullptr, nullptr, t0, wall);
    ctx_.request_id = "req_0123";
    ctx_.client_ip = "10.1.2.3";
    ctx_.requested_model = "fast";
    ctx_.backend = "local";
    ctx_.upstream_model = "meta-llama/Llama-3";
    ctx_.experiment_arm = "canary";
    ctx_.status = 200;
    ctx_.upstream_status = 200;
    ctx_.stream = true;
    ctx_.upstream_sent = t0 + milliseconds(2);
    ctx_.upstream_first_byte = t0 + milliseconds(52);
    ctx_.first_byte_sent = t0 + milliseconds(53);
    ctx_.end = t0 + std::chrono::microseconds(1'234'567);
    ctx_.bytes_out = 4096;
    ctx_.usage.known = true;
    ctx_.usage.prompt_tokens = 11;
    ctx_.usage.completion_tokens = 22;
    ctx_.usage.total_tokens = 33;
    auto principal = std::make_shared<Principal>();
    principal->kind = Principal::Kind::kApiKey;
    principal->id = "key:key_42";
    principal->key_prefix = "sk-sl-ab12...9xyz";
    principal->user_id = "user_7";
    principal->team_id = "team_3";
    ctx_.principal = principal;
    ctx_.limit_outcome = "rejected";
    ctx_.limit_policy = "per-key";
    ctx_.limit_fallback = "local_fallback";
    ctx_.attempts = 3;
    ctx_.fell_back = true;
    ctx_.served_model = "backup";
    ctx_.config_version = 7;
    ctx_.trace.valid = true;
    for (size_t i = 0; i < 16; ++i) ctx_.trace.trace_id[i] = static_cast<uint8_t>(0xa0 + i);
  }

  std::string body_ = R"({"model":"fast"})";
  HttpRequest request_;
  RequestContext ctx_;
};

TEST_F(AccessLogTest, LineHasEveryDocumentedField) {
  std::string line;
  FormatAccessLogLine(ctx_, line);
  boost::json::object o = ParseLine(line);
  for (const char* field : kDocumentedFields) EXPECT_TRUE(o.contains(field)) << field;
  EXPECT_EQ(o.size(), std::size(kDocumentedFields)) << line;
  EXPECT_EQ(o.at("time").as_string(), "2024-05-06T07:08:09.123Z");
  EXPECT_EQ(o.at("request_id").as_string(), "req_0123");
  EXPECT_EQ(o.at("client").as_string(), "10.1.2.3");
  EXPECT_EQ(o.at("method").as_string(), "POST");
  EXPECT_EQ(o.at("path").as_string(), "/v1/chat/completions");
  EXPECT_EQ(o.at("status").as_int64(), 200);
  EXPECT_EQ(o.at("model").as_string(), "fast");
  EXPECT_EQ(o.at("backend").as_string(), "local");
  EXPECT_EQ(o.at("upstream_model").as_string(), "meta-llama/Llama-3");
  EXPECT_EQ(o.at("experiment_arm").as_string(), "canary");
  EXPECT_EQ(o.at("upstream_status").as_int64(), 200);
  EXPECT_EQ(o.at("stream").as_bool(), true);
  EXPECT_DOUBLE_EQ(o.at("latency_ms").as_double(), 1234.567);
  EXPECT_DOUBLE_EQ(o.at("ttfb_ms").as_double(), 53.0);
  EXPECT_DOUBLE_EQ(o.at("upstream_ms").as_double(), 50.0);
  EXPECT_EQ(o.at("bytes_in").as_int64(), static_cast<int64_t>(body_.size()));
  EXPECT_EQ(o.at("bytes_out").as_int64(), 4096);
  EXPECT_EQ(o.at("prompt_tokens").as_int64(), 11);
  EXPECT_EQ(o.at("completion_tokens").as_int64(), 22);
  EXPECT_EQ(o.at("total_tokens").as_int64(), 33);
  EXPECT_TRUE(o.at("error").is_null());
  EXPECT_EQ(o.at("principal").as_string(), "key:key_42");
  EXPECT_EQ(o.at("key_prefix").as_string(), "sk-sl-ab12...9xyz");
  EXPECT_EQ(o.at("user").as_string(), "user_7");
  EXPECT_EQ(o.at("team").as_string(), "team_3");
  EXPECT_EQ(o.at("limit").as_string(), "rejected");
  EXPECT_EQ(o.at("limit_policy").as_string(), "per-key");
  EXPECT_EQ(o.at("limit_fallback").as_string(), "local_fallback");
  EXPECT_EQ(o.at("retries").as_int64(), 2);
  EXPECT_EQ(o.at("served_model").as_string(), "backup");
  EXPECT_TRUE(o.at("cache").is_null());
  EXPECT_EQ(o.at("config_version").as_int64(), 7);
  EXPECT_EQ(o.at("trace_id").as_string(), "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
}

TEST_F(AccessLogTest, NeverContainsTheQueryString) {
  std::string line;
  FormatAccessLogLine(ctx_, line);
  EXPECT_EQ(line.find("sk-secret-in-query"), std::string::npos) << line;
  EXPECT_EQ(line.find('?'), std::string::npos) << line;
}

TEST_F(AccessLogTest, RejectedRequestHasNullsForWhatIsUnknown) {
  HttpRequest bad;
  bad.method_text = "G\"ET";  // whatever the client sent is escaped, never breaks the JSON
  bad.path = "/x\x01\xff";
  RequestContext ctx;
  ctx.Begin(bad, nullptr, nullptr, SteadyTime{} + milliseconds(5), WallTime{});
  ctx.status = 400;
  ctx.error = ErrorClass::kBadFraming;
  ctx.end = SteadyTime{} + milliseconds(6);
  std::string line;
  FormatAccessLogLine(ctx, line);
  boost::json::object o = ParseLine(line);
  EXPECT_EQ(o.size(), std::size(kDocumentedFields));
  EXPECT_EQ(o.at("time").as_string(), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(o.at("method").as_string(), "G\"ET");
  EXPECT_EQ(o.at("path").as_string(), "/x\x01\xEF\xBF\xBD");
  EXPECT_EQ(o.at("status").as_int64(), 400);
  EXPECT_EQ(o.at("error").as_string(), "bad_framing");
  for (const char* field : {"request_id",     "client",
                            "model",          "backend",
                            "upstream_model", "upstream_status",
                            "ttfb_ms",        "upstream_ms",
                            "prompt_tokens",  "completion_tokens",
                            "total_tokens",   "experiment_arm",
                            "principal",      "key_prefix",
                            "user",           "team",
                            "limit",          "limit_policy",
                            "limit_fallback", "served_model",
                            "cache",          "trace_id"}) {
    EXPECT_TRUE(o.at(field).is_null()) << field;
  }
  EXPECT_DOUBLE_EQ(o.at("latency_ms").as_double(), 1.0);
  EXPECT_EQ(o.at("stream").as_bool(), false);
  EXPECT_EQ(o.at("bytes_in").as_int64(), 0);
}

TEST_F(AccessLogTest, EveryErrorClassIsLoggedByName) {
  for (int i = 1; i <= static_cast<int>(ErrorClass::kInternal); ++i) {
    ctx_.error = static_cast<ErrorClass>(i);
    std::string line;
    FormatAccessLogLine(ctx_, line);
    EXPECT_EQ(ParseLine(line).at("error").as_string(), Describe(ctx_.error).name);
  }
}

TEST_F(AccessLogTest, TimingsOutOfOrderAreNull) {
  ctx_.end = ctx_.start - milliseconds(1);
  ctx_.upstream_first_byte = SteadyTime{};
  std::string line;
  FormatAccessLogLine(ctx_, line);
  boost::json::object o = ParseLine(line);
  EXPECT_TRUE(o.at("latency_ms").is_null());
  EXPECT_TRUE(o.at("upstream_ms").is_null());
}

TEST_F(AccessLogTest, FactoryWritesOneLinePerCompletedRequest) {
  std::string path = testing::TempDir() + "sluice_ut_access.log";
  std::remove(path.c_str());
  {
    AccessLogConfig config;
    config.output = path;
    std::string error;
    config.sink = LineSink::Open(path, error);
    ASSERT_NE(config.sink, nullptr) << error;
    std::shared_ptr<LineSink> sink = config.sink;
    AccessLogFilterFactory factory(std::move(config));
    EXPECT_EQ(factory.name(), "access_log");
    EXPECT_TRUE(factory.sees_rejected_requests());
    EXPECT_FALSE(factory.wants_response_body());
    for (int status : {200, 429}) {
      ctx_.status = status;
      std::unique_ptr<Filter> filter = factory.NewFilter();
      filter->OnComplete(ctx_);
    }
    sink->Flush();
    EXPECT_EQ(sink->written(), 2u);
  }
  std::ifstream in(path);
  std::string line;
  std::vector<int64_t> statuses;
  while (std::getline(in, line)) statuses.push_back(ParseLine(line + "\n").at("status").as_int64());
  EXPECT_EQ(statuses, (std::vector<int64_t>{200, 429}));
  std::remove(path.c_str());
}

// Routes listed in `payloads:` log the request body and the response, redacted; others never.
TEST_F(AccessLogTest, PayloadRoutesLogPromptAndCompletionRedacted) {
  std::string path = testing::TempDir() + "sluice_ut_access_payloads.log";
  std::remove(path.c_str());
  body_ =
      R"({"model":"fast","messages":[{"role":"user","content":"mail me at jane.doe@example.com"}]})";
  request_.body = body_;
  ctx_.route = RouteKind::kChatCompletions;
  {
    AccessLogConfig config;
    config.payload_routes = {RouteKind::kChatCompletions};
    std::string error;
    config.sink = LineSink::Open(path, error);
    ASSERT_NE(config.sink, nullptr) << error;
    std::shared_ptr<LineSink> sink = config.sink;
    AccessLogFilterFactory factory(std::move(config));
    EXPECT_TRUE(factory.wants_response_body());
    std::unique_ptr<Filter> filter = factory.NewFilter();
    std::string piece = R"(data: {"choices":[{"delta":{"content":"card 4111 1111 1111 1111"}}]})";
    filter->OnResponseBody(ctx_, piece);
    filter->OnComplete(ctx_);
    ctx_.route = RouteKind::kEmbeddings;  // not listed: no payload fields
    std::unique_ptr<Filter> other = factory.NewFilter();
    other->OnResponseBody(ctx_, piece);
    other->OnComplete(ctx_);
    sink->Flush();
  }
  std::ifstream in(path);
  std::string first, second;
  ASSERT_TRUE(std::getline(in, first));
  ASSERT_TRUE(std::getline(in, second));
  boost::json::object logged = ParseLine(first + "\n");
  std::string prompt(logged.at("prompt").as_string());
  std::string completion(logged.at("completion").as_string());
  EXPECT_NE(prompt.find("mail me at"), std::string::npos) << prompt;
  EXPECT_EQ(first.find("jane.doe@example.com"), std::string::npos) << first;
  EXPECT_NE(prompt.find("[REDACTED:email]"), std::string::npos) << prompt;
  EXPECT_EQ(first.find("4111 1111 1111 1111"), std::string::npos) << first;
  EXPECT_NE(completion.find("[REDACTED:card]"), std::string::npos) << completion;
  boost::json::object plain = ParseLine(second + "\n");
  EXPECT_FALSE(plain.contains("prompt"));
  EXPECT_FALSE(plain.contains("completion"));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace sluice::filters
