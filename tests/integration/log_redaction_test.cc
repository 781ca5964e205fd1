// Integration: what the gateway writes about a request never carries its secrets, and a log
// destination that stops reading never stalls requests. Requests carry a provider-style API
// key, a bearer token, e-mail addresses and a card number in the places that end up in logs
// (the Authorization header, the model name of a model_not_found, a JSON body field, the path
// of a 404, the query string, the upstream's answer); the access log (with payloads), the
// application log and the exported spans then hold redaction markers and none of the values.
// An access log whose output is a FIFO nobody reads drops lines (counted in /metrics) while
// every request completes, and the lines that do get through are whole.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "auth/api_key.h"
#include "auth/audit_log.h"
#include "auth/auth_runtime.h"
#include "observability/app_log.h"
#include "tests/integration/auth_test_fixture.h"
#include "tests/testing/fake_upstream.h"
#include "tests/testing/gateway_harness.h"
#include "tests/testing/metrics_client.h"
#include "tests/testing/otlp_receiver.h"
#include "tests/testing/prometheus_scrape.h"
#include "tests/testing/test_client.h"

namespace sluice::testing {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;
using std::chrono::milliseconds;

// The sensitive values, each sent where it can end up in a log.
const std::string kRejectedKey = "sk-proj-Zx8Qm2Lp9Vt4Rw7Yb1Nc6Hd3";  // Authorization → 401
const std::string kModelKey = "sk-proj-Ke5Jf0Gs8Ua2Pi6Ow4Mq1Tx7";     // model → 404
const std::string kModelEmail = "carol.private@example.net";          // model → 404
const std::string kQueryKey = "sk-proj-Qu3ryK3yN0tL0gg3d4Ever";       // query string
const std::string kPromptEmail = "alice.secret@example.com";          // body field
const std::string kCard = "4111 1111 1111 1111";                      // body field (Luhn-valid)
const std::string kCardPlain = "4111111111111111";                    // query string
const std::string kBearerToken = "tok3nV4lue9Secret8Xyz";             // "Bearer …" in the body
const std::string kPathEmail = "bob.hidden@example.org";              // path → 404
const std::string kAnswerEmail = "dave.reply@example.com";            // the upstream's answer

std::vector<std::string> AllSecrets() {
  return {kRejectedKey, kModelKey, kModelEmail, kQueryKey, kPromptEmail, kCard, kCardPlain,
          kBearerToken, kPathEmail, kAnswerEmail,
          // distinctive tails, in case a prefix of a key were kept
          kRejectedKey.substr(8), kModelKey.substr(8), kQueryKey.substr(8)};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void ExpectNoSecrets(const std::string& where, const std::string& text) {
  for (const std::string& secret : AllSecrets()) {
    EXPECT_EQ(text.find(secret), std::string::npos) << where << " carries '" << secret << "'";
  }
}

void ExpectMarkers(const std::string& where, const std::string& text,
                   const std::vector<std::string>& kinds) {
  for (const std::string& kind : kinds) {
    EXPECT_NE(text.find("[REDACTED:" + kind + "]"), std::string::npos)
        << where << " has no " << kind << " marker";
  }
}

Response Send(uint16_t port, const std::string& request) {
  TestClient client(port);
  client.Send(request);
  std::optional<Response> response = client.ReadResponse();
  EXPECT_TRUE(response) << "no response";
  return response.value_or(Response{});
}

// --- 6. Redaction in the access log, the application log and the spans.

class LogRedaction : public ::testing::Test {
 protected:
  LogRedaction() {
    static int counter = 0;
    dir_ = "/tmp/sluice-redaction-test-" + std::to_string(::getpid()) + "-" +
           std::to_string(++counter);
    std::filesystem::create_directories(dir_);
  }
  ~LogRedaction() override {
    gateway_.reset();
    // The application log is process-wide: back to stderr for the tests that follow.
    AppLogOptions options;
    options.output = "stderr";
    std::string error;
    EXPECT_TRUE(ConfigureAppLog(options, error)) << error;
    std::filesystem::remove_all(dir_);
  }

  std::string app_log_path() const { return dir_ + "/app.log"; }

  // A valid API key of the gateway; returns its secret.
  std::string CreateKey() {
    return auth_test::InsertTestKey(*gateway_->auth(), {}, "redaction test key").secret;
  }

  std::string dir_;
  std::unique_ptr<GatewayHarness> gateway_;
};

TEST_F(LogRedaction, NoLogFileOrSpanCarriesTheSecretsOfRequests) {
  // The application log goes to a file first, so whatever the gateway logs lands there too.
  AppLogOptions app_log;
  app_log.output = app_log_path();
  app_log.format = "json";
  std::string error;
  ASSERT_TRUE(ConfigureAppLog(app_log, error)) << error;

  // The upstream's answer quotes personal data back.
  FakeUpstream upstream([](FakeExchange& ex) -> asio::awaitable<void> {
    const std::string body =
        ChatCompletionJson("Sure, I will write to " + kAnswerEmail + " about card " + kCard, 7, 3);
    co_await ex.RespondJson(200, body);
  });
  OtlpReceiver receiver;
  std::string yaml =
      "server:\n  listen: 127.0.0.1:0\n  workers: 1\n"
      "backends:\n  - name: up\n    url: http://{upstream}/v1\n"
      "models:\n  - name: m\n    backend: up\n    upstream_model: up-m\n"
      "auth:\n  bootstrap: {admin_key: false}\n  tiers: {all: [\"*\"]}\n  default_tier: all\n"
      "store:\n  sqlite: " +
      dir_ +
      "/sluice.db\n"
      "observability:\n  tracing: {endpoint: '" +
      receiver.endpoint() +
      "', sample_ratio: 1, flush_interval: 10ms}\n"
      // The access log first, so it sees the requests auth rejects.
      "filters:\n  - request_id: {}\n"
      "  - access_log:\n      output: {access_log}\n      payloads: [chat_completions]\n"
      "  - auth: {}\n  - authorize: {}\n";
  gateway_ = std::make_unique<GatewayHarness>(yaml, upstream.address());
  ASSERT_NE(gateway_->auth(), nullptr);
  const std::string bearer = "Authorization: Bearer " + CreateKey() + "\r\n";
  const uint16_t port = gateway_->port();

  // 1. A provider key as the credential: rejected.
  EXPECT_EQ(Send(port, JsonRequest("/v1/chat/completions", R"({"model":"m","messages":[]})",
                                   "Authorization: Bearer " + kRejectedKey + "\r\n"))
                .status,
            401);
  // 2. Secrets as model names: model_not_found quotes them (to the client that sent them).
  for (const std::string& model : {kModelKey, kModelEmail}) {
    Response response =
        Send(port, JsonRequest("/v1/chat/completions",
                               R"({"model":")" + model + R"(","messages":[]})", bearer));
    EXPECT_EQ(response.status, 404) << response.body;
    EXPECT_NE(response.body.find("model_not_found"), std::string::npos) << response.body;
  }
  // 3. Personal data and a bearer token in the body, logged as the prompt.
  const std::string body = R"({"model":"m","messages":[{"role":"user","content":"mail )" +
                           kPromptEmail + " my card " + kCard +
                           R"("}],"metadata":{"forwarded_auth":"Bearer )" + kBearerToken + R"("}})";
  EXPECT_EQ(Send(port, JsonRequest("/v1/chat/completions", body, bearer)).status, 200);
  // 4. An e-mail address in the path of an unknown route.
  EXPECT_EQ(Send(port, GetRequest("/v1/foo/" + kPathEmail, bearer)).status, 404);
  // 5. A key and a card number in the query string.
  EXPECT_EQ(
      Send(port, JsonRequest("/v1/chat/completions?api_key=" + kQueryKey + "&card=" + kCardPlain,
                             R"({"model":"m","messages":[]})", bearer))
          .status,
      200);
  constexpr size_t kRequests = 6;

  // Something the gateway might log on an error path, with the same secrets in it (nothing
  // on these request paths logs to the application log by itself).
  spdlog::warn("upstream rejected {} for {} (Authorization: Bearer {}), card {}, model {}",
               kPathEmail, kPromptEmail, kBearerToken, kCard, kModelKey);
  FlushAppLog();

  std::vector<json::object> lines = gateway_->AccessLog(kRequests);
  ASSERT_EQ(lines.size(), kRequests);
  const std::string access_log = ReadFile(gateway_->access_log_path());
  ExpectNoSecrets("the access log", access_log);
  ExpectMarkers("the access log", access_log, {"api_key", "email", "card", "token"});
  // The model_not_found lines name the model by its redaction, not by the raw string.
  EXPECT_EQ(lines[1].at("error"), json::value("model_not_found"));
  EXPECT_EQ(lines[1].at("model"), json::value("[REDACTED:api_key]"));
  EXPECT_EQ(lines[2].at("model"), json::value("[REDACTED:email]"));
  EXPECT_EQ(lines[4].at("path"), json::value("/v1/foo/[REDACTED:email]"));
  ASSERT_TRUE(lines[3].contains("prompt") && lines[3].contains("completion"));
  std::string completion(lines[3].at("completion").as_string());
  EXPECT_NE(completion.find("[REDACTED:email]"), std::string::npos) << completion;
  EXPECT_NE(completion.find("[REDACTED:card]"), std::string::npos) << completion;

  const std::string app_log_text = ReadFile(app_log_path());
  ASSERT_NE(app_log_text.find("upstream rejected"), std::string::npos) << app_log_text;
  ExpectNoSecrets("the application log", app_log_text);
  ExpectMarkers("the application log", app_log_text, {"api_key", "email", "card", "token"});

  // The spans describe the same requests: none of their names or attributes carries them.
  ASSERT_TRUE(FakeUpstream::WaitUntil([&] {
    size_t servers = 0;
    for (const ReceivedSpan& span : receiver.spans()) servers += span.kind == 2;
    return servers >= kRequests;
  }));
  for (const ReceivedSpan& span : receiver.spans()) {
    std::string text = span.name + " " + span.status_message;
    for (const auto& [key, value] : span.attributes) text += " " + key + "=" + value;
    ExpectNoSecrets("span '" + span.name + "'", text);
  }
}

