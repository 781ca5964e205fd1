// Integration: HTTPS upstreams. Certificate verification and the name check are on by
// default; a trusted CA file makes a self-signed upstream work; verify: false is an
// explicit opt-out. The certificate is generated per run with the openssl CLI.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_certificate.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace asio = boost::asio;

class TlsUpstream : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certificate_ = new TestCertificate;
    ASSERT_TRUE(certificate_->ok());
  }
  static void TearDownTestSuite() { delete certificate_; }

  static std::string Cert() { return certificate_->cert_file(); }
  static std::string Key() { return certificate_->key_file(); }

  // One chat request through a gateway whose backend is https://127.0.0.1:<port>.
  int StatusThroughGateway(const std::string& tls_settings, std::string* error_code = nullptr) {
    FakeUpstream upstream(
        [](FakeExchange& ex) -> asio::awaitable<void> {
          co_await ex.RespondJson(200, ChatCompletionJson("secure", 1, 1));
        },
        TlsFiles{Cert(), Key()});
    std::string yaml = BasicConfig(tls_settings);
    yaml.replace(yaml.find("http://{upstream}"), 17, "https://{upstream}");
    GatewayHarness gateway(yaml, upstream.address());
    TestClient client(gateway.port());
    client.Send(JsonRequest("/v1/chat/completions", R"({"model":"m","messages":[]})"));
    auto r = client.ReadResponse();
    EXPECT_TRUE(r);
    if (!r) return 0;
    if (error_code != nullptr && r->status != 200) {
      *error_code = std::string(boost::json::parse(r->body).at("error").at("code").as_string());
    }
    return r->status;
  }

  static TestCertificate* certificate_;
};

TestCertificate* TlsUpstream::certificate_ = nullptr;

TEST_F(TlsUpstream, TrustedCaFileVerifiesTheUpstream) {
  EXPECT_EQ(StatusThroughGateway("    tls: {ca_file: " + Cert() + "}\n"), 200);
}

TEST_F(TlsUpstream, UntrustedCertificateIsRejectedByDefault) {
  std::string code;
  EXPECT_EQ(StatusThroughGateway("", &code), 502);
  EXPECT_EQ(code, "upstream_unreachable");
}

TEST_F(TlsUpstream, WrongServerNameIsRejectedEvenWithTheRightCa) {
  std::string code;
  EXPECT_EQ(StatusThroughGateway("    tls: {ca_file: " + Cert() + ", server_name: evil.example}\n",
                                 &code),
            502);
  EXPECT_EQ(code, "upstream_unreachable");
}

TEST_F(TlsUpstream, VerificationCanBeTurnedOffExplicitly) {
  EXPECT_EQ(StatusThroughGateway("    tls: {verify: false}\n"), 200);
}

}  // namespace
}  // namespace sluice::testing
