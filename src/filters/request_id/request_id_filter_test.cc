// Tests of the request_id filter policy (trust or replace client ids, upstream propagation)
// and of its settings.
#include "filters/request_id/request_id_filter.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "core/request_id.h"

namespace sluice::filters {
namespace {

class RequestIdFilterTest : public testing::Test {
 protected:
  // Runs the filter's request phase for a request that carried `client_id` (empty: none). The
  // HTTP layer has already set ctx.request_id (the client's valid id, or a generated one).
  void Run(const RequestIdConfig& config, std::string_view client_id) {
    request_.Reset();
    if (!client_id.empty()) request_.headers.Add("X-Request-Id", client_id);
    ctx_.Begin(request_, nullptr, nullptr, SteadyTime{}, WallTime{});
    if (!client_id.empty()) {
      ctx_.request_id = std::string(client_id);
    } else {
      GenerateRequestId(ctx_.request_id);
    }
    before_ = ctx_.request_id;
    RequestIdFilterFactory factory(config);
    EXPECT_EQ(factory.name(), "request_id");
    std::unique_ptr<Filter> filter = factory.NewFilter();
    // The filter never suspends: it decides in OnRequestNow.
    std::optional<Verdict> verdict = filter->OnRequestNow(ctx_);
    ASSERT_TRUE(verdict.has_value());
    EXPECT_TRUE(verdict->is_continue());
  }

  HttpRequest request_;
  RequestContext ctx_;
  std::string before_;
};

TEST_F(RequestIdFilterTest, TrustedClientIdIsKeptAndPropagated) {
  Run(RequestIdConfig{}, "client-id-1");
  EXPECT_EQ(ctx_.request_id, "client-id-1");
  EXPECT_EQ(ctx_.upstream_headers.wire(), "X-Request-Id: client-id-1\r\n");
}

TEST_F(RequestIdFilterTest, UntrustedClientIdIsReplaced) {
  RequestIdConfig config;
  config.trust_incoming = false;
  Run(config, "client-id-1");
  EXPECT_NE(ctx_.request_id, "client-id-1");
  EXPECT_EQ(ctx_.request_id.rfind("req_", 0), 0u);
  EXPECT_EQ(ctx_.request_id.size(), 36u);
  EXPECT_EQ(ctx_.upstream_headers.Get("X-Request-Id"), ctx_.request_id);
}

TEST_F(RequestIdFilterTest, GeneratedIdIsKeptWhenTheClientSentNone) {
  RequestIdConfig config;
  config.trust_incoming = false;
  Run(config, "");
  EXPECT_EQ(ctx_.request_id, before_);
  EXPECT_EQ(ctx_.upstream_headers.Get("x-request-id"), before_);
}

TEST_F(RequestIdFilterTest, CustomAndDisabledUpstreamHeader) {
  RequestIdConfig custom;
  custom.upstream_header = "X-Correlation-Id";
  Run(custom, "abc");
  EXPECT_EQ(ctx_.upstream_headers.wire(), "X-Correlation-Id: abc\r\n");
  RequestIdConfig disabled;
  disabled.upstream_header = "";
  Run(disabled, "abc");
  EXPECT_TRUE(ctx_.upstream_headers.empty());
  EXPECT_EQ(ctx_.request_id, "abc");
}

TEST(RequestIdConfig, Defaults) {
  RequestIdConfig config;
  EXPECT_TRUE(config.trust_incoming);
  EXPECT_EQ(config.upstream_header, "X-Request-Id");
}

}  // namespace
}  // namespace sluice::filters
