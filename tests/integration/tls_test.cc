// Integration: HTTPS upstreams. Certificate verification and the name check are on by
// default; a trusted CA file makes a self-signed upstream work; verify: false is an
// explicit opt-out. The certificate is generated per run with the openssl CLI.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdlib>

#include "tests/testing/child_process.h"
#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace asio = boost::asio;

class TlsUpstream : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(WriteTempFile("tls", ""));
    std::string cmd = "rm -f " + *dir_ + " && mkdir -p " + *dir_ + " && openssl req -x509 " +
                      "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 " +
                      "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 " +
                      "-keyout " + *dir_ + "/key.pem -out " + *dir_ + "/cert.pem 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl CLI is required (scripts/install-deps)";
  }
  static void TearDownTestSuite() {
    std::system(("rm -rf " + *dir_).c_str());
    delete dir_;
  }

  static std::string Cert() { return *dir_ + "/cert.pem"; }
  static std::string Key() { return *dir_ + "/key.pem"; }

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

  static std::string* dir_;
};

std::string* TlsUpstream::dir_ = nullptr;

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