// --- 7. A blocked log sink.

// The read end of a FIFO, opened before the gateway opens the write end (so that open does
// not block), left unread until Release(); then a thread drains it to the end of file.
class FifoReader {
 public:
  explicit FifoReader(const std::string& path)
      : fd_(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)) {}
  ~FifoReader() {
    Release();
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

  // Starts draining (idempotent). REQUIRES: the writer has opened the FIFO.
  void Release() {
    if (released_.exchange(true) || fd_ < 0) return;
    thread_ = std::thread([this] {
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      char buffer[64 * 1024];
      while (std::chrono::steady_clock::now() < deadline) {
        pollfd p{fd_, POLLIN, 0};
        ::poll(&p, 1, 100);
        ssize_t n = ::read(fd_, buffer, sizeof(buffer));
        if (n > 0) {
          data_.append(buffer, static_cast<size_t>(n));
        } else if (n == 0) {
          eof_ = true;  // every writer closed it
          return;
        } else if (errno != EAGAIN && errno != EINTR) {
          return;
        }
      }
    });
  }
  // What was read; waits for the end of file (the writer closed). REQUIRES: Release().
  const std::string& DataAfterEof(bool& eof) {
    if (thread_.joinable()) thread_.join();
    eof = eof_;
    return data_;
  }

 private:
  int fd_;
  std::atomic<bool> released_{false};
  std::thread thread_;
  std::string data_;  // the drain thread's until joined
  bool eof_ = false;
};

