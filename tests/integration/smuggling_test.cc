// Integration: request smuggling. Every framing the gateway rejects is followed, on the
// same connection, by a valid request that a lenient parser might take as a second
// request. The gateway must answer exactly once (the rejection), close the connection,
// and the upstream must never see anything.
#include <gtest/gtest.h>

#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace asio = boost::asio;

struct SmuggleCase {
  std::string name;
  std::string first;  // the rejected request, as bytes
  int status;
};

const std::string kHead = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n";
const std::string kBody = R"({"model":"m","messages":[]})";
const std::string kSmuggled = JsonRequest("/v1/chat/completions", kBody);

std::vector<SmuggleCase> Cases() {
  std::string len = std::to_string(kBody.size());
  return {
      {"ContentLengthAndTransferEncoding",
       kHead + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"TransferEncodingAndContentLength",
       kHead + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400},
      {"DuplicateContentLengthSameValue",
       kHead + "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400},
      {"DuplicateContentLengthDifferentValues",
       kHead + "Content-Length: 2\r\nContent-Length: 0\r\n\r\n{}", 400},
      {"MalformedContentLength", kHead + "Content-Length: 2x\r\n\r\n{}", 400},
      {"SignedContentLength", kHead + "Content-Length: +2\r\n\r\n{}", 400},
      {"ContentLengthList", kHead + "Content-Length: 2, 2\r\n\r\n{}", 400},
      {"ObsFold", kHead + "X-A: 1\r\n  folded\r\nContent-Length: 2\r\n\r\n{}", 400},
      {"BareLfInHead", "POST /v1/chat/completions HTTP/1.1\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
       400},
      {"BareLfAfterHeader", kHead + "Content-Length: 2\n\r\n{}", 400},
      {"BareCrInHeaderValue", kHead + "X-A: a\rb\r\nContent-Length: 2\r\n\r\n{}", 400},
      {"SpaceBeforeColon", kHead + "Content-Length : 2\r\n\r\n{}", 400},
      {"UnderscoreHeaderName", kHead + "Content_Length: 2\r\n\r\n{}", 400},
      {"EmptyHeaderName", kHead + ": x\r\nContent-Length: 2\r\n\r\n{}", 400},
      {"TransferEncodingGzip", kHead + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
      {"TransferEncodingOnHttp10",
       "POST /v1/chat/completions HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
      {"ChunkSizeNotHex", kHead + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n", 400},
      {"ChunkSizeMissing", kHead + "Transfer-Encoding: chunked\r\n\r\n\r\n{}\r\n0\r\n\r\n", 400},
      {"ChunkDataOverrun", kHead + "Transfer-Encoding: chunked\r\n\r\n1\r\n{}\r\n0\r\n\r\n", 400},
      {"ChunkSizeBareLf", kHead + "Transfer-Encoding: chunked\r\n\r\n2\n{}\r\n0\r\n\r\n", 400},
      {"ChunkSizeOverflow",
       kHead + "Transfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n{}\r\n0\r\n\r\n", 400},
      {"MissingHost", "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", 400},
      {"DuplicateHost", kHead + "Host: y\r\nContent-Length: 2\r\n\r\n{}", 400},
      {"AbsoluteFormTarget",
       "POST http://evil/v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
       400},
      {"Http2Version", "POST /v1/chat/completions HTTP/2.0\r\nHost: x\r\n\r\n", 505},
      {"NulInHeader", kHead + std::string("X-A: a\0b\r\n\r\n", 12), 400},
  };
}

class Smuggling : public ::testing::TestWithParam<SmuggleCase> {};

TEST_P(Smuggling, RejectedFramingAnswersOnceAndTheSecondRequestNeverReachesTheUpstream) {
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    co_await ex.RespondJson(200, ChatCompletionJson("smuggled", 1, 1));
  });
  GatewayHarness gateway(BasicConfig(), upstream.address());
  TestClient client(gateway.port());
  client.Send(GetParam().first + kSmuggled);
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, GetParam().status) << response->body;
  EXPECT_EQ(response->Header("connection"), "close");
  EXPECT_FALSE(response->Header("x-request-id").empty());
  EXPECT_FALSE(client.ReadResponse()) << "a second response was sent";
  EXPECT_EQ(upstream.requests(), 0) << "the smuggled request reached the upstream";
  auto log = gateway.AccessLog();
  ASSERT_EQ(log.size(), 1u) << "every rejected request is logged";
  EXPECT_EQ(log[0].at("status").as_int64(), GetParam().status);
}

INSTANTIATE_TEST_SUITE_P(AllCases, Smuggling, ::testing::ValuesIn(Cases()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace sluice::testing