// Drains `reader` when destroyed: declared after the gateway, it runs first, so a test that
// stops early never leaves the gateway's log writer blocked on a full pipe at shutdown.
struct ReleaseOnExit {
  FifoReader& reader;
  ~ReleaseOnExit() { reader.Release(); }
};

TEST(BlockedLogSink, RequestsCompleteWhileAFifoNobodyReadsDropsWholeLines) {
  char dir_template[] = "/tmp/sluice-fifo-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  struct RemoveOnExit {
    std::string dir;
    ~RemoveOnExit() { std::filesystem::remove_all(dir); }
  } remove_dir{dir_template};
  const std::string fifo = remove_dir.dir + "/access.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  FifoReader reader(fifo);
  ASSERT_GE(reader.fd(), 0) << std::strerror(errno);

  // Prompts and completions of quotes: 16 KiB each, logged (with payloads on) as ~32 KiB of
  // escaped text, so 300 lines (~19 MB) overflow the sink's 8 MiB queue plus the 64 KiB pipe.
  std::string quotes;
  for (int i = 0; i < 8 * 1024; ++i) quotes += "\\\"";
  FakeUpstream upstream([&quotes](FakeExchange& ex) -> asio::awaitable<void> {
    const std::string body = ChatCompletionJson(quotes, 7, 3);
    co_await ex.RespondJson(200, body);
  });
  const std::string prompt =
      R"({"model":"m","messages":[{"role":"user","content":")" + quotes + R"("}]})";
  std::string yaml = BasicConfig() + "observability:\n  metrics: {on_main_listener: true}\n";
  const std::string output = "      output: {access_log}\n";
  yaml.replace(yaml.find(output), output.size(),
               "      output: " + fifo + "\n      payloads: [chat_completions]\n");
  auto gateway = std::make_unique<GatewayHarness>(yaml, upstream.address());
  ReleaseOnExit release{reader};

  constexpr int kRequests = 300;
  TestClient client(gateway->port(), milliseconds(10'000));  // a hung request fails, in 10 s
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < kRequests; ++i) {
    client.Send(JsonRequest("/v1/chat/completions", prompt));
    std::optional<Response> response = client.ReadResponse();
    ASSERT_TRUE(response) << "request " << i << " did not complete";
    ASSERT_EQ(response->status, 200) << i;
  }
  // Loose: the point is that nothing waits for the log (it takes ~1 s under ASan).
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(60));

  PrometheusScrape scrape = ScrapeMetricsUntil(gateway->port(), [&](const PrometheusScrape& s) {
    return s.Value("sluice_log_lines_dropped_total", {{"sink", fifo}}).value_or(0) > 0;
  });
  double dropped = scrape.Value("sluice_log_lines_dropped_total", {{"sink", fifo}}).value_or(0);
  EXPECT_GT(dropped, 0);

  // Drain: the sink writes what it holds; closing the gateway closes the write end.
  reader.Release();
  gateway.reset();
  bool eof = false;
  const std::string& data = reader.DataAfterEof(eof);
  EXPECT_TRUE(eof) << "the FIFO was not closed within the drain's time limit";
  ASSERT_FALSE(data.empty());
  EXPECT_EQ(data.back(), '\n') << "the last line is cut";
  int chat_lines = 0;
  std::istringstream in(data);
  std::string line;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    json::value value = json::parse(line, ec);
    ASSERT_FALSE(ec) << "not a whole JSON line (" << line.size()
                     << " bytes): " << line.substr(0, 200);
    ASSERT_TRUE(value.is_object());
    const json::object& object = value.as_object();
    if (object.contains("path") && object.at("path") == json::value("/v1/chat/completions")) {
      ++chat_lines;
      EXPECT_TRUE(object.contains("prompt") && object.contains("completion"));
    }
  }
  EXPECT_GT(chat_lines, 0);
  EXPECT_LT(chat_lines, kRequests) << "the dropped lines never arrive";
}

}  // namespace
}  // namespace sluice::testing
