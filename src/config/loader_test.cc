// Tests of YAML → Snapshot loading: every section, defaults, environment interpolation,
// TLS contexts, and errors that carry the right file:LINE. A fake filter catalog stands in
// for filters/registry.cc (config/ does not depend on filters/).
#include "config/loader.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "config/config_test_support.h"

namespace sluice {
namespace {

using config_test::ErrorCase;
using config_test::ErrorCaseName;
using config_test::HasErrorAt;

using std::chrono::milliseconds;

class FakeFactory final : public FilterFactory {
 public:
  FakeFactory(std::string name, int64_t level) : name_(std::move(name)), level_(level) {}
  std::string_view name() const override { return name_; }
  std::unique_ptr<Filter> NewFilter() const override { return std::make_unique<Filter>(); }
  int64_t level() const { return level_; }

 private:
  std::string name_;
  int64_t level_;
};

// Knows filters "alpha" and "beta", each with one setting `level` (0..10).
class FakeCatalog final : public FilterCatalog {
 public:
  std::shared_ptr<const FilterFactory> Build(std::string_view name,
                                             const ConfigNode& settings) const override {
    if (name != "alpha" && name != "beta") {
      settings.Error("unknown filter '" + std::string(name) + "'");
      return nullptr;
    }
    settings.AllowKeys({"level"});
    return std::make_shared<FakeFactory>(std::string(name), settings.Int("level", 0, 0, 10));
  }
  std::vector<std::string_view> DefaultChain(bool, bool) const override {
    return {"alpha", "beta"};
  }
};

LoadResult Load(std::string_view yaml) {
  static const FakeCatalog catalog;
  return LoadConfigText(yaml, "test.yaml", catalog);
}

std::string Joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const std::string& e : errors) out += e + "\n";
  return out;
}

// The snapshot of a load that must succeed (an empty one when it did not).
std::shared_ptr<const Snapshot> Ok(const LoadResult& result) {
  EXPECT_TRUE(result.errors.empty()) << Joined(result.errors);
  EXPECT_NE(result.snapshot, nullptr);
  return result.snapshot ? result.snapshot : std::make_shared<const Snapshot>();
}

TEST(Loader, EmptyConfigGivesDocumentedDefaults) {
  for (const char* text : {"", "# only a comment\n", "{}"}) {
    SCOPED_TRACE(text);
    LoadResult result = Load(text);
    auto held = Ok(result);
    const Snapshot& snap = *held;
    const ServerConfig& s = snap.server;
    EXPECT_EQ(s.listen.host, "127.0.0.1");
    EXPECT_EQ(s.listen.port, 8080);
    EXPECT_EQ(s.workers, 1);
    // DESIGN.md §8 limits and timeouts.
    EXPECT_EQ(s.max_head_bytes, 64u * 1024);
    EXPECT_EQ(s.max_header_fields, 100u);
    EXPECT_EQ(s.max_uri_bytes, 8u * 1024);
    EXPECT_EQ(s.max_body_bytes, 10u * 1024 * 1024);
    EXPECT_EQ(s.header_timeout, milliseconds(10'000));
    EXPECT_EQ(s.body_timeout, milliseconds(15'000));
    EXPECT_EQ(s.write_timeout, milliseconds(30'000));
    EXPECT_EQ(s.keepalive_timeout, milliseconds(60'000));
    EXPECT_EQ(s.drain_timeout, milliseconds(120'000));
    EXPECT_EQ(s.max_sse_event_bytes, 1024u * 1024);
    EXPECT_TRUE(snap.backends.empty());
    EXPECT_TRUE(snap.models.empty());
    EXPECT_EQ(snap.MaxBodyBytes(RouteKind::kChatCompletions), 10u * 1024 * 1024);
    // No filters: section → the catalog's default chain.
    ASSERT_EQ(snap.chain.size(), 2u);
    EXPECT_EQ(snap.chain.factory(0).name(), "alpha");
    EXPECT_EQ(snap.chain.factory(1).name(), "beta");
    EXPECT_EQ(snap.models_json(), "{\"object\":\"list\",\"data\":[]}");
    EXPECT_EQ(snap.source, "test.yaml");
  }
}

constexpr const char* kFullConfig = R"(version: 1
server:
  listen: "[::1]:0"
  workers: 3
  max_head_bytes: 32KiB
  max_header_fields: 50
  max_uri_bytes: 4KiB
  max_body_bytes: 2MiB
  header_timeout: 5s
  body_timeout: 250ms
  write_timeout: 1m
  keepalive_timeout: 90s
  drain_timeout: 1h
  max_sse_event_bytes: 512KiB
routes:
  /v1/embeddings:
    max_body_bytes: 64MiB
backends:
  - name: local
    url: http://127.0.0.1:8000/v1/
    headers:
      X-Team: platform
    connect_timeout: 2s
    first_byte_timeout: 30s
    idle_timeout: 45s
    total_timeout: 5m
    pool_idle_timeout: 20s
    max_idle_connections: 8
    max_response_bytes: 1MiB
  - name: cloud
    url: https://api.example.com
    api_key_env: SLUICE_UT_KEY
    tls:
      verify: false
      server_name: sni.example.com
models:
  - name: llama
    aliases: [llama-3, default]
    backend: local
    upstream_model: meta-llama/Llama-3-8B
  - name: gpt
    backend: cloud
filters:
  - beta: {level: 7}
  - alpha:
)";

TEST(Loader, EverySectionIsRead) {
  setenv("SLUICE_UT_KEY", "sk-test-secret", 1);
  LoadResult result = Load(kFullConfig);
  unsetenv("SLUICE_UT_KEY");
  auto held = Ok(result);
  const Snapshot& snap = *held;
  const ServerConfig& s = snap.server;
  EXPECT_EQ(s.listen.host, "::1");
  EXPECT_EQ(s.listen.port, 0);
  EXPECT_EQ(s.workers, 3);
  EXPECT_EQ(s.max_head_bytes, 32u * 1024);
  EXPECT_EQ(s.max_header_fields, 50u);
  EXPECT_EQ(s.max_uri_bytes, 4u * 1024);
  EXPECT_EQ(s.max_body_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(s.header_timeout, milliseconds(5'000));
  EXPECT_EQ(s.body_timeout, milliseconds(250));
  EXPECT_EQ(s.write_timeout, milliseconds(60'000));
  EXPECT_EQ(s.keepalive_timeout, milliseconds(90'000));
  EXPECT_EQ(s.drain_timeout, milliseconds(3'600'000));
  EXPECT_EQ(s.max_sse_event_bytes, 512u * 1024);

  EXPECT_EQ(snap.MaxBodyBytes(RouteKind::kEmbeddings), 64u * 1024 * 1024);
  EXPECT_EQ(snap.MaxBodyBytes(RouteKind::kChatCompletions), 2u * 1024 * 1024);

  ASSERT_EQ(snap.backends.size(), 2u);
  const BackendConfig& local = *snap.backends[0];
  EXPECT_EQ(local.index, 0u);
  EXPECT_EQ(local.name, "local");
  EXPECT_FALSE(local.tls);
  EXPECT_EQ(local.host, "127.0.0.1");
  EXPECT_EQ(local.port, 8000);
  EXPECT_EQ(local.base_path, "/v1");  // trailing slash removed
  EXPECT_EQ(local.host_header, "127.0.0.1:8000");
  EXPECT_EQ(local.extra_headers, "X-Team: platform\r\n");
  EXPECT_TRUE(local.api_key.empty());
  EXPECT_EQ(local.connect_timeout, milliseconds(2'000));
  EXPECT_EQ(local.first_byte_timeout, milliseconds(30'000));
  EXPECT_EQ(local.idle_timeout, milliseconds(45'000));
  EXPECT_EQ(local.total_timeout, milliseconds(300'000));
  EXPECT_EQ(local.pool_idle_timeout, milliseconds(20'000));
  EXPECT_EQ(local.max_idle_connections, 8u);
  EXPECT_EQ(local.max_response_bytes, 1024u * 1024);
  EXPECT_EQ(local.tls_context, nullptr);
  EXPECT_EQ(local.server_name, "127.0.0.1");

  const BackendConfig& cloud = *snap.backends[1];
  EXPECT_EQ(cloud.index, 1u);
  EXPECT_TRUE(cloud.tls);
  EXPECT_EQ(cloud.host, "api.example.com");
  EXPECT_EQ(cloud.port, 443);
  EXPECT_EQ(cloud.base_path, "");
  EXPECT_EQ(cloud.host_header, "api.example.com");
  EXPECT_EQ(cloud.api_key, "sk-test-secret");
  EXPECT_EQ(cloud.api_key_env, "SLUICE_UT_KEY");
  EXPECT_EQ(cloud.url.find("sk-test"), std::string::npos);
  EXPECT_FALSE(cloud.tls_verify);
  EXPECT_EQ(cloud.server_name, "sni.example.com");
  EXPECT_NE(cloud.tls_context, nullptr);

  ASSERT_EQ(snap.models.size(), 2u);
  const ModelConfig& llama = *snap.models[0];
  EXPECT_EQ(llama.name, "llama");
  EXPECT_EQ(llama.aliases, (std::vector<std::string>{"llama-3", "default"}));
  EXPECT_EQ(llama.backend, &local);
  EXPECT_EQ(llama.upstream_model, "meta-llama/Llama-3-8B");
  const ModelConfig& gpt = *snap.models[1];
  EXPECT_EQ(gpt.upstream_model, "gpt");  // defaults to the public name
  EXPECT_EQ(gpt.backend, &cloud);
  EXPECT_EQ(snap.FindModel("llama"), &llama);
  EXPECT_EQ(snap.FindModel("llama-3"), &llama);
  EXPECT_EQ(snap.FindModel("default"), &llama);
  EXPECT_EQ(snap.FindModel("gpt"), &gpt);
  EXPECT_EQ(snap.FindModel("meta-llama/Llama-3-8B"), nullptr);
  EXPECT_EQ(snap.FindModel("LLAMA"), nullptr);

  ASSERT_EQ(snap.chain.size(), 2u);
  EXPECT_EQ(snap.chain.factory(0).name(), "beta");
  EXPECT_EQ(dynamic_cast<const FakeFactory&>(snap.chain.factory(0)).level(), 7);
  EXPECT_EQ(snap.chain.factory(1).name(), "alpha");
  EXPECT_EQ(dynamic_cast<const FakeFactory&>(snap.chain.factory(1)).level(), 0);

  // GET /v1/models lists public names (not aliases or upstream names) as OpenAI does.
  boost::json::value models = boost::json::parse(snap.models_json());
  EXPECT_EQ(models.at("object").as_string(), "list");
  const boost::json::array& data = models.at("data").as_array();
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[0].at("id").as_string(), "llama");
  EXPECT_EQ(data[0].at("object").as_string(), "model");
  EXPECT_TRUE(data[0].at("created").is_int64());
  EXPECT_EQ(data[1].at("id").as_string(), "gpt");
}

TEST(Loader, EmptyFilterListMeansNoFilters) {
  auto held = Ok(Load("filters: []\n"));
  const Snapshot& snap = *held;
  EXPECT_EQ(snap.chain.size(), 0u);
}

TEST(Loader, UsageDurability) {
  EXPECT_TRUE(Ok(Load("store: {sqlite: a.db}\n"))->store.usage_sync_to_disk);
  EXPECT_FALSE(
      Ok(Load("store: {sqlite: a.db, usage_durability: process}\n"))->store.usage_sync_to_disk);
  LoadResult bad = Load("store:\n  sqlite: a.db\n  usage_durability: sometimes\n");
  ASSERT_EQ(bad.errors.size(), 1u) << Joined(bad.errors);
  EXPECT_NE(bad.errors[0].find("test.yaml:3: "), std::string::npos) << bad.errors[0];
  EXPECT_NE(bad.errors[0].find("must be disk or process"), std::string::npos) << bad.errors[0];
}

TEST(Loader, WorkersAutoAndYamlBooleans) {
  LoadResult result = Load(
      "server:\n  workers: auto\nbackends:\n  - name: b\n    url: https://h\n"
      "    tls: {verify: no}\n");
  auto held = Ok(result);
  const Snapshot& snap = *held;
  EXPECT_GE(snap.server.workers, 1);
  ASSERT_EQ(snap.backends.size(), 1u);
  EXPECT_FALSE(snap.backends[0]->tls_verify);
}

TEST(Loader, BackendUrls) {
  const struct {
    const char* url;
    bool tls;
    const char* host;
    uint16_t port;
    const char* base_path;
    const char* host_header;
  } kCases[] = {
      {"http://h", false, "h", 80, "", "h"},
      {"http://h:8000", false, "h", 8000, "", "h:8000"},
      {"https://h/openai/v1", true, "h", 443, "/openai/v1", "h"},
      {"https://h:8443/v1//", true, "h", 8443, "/v1", "h:8443"},
      {"http://[::1]:9000/v1", false, "::1", 9000, "/v1", "[::1]:9000"},
      {"http://10.0.0.1", false, "10.0.0.1", 80, "", "10.0.0.1"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.url);
    std::string yaml =
        "backends:\n  - name: b\n    url: " + std::string(c.url) + "\n    tls: {verify: false}\n";
    auto held = Ok(Load(yaml));
    const Snapshot& snap = *held;
    ASSERT_EQ(snap.backends.size(), 1u);
    const BackendConfig& b = *snap.backends[0];
    EXPECT_EQ(b.tls, c.tls);
    EXPECT_EQ(b.host, c.host);
    EXPECT_EQ(b.port, c.port);
    EXPECT_EQ(b.base_path, c.base_path);
    EXPECT_EQ(b.host_header, c.host_header);
    EXPECT_EQ(b.tls_context != nullptr, c.tls);
  }
}

class LoaderEnvTest : public testing::Test {
 protected:
  void SetUp() override {
    setenv("SLUICE_UT_PORT", "9090", 1);
    setenv("SLUICE_UT_HOST", "10.0.0.7", 1);
    unsetenv("SLUICE_UT_MISSING");
  }
  void TearDown() override {
    unsetenv("SLUICE_UT_PORT");
    unsetenv("SLUICE_UT_HOST");
  }
};

TEST_F(LoaderEnvTest, InterpolationInValues) {
  auto held =
      Ok(Load("server:\n"
              "  listen: ${SLUICE_UT_HOST}:${SLUICE_UT_PORT}\n"
              "  header_timeout: ${SLUICE_UT_MISSING:-3s}\n"
              "backends:\n"
              "  - name: b\n"
              "    url: http://${SLUICE_UT_HOST}:${SLUICE_UT_PORT}/v1\n"
              "    headers:\n"
              "      X-Cost: $$5\n"));
  const Snapshot& snap = *held;
  EXPECT_EQ(snap.server.listen.host, "10.0.0.7");
  EXPECT_EQ(snap.server.listen.port, 9090);
  EXPECT_EQ(snap.server.header_timeout, milliseconds(3'000));
  ASSERT_EQ(snap.backends.size(), 1u);
  EXPECT_EQ(snap.backends[0]->port, 9090);
  EXPECT_EQ(snap.backends[0]->extra_headers, "X-Cost: $5\r\n");
}

TEST_F(LoaderEnvTest, UnsetVariableIsAnErrorWithItsLine) {
  LoadResult result = Load("server:\n  workers: 2\n  listen: ${SLUICE_UT_MISSING}\n");
  EXPECT_EQ(result.snapshot, nullptr);
  ASSERT_EQ(result.errors.size(), 1u) << Joined(result.errors);
  EXPECT_EQ(result.errors[0].rfind("test.yaml:3: ", 0), 0u) << result.errors[0];
  EXPECT_NE(result.errors[0].find("SLUICE_UT_MISSING is not set"), std::string::npos);
}

TEST(Loader, ApiKeyEnvMustBeSet) {
  unsetenv("SLUICE_UT_NO_KEY");
  LoadResult result =
      Load("backends:\n  - name: b\n    url: http://h\n    api_key_env: SLUICE_UT_NO_KEY\n");
  ASSERT_EQ(result.errors.size(), 1u) << Joined(result.errors);
  EXPECT_EQ(result.errors[0].rfind("test.yaml:4: ", 0), 0u) << result.errors[0];
  EXPECT_NE(result.errors[0].find("SLUICE_UT_NO_KEY is not set"), std::string::npos);
}

// One configuration error: the YAML, the line it must be reported at, a part of the message.

const std::vector<ErrorCase>& ErrorTable() {
  static const std::vector<ErrorCase> table = {
      {"unknown_top_level_key", "server: {}\nmodel:\n  - x\n", 2, "unknown key 'model'"},
      {"unknown_server_key", "server:\n  listen: 127.0.0.1:1\n  workerz: 2\n", 3,
       "unknown key 'workerz'"},
      {"server_not_a_map", "\nserver: 5\n", 2, "server: must be a mapping"},
      {"bad_listen", "server:\n  listen: localhost:80\n", 2, "server.listen: must be host:port"},
      {"bad_duration", "server:\n\n  header_timeout: 10\n", 3,
       "server.header_timeout: must be a duration"},
      {"bad_size", "server:\n  max_body_bytes: 10 MB!\n", 2,
       "server.max_body_bytes: must be a size"},
      {"bad_int", "server:\n  max_header_fields: many\n", 2, "must be an integer"},
      {"int_out_of_range", "server:\n  max_header_fields: 5\n", 2, "must be between 8 and 10000"},
      {"workers_out_of_range", "server:\n  workers: 0\n", 2, "must be between 1 and 256"},
      {"list_for_scalar", "server:\n  header_timeout: [1s]\n", 2, "must be a single value"},
      {"head_too_small", "server:\n  max_head_bytes: 512\n", 2, "must be at least 1KiB"},
      {"uri_not_smaller_than_head", "server:\n  max_head_bytes: 8KiB\n  max_uri_bytes: 8KiB\n", 3,
       "must be smaller than max_head_bytes"},
      {"bad_version", "version: 2\n", 1, "must be between 1 and 1"},
      {"tracing_ca_file_missing",
       "observability:\n  tracing:\n    endpoint: https://127.0.0.1:4318/v1/traces\n    tls:\n"
       "      ca_file: /nonexistent/ca.pem\n",
       5, "cannot load CA file '/nonexistent/ca.pem'"},
      {"tracing_tls_on_http",
       "observability:\n  tracing:\n    endpoint: http://127.0.0.1:4318/v1/traces\n"
       "    tls: {verify: false}\n",
       4, "applies to an https:// endpoint only"},
      {"tracing_unknown_tls_key",
       "observability:\n  tracing:\n    endpoint: https://127.0.0.1:4318\n    tls:\n"
       "      server_name: x\n",
       5, "unknown key 'server_name'"},
      {"unknown_route", "routes:\n  /v1/images:\n    max_body_bytes: 1MiB\n", 3, "unknown route"},
      {"route_not_a_map", "routes:\n  /v1/embeddings: 5\n", 2, "must be a mapping"},
      {"unknown_route_key", "routes:\n  /v1/embeddings:\n    max_body: 1MiB\n", 3,
       "unknown key 'max_body'"},
      {"backends_not_a_list", "backends:\n  name: x\n", 2, "backends: must be a list"},
      {"backend_without_name", "backends:\n  - url: http://h\n", 2, "a backend needs a name"},
      {"backend_without_url", "backends:\n  - name: b\n", 2, "backend 'b' needs a url"},
      {"backend_bad_url", "backends:\n  - name: b\n    url: not a url\n", 3, "is not a valid URL"},
      {"backend_ftp_url", "backends:\n  - name: b\n    url: ftp://h/\n", 3,
       "must start with http:// or https://"},
      {"backend_url_with_query", "backends:\n  - name: b\n    url: http://h/?a=1\n", 3,
       "must not contain credentials"},
      {"backend_url_with_credentials", "backends:\n  - name: b\n    url: http://u:p@h/\n", 3,
       "must not contain credentials"},
      {"backend_url_port_0", "backends:\n  - name: b\n    url: http://h:0/\n", 3, "invalid port"},
      {"backend_unknown_key", "backends:\n  - name: b\n    url: http://h\n    api_key: sk-1\n", 4,
       "unknown key 'api_key'"},
      {"backend_bad_header",
       "backends:\n  - name: b\n    url: http://h\n    headers:\n"
       "      \"Bad Name\": x\n",
       5, "is not a valid header"},
      {"backend_bad_timeout",
       "backends:\n  - name: b\n    url: http://h\n\n    idle_timeout: soon\n", 5,
       "idle_timeout: must be a duration"},
      {"backend_tls_unknown_key",
       "backends:\n  - name: b\n    url: https://h\n    tls:\n"
       "      verify: false\n      cert: x\n",
       6, "unknown key 'cert'"},
      {"backend_tls_bad_bool",
       "backends:\n  - name: b\n    url: https://h\n    tls:\n"
       "      verify: maybe\n",
       5, "must be true or false"},
      {"duplicate_backend",
       "backends:\n  - name: b\n    url: http://h\n  - name: b\n"
       "    url: http://i\n",
       4, "duplicate backend name 'b'"},
      {"model_unknown_backend",
       "backends:\n  - name: b\n    url: http://h\nmodels:\n"
       "  - name: m\n    backend: nope\n",
       6, "unknown backend 'nope'"},
      {"model_without_backend", "models:\n  - name: m\n", 2, "model 'm' needs a backend"},
      {"model_without_name",
       "backends:\n  - name: b\n    url: http://h\nmodels:\n"
       "  - backend: b\n",
       5, "a model needs a name"},
      {"duplicate_model",
       "backends:\n  - name: b\n    url: http://h\nmodels:\n"
       "  - name: m\n    backend: b\n  - name: m\n    backend: b\n",
       7, "duplicate model name 'm'"},
      {"alias_is_other_model",
       "backends:\n  - name: b\n    url: http://h\nmodels:\n"
       "  - name: m\n    backend: b\n  - name: n\n    backend: b\n"
       "    aliases: [x, m]\n",
       9, "alias 'm' is already a model name"},
      {"duplicate_alias",
       "backends:\n  - name: b\n    url: http://h\nmodels:\n"
       "  - name: m\n    backend: b\n    aliases: [x]\n  - name: n\n"
       "    backend: b\n    aliases:\n      - x\n",
       11, "alias 'x' is already a model name or alias"},
      {"model_unknown_key",
       "backends:\n  - name: b\n    url: http://h\nmodels:\n"
       "  - name: m\n    backend: b\n    upstream: z\n",
       7, "unknown key 'upstream'"},
      {"aliases_not_a_list",
       "backends:\n  - name: b\n    url: http://h\nmodels:\n"
       "  - name: m\n    backend: b\n    aliases: x\n",
       7, "must be a list"},
      {"unknown_filter", "filters:\n  - alpha: {}\n  - gamma: {}\n", 3, "unknown filter 'gamma'"},
      {"unknown_filter_null_settings", "filters:\n  - alpha: {}\n  - gamma:\n", 3,
       "unknown filter 'gamma'"},
      {"filter_bad_setting", "filters:\n  - alpha:\n      level: 11\n", 3,
       "must be between 0 and 10"},
      {"filter_unknown_setting", "filters:\n  - alpha:\n      lvl: 1\n", 3, "unknown key 'lvl'"},
      {"filter_twice", "filters:\n  - alpha: {}\n  - alpha: {}\n", 3,
       "filter 'alpha' appears twice"},
      {"filter_settings_not_map", "filters:\n  - alpha: 5\n", 2,
       "filter settings must be a mapping"},
      {"filter_item_not_map", "filters:\n  - alpha\n", 2, "each filter is a mapping with one key"},
      {"filter_item_two_keys", "filters:\n  - alpha: {}\n    beta: {}\n", 2,
       "each filter is a mapping with one key"},
      {"filters_not_a_list", "filters:\n  alpha: {}\n", 2, "must be a list of filters"},
      {"top_level_list", "- a\n- b\n", 1, "must be a YAML mapping"},
      {"yaml_syntax_unclosed_flow", "server:\n  listen: 127.0.0.1:1\nmodels: [\n", 4, ""},
      {"yaml_syntax_bad_indent", "server:\n  listen: 127.0.0.1:1\n workers: 2\n", 3, ""},
      {"yaml_syntax_map_in_value", "server:\n  listen: a: b\n", 2, ""},
      {"yaml_duplicate_tab", "server:\n\tlisten: 1\n", 2, ""},
  };
  return table;
}

class LoaderErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(LoaderErrorTest, ReportsFileLineAndMessage) {
  const ErrorCase& c = GetParam();
  LoadResult result = Load(c.yaml);
  EXPECT_EQ(result.snapshot, nullptr);
  ASSERT_FALSE(result.errors.empty());
  EXPECT_TRUE(HasErrorAt(result.errors, c.line, c.message_part));
}

INSTANTIATE_TEST_SUITE_P(Config, LoaderErrorTest, testing::ValuesIn(ErrorTable()), ErrorCaseName);

TEST(Loader, AllErrorsAreReportedAtOnce) {
  LoadResult result = Load(
      "server:\n"
      "  header_timeout: soon\n"
      "  bogus: 1\n"
      "backends:\n"
      "  - name: b\n"
      "    url: ftp://x\n"
      "models:\n"
      "  - name: m\n"
      "    backend: c\n");
  EXPECT_EQ(result.snapshot, nullptr);
  EXPECT_EQ(result.errors.size(), 4u) << Joined(result.errors);
  for (const char* line : {"test.yaml:2: ", "test.yaml:3: ", "test.yaml:6: ", "test.yaml:9: "}) {
    bool found = false;
    for (const std::string& e : result.errors) found = found || e.rfind(line, 0) == 0;
    EXPECT_TRUE(found) << line << "\n" << Joined(result.errors);
  }
}

TEST(Loader, HttpsBackendBuildsTlsContext) {
  auto held = Ok(Load("backends:\n  - name: b\n    url: https://h\n"));
  const Snapshot& snap = *held;
  ASSERT_EQ(snap.backends.size(), 1u);
  EXPECT_TRUE(snap.backends[0]->tls);
  EXPECT_TRUE(snap.backends[0]->tls_verify);
  ASSERT_NE(snap.backends[0]->tls_context, nullptr);
  EXPECT_NE(snap.backends[0]->tls_context->native_handle(), nullptr);
  EXPECT_EQ(snap.backends[0]->server_name, "h");
}

TEST(Loader, BadCaFileIsAnErrorAtItsLine) {
  LoadResult result = Load(
      "backends:\n  - name: b\n    url: https://h\n    tls:\n      ca_file: /nonexistent/ca.pem\n");
  EXPECT_EQ(result.snapshot, nullptr);
  ASSERT_EQ(result.errors.size(), 1u) << Joined(result.errors);
  EXPECT_EQ(result.errors[0].rfind("test.yaml:5: ", 0), 0u) << result.errors[0];
  EXPECT_NE(result.errors[0].find("cannot load CA file '/nonexistent/ca.pem'"), std::string::npos);
}

TEST(Loader, CaFileThatIsNotPemIsAnError) {
  std::string path = testing::TempDir() + "sluice_ut_not_a_ca.pem";
  std::ofstream(path) << "this is not a certificate\n";
  LoadResult result =
      Load("backends:\n  - name: b\n    url: https://h\n    tls:\n      ca_file: " + path + "\n");
  std::remove(path.c_str());
  ASSERT_EQ(result.errors.size(), 1u) << Joined(result.errors);
  EXPECT_EQ(result.errors[0].rfind("test.yaml:5: ", 0), 0u) << result.errors[0];
}

TEST(Loader, LoadConfigFileUsesThePathInErrors) {
  std::string path = testing::TempDir() + "sluice_ut_config.yaml";
  {
    std::ofstream out(path);
    out << "server:\n  listen: 127.0.0.1:7000\n";
  }
  static const FakeCatalog catalog;
  LoadResult ok = LoadConfigFile(path, catalog);
  ASSERT_TRUE(ok.errors.empty()) << Joined(ok.errors);
  EXPECT_EQ(ok.snapshot->server.listen.port, 7000);
  EXPECT_EQ(ok.snapshot->source, path);
  {
    std::ofstream out(path);
    out << "server:\n  listen: nowhere\n";
  }
  LoadResult bad = LoadConfigFile(path, catalog);
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].rfind(path + ":2: ", 0), 0u) << bad.errors[0];
  std::remove(path.c_str());
  LoadResult missing = LoadConfigFile(path, catalog);
  ASSERT_EQ(missing.errors.size(), 1u);
  EXPECT_EQ(missing.errors[0], path + ": cannot open the configuration file");
}

TEST(Diagnostics, Format) {
  Diagnostics diag("cfg.yaml");
  EXPECT_TRUE(diag.ok());
  diag.Error(0, "whole file");
  diag.Error(12, "line twelve");
  EXPECT_FALSE(diag.ok());
  EXPECT_EQ(diag.errors(),
            (std::vector<std::string>{"cfg.yaml: whole file", "cfg.yaml:12: line twelve"}));
  EXPECT_EQ(diag.Joined(), "cfg.yaml: whole file\ncfg.yaml:12: line twelve\n");
}

// --- Model groups (issue 5): deployments, balancer, hash key, retries, breaker, outlier
// detection, fallbacks, the routing: defaults.

constexpr const char* kTwoBackends =
    "backends:\n"
    "  - {name: a, url: 'http://h1'}\n"
    "  - {name: b, url: 'http://h2'}\n";

TEST(LoaderGroups, TheOneBackendShorthandIsAOneDeploymentGroupWithDefaults) {
  auto held = Ok(Load(std::string(kTwoBackends) +
                      "models:\n  - name: m\n    backend: a\n    upstream_model: x\n"));
  const ModelConfig& m = *held->models[0];
  ASSERT_EQ(m.deployments.size(), 1u);
  EXPECT_EQ(m.deployments[0].backend, held->backends[0].get());
  EXPECT_EQ(m.deployments[0].upstream_model, "x");
  EXPECT_EQ(m.deployments[0].weight, 1u);
  EXPECT_EQ(m.deployments[0].key, "a/x");
  EXPECT_EQ(m.backend, held->backends[0].get());
  EXPECT_EQ(m.upstream_model, "x");
  EXPECT_EQ(m.index, 0u);
  EXPECT_EQ(m.balancer, "p2c_ewma");
  EXPECT_EQ(m.hash_key.kind, HashKeyKind::kNone);
  EXPECT_EQ(m.retries.attempts, 2u);
  EXPECT_EQ(m.retries.backoff_base, milliseconds(100));
  EXPECT_EQ(m.retries.backoff_max, milliseconds(2'000));
  EXPECT_DOUBLE_EQ(m.retries.budget_ratio, 0.2);
  EXPECT_EQ(m.retries.budget_min_concurrent, 3u);
  EXPECT_EQ(m.circuit_breaker, BreakerConfig{});
  EXPECT_EQ(m.outlier_detection, OutlierConfig{});
  EXPECT_TRUE(m.fallbacks.empty());
}

TEST(LoaderGroups, DeploymentsGroupSettingsAndFallbacksAreRead) {
  auto held = Ok(Load(std::string(kTwoBackends) +
                      "routing:\n"
                      "  retries: {attempts: 3, backoff: {base: 50ms, max: 1s}}\n"
                      "  circuit_breaker: {consecutive_failures: 7, open_duration: 5s}\n"
                      "  outlier_detection: {consecutive_errors: 4, base_ejection_time: 2s}\n"
                      "models:\n"
                      "  - name: chat\n"
                      "    deployments:\n"
                      "      - backend: a\n"
                      "        upstream_model: big\n"
                      "        weight: 3\n"
                      "        tags: {region: eu, tier: gold}\n"
                      "      - {backend: b, weight: 0}\n"
                      "    balancer: maglev\n"
                      "    hash_key: header:X-Session\n"
                      "    retries: {budget: {ratio: 0.5, min_concurrent: 1}}\n"
                      "    outlier_detection: {max_ejection_percent: 50}\n"
                      "    fallbacks:\n"
                      "      - {on: [rate_limited, unavailable], to: backup-alias}\n"
                      "      - {on: [context_window_exceeded, content_policy], to: backup}\n"
                      "  - name: backup\n"
                      "    aliases: [backup-alias]\n"
                      "    backend: b\n"
                      "    balancer: round_robin\n"
                      "    retries: {attempts: 0}\n"));
  const ModelConfig& chat = *held->models[0];
  const ModelConfig& backup = *held->models[1];
  ASSERT_EQ(chat.deployments.size(), 2u);
  EXPECT_EQ(chat.deployments[0].key, "a/big");
  EXPECT_EQ(chat.deployments[0].weight, 3u);
  ASSERT_EQ(chat.deployments[0].tags.size(), 2u);
  EXPECT_EQ(chat.deployments[0].tags[0], (std::pair<std::string, std::string>{"region", "eu"}));
  EXPECT_EQ(chat.deployments[1].key, "b/chat") << "upstream_model defaults to the name";
  EXPECT_EQ(chat.deployments[1].weight, 0u);
  EXPECT_EQ(chat.backend, held->backends[0].get()) << "the first deployment's";
  EXPECT_EQ(chat.balancer, "maglev");
  EXPECT_EQ(chat.hash_key.kind, HashKeyKind::kHeader);
  EXPECT_EQ(chat.hash_key.header, "X-Session");
  // Per-model blocks override the routing: defaults key by key.
  EXPECT_EQ(chat.retries.attempts, 3u);
  EXPECT_EQ(chat.retries.backoff_base, milliseconds(50));
  EXPECT_DOUBLE_EQ(chat.retries.budget_ratio, 0.5);
  EXPECT_EQ(chat.retries.budget_min_concurrent, 1u);
  EXPECT_EQ(chat.circuit_breaker.consecutive_failures, 7u);
  EXPECT_EQ(chat.circuit_breaker.open_duration, milliseconds(5'000));
  EXPECT_EQ(chat.outlier_detection.consecutive_errors, 4u);
  EXPECT_EQ(chat.outlier_detection.base_ejection_time, milliseconds(2'000));
  EXPECT_DOUBLE_EQ(chat.outlier_detection.max_ejection_percent, 50);
  ASSERT_EQ(chat.fallbacks.size(), 2u);
  EXPECT_EQ(chat.fallbacks[0].on, kFallbackRateLimited | kFallbackUnavailable);
  EXPECT_EQ(chat.fallbacks[0].model, &backup) << "resolved through the alias";
  EXPECT_EQ(chat.fallbacks[1].on, kFallbackContextWindow | kFallbackContentPolicy);
  EXPECT_EQ(backup.index, 1u);
  EXPECT_EQ(backup.retries.attempts, 0u);
  EXPECT_EQ(backup.retries.backoff_max, milliseconds(1'000)) << "from routing:";
}

TEST(LoaderGroups, FallbacksDefaultToRateLimitedAndUnavailable) {
  auto held = Ok(Load(std::string(kTwoBackends) +
                      "models:\n  - name: m\n    backend: a\n    fallbacks: [{to: n}]\n"
                      "  - name: n\n    backend: b\n"));
  ASSERT_EQ(held->models[0]->fallbacks.size(), 1u);
  EXPECT_EQ(held->models[0]->fallbacks[0].on, kFallbackRateLimited | kFallbackUnavailable);
}

TEST(LoaderGroups, HashKeys) {
  for (auto [text, kind] : std::vector<std::pair<std::string, HashKeyKind>>{
           {"user", HashKeyKind::kUser},
           {"key", HashKeyKind::kApiKey},
           {"client_ip", HashKeyKind::kClientIp},
           {"'header: x-user'", HashKeyKind::kHeader}}) {
    auto held = Ok(Load(std::string(kTwoBackends) +
                        "models:\n  - name: m\n    balancer: ring_hash\n    hash_key: " + text +
                        "\n    deployments: [{backend: a}, {backend: b}]\n"));
    EXPECT_EQ(held->models[0]->hash_key.kind, kind) << text;
  }
}

const std::vector<ErrorCase>& GroupErrorTable() {
  static const std::string b = kTwoBackends;  // lines 1-3
  static const std::vector<ErrorCase> table = {
      {"both_shorthand_and_deployments",
       b + "models:\n  - name: m\n    backend: a\n    deployments: [{backend: b}]\n", 7,
       "use either backend/upstream_model or deployments"},
      {"empty_deployments", b + "models:\n  - name: m\n    deployments: []\n", 6,
       "must be a non-empty list"},
      {"deployment_unknown_backend",
       b + "models:\n  - name: m\n    deployments:\n      - backend: z\n", 7,
       "unknown backend 'z'"},
      {"deployment_without_backend",
       b + "models:\n  - name: m\n    deployments:\n      - upstream_model: x\n", 7,
       "a deployment needs a backend"},
      {"deployment_unknown_key",
       b + "models:\n  - name: m\n    deployments:\n      - backend: a\n        wieght: 2\n", 8,
       "unknown key 'wieght'"},
      {"deployment_twice",
       b + "models:\n  - name: m\n    deployments:\n      - {backend: a}\n      - {backend: a}\n",
       8, "deployment 'a/m' is listed twice"},
      {"all_weights_zero",
       b + "models:\n  - name: m\n    deployments:\n      - {backend: a, weight: 0}\n", 7,
       "must not all be 0"},
      {"unknown_balancer", b + "models:\n  - name: m\n    backend: a\n    balancer: fastest\n", 7,
       "unknown balancer 'fastest'"},
      {"hashing_without_key", b + "models:\n  - name: m\n    backend: a\n    balancer: maglev\n", 7,
       "needs a hash_key"},
      {"hash_key_without_hashing", b + "models:\n  - name: m\n    backend: a\n    hash_key: user\n",
       7, "applies only to the ring_hash and maglev balancers"},
      {"bad_hash_key",
       b + "models:\n  - name: m\n    backend: a\n    balancer: ring_hash\n    hash_key: cookie\n",
       8, "must be user, key, header:<name> or client_ip"},
      {"bad_hash_header",
       b + "models:\n  - name: m\n    backend: a\n    balancer: ring_hash\n"
           "    hash_key: 'header:'\n",
       8, "needs a valid header name"},
      {"retries_unknown_key", b + "models:\n  - name: m\n    backend: a\n    retries: {tries: 1}\n",
       7, "unknown key 'tries'"},
      {"retries_too_many", b + "routing:\n  retries:\n    attempts: 11\n", 6,
       "must be between 0 and 10"},
      {"backoff_max_below_base", b + "routing:\n  retries:\n    backoff: {base: 2s, max: 1s}\n", 6,
       "max must not be smaller than base"},
      {"budget_ratio_above_one", b + "routing:\n  retries:\n    budget:\n      ratio: 1.5\n", 7,
       "must be a number between 0 and 1"},
      {"breaker_bad_duration", b + "routing:\n  circuit_breaker:\n    open_duration: 1ms\n", 6,
       "must be at least 10ms"},
      {"breaker_unknown_key", b + "routing:\n  circuit_breaker:\n    threshold: 3\n", 6,
       "unknown key 'threshold'"},
      {"outlier_percent", b + "routing:\n  outlier_detection:\n    max_ejection_percent: 120\n", 6,
       "must be a number between 0 and 100"},
      {"outlier_max_below_base",
       b + "routing:\n  outlier_detection:\n    base_ejection_time: 10s\n"
           "    max_ejection_time: 1s\n",
       7, "must not be smaller than base_ejection_time"},
      {"routing_unknown_key", b + "routing:\n  retry: {}\n", 5, "unknown key 'retry'"},
      {"fallback_unknown_model",
       b + "models:\n  - name: m\n    backend: a\n    fallbacks:\n      - to: nope\n", 8,
       "unknown model 'nope'"},
      {"fallback_to_itself",
       b + "models:\n  - name: m\n    backend: a\n    fallbacks:\n      - to: m\n", 8,
       "cannot fall back to itself"},
      {"fallback_without_to",
       b + "models:\n  - name: m\n    backend: a\n    fallbacks:\n      - on: [unavailable]\n", 8,
       "a fallback needs `to: <model>`"},
      {"fallback_unknown_class",
       b + "models:\n  - name: m\n    backend: a\n    fallbacks:\n      - on: [timeout]\n"
           "        to: m\n",
       8, "unknown error class 'timeout'"},
      {"fallbacks_not_a_list", b + "models:\n  - name: m\n    backend: a\n    fallbacks: {to: n}\n",
       7, "must be a list"},
      {"shared_deployment_two_breakers",
       b + "models:\n  - name: m\n    backend: a\n    upstream_model: x\n"
           "  - name: n\n    backend: a\n    upstream_model: x\n"
           "    circuit_breaker: {consecutive_failures: 2}\n",
       8, "deployment 'a/x' is also in model 'm' with other circuit_breaker settings"},
  };
  return table;
}

class LoaderGroupErrorTest : public testing::TestWithParam<ErrorCase> {};

TEST_P(LoaderGroupErrorTest, ReportsFileLineAndMessage) {
  const ErrorCase& c = GetParam();
  LoadResult result = Load(c.yaml);
  EXPECT_EQ(result.snapshot, nullptr);
  EXPECT_TRUE(HasErrorAt(result.errors, c.line, c.message_part));
}

INSTANTIATE_TEST_SUITE_P(Config, LoaderGroupErrorTest, testing::ValuesIn(GroupErrorTable()),
                         ErrorCaseName);

TEST(Loader, ContentIdNamesTheFileText) {
  auto a = Ok(Load("models: []\n"));
  auto b = Ok(Load("models: []\n"));
  auto c = Ok(Load("models: []  # edited\n"));
  EXPECT_EQ(a->content_id.rfind("sha256:", 0), 0u);
  EXPECT_EQ(a->content_id.size(), 7u + 12u);
  EXPECT_EQ(a->content_id, b->content_id);
  EXPECT_NE(a->content_id, c->content_id);
}

TEST(Loader, RestartOnlyChangesNameTheSectionsThatDiffer) {
  const std::string base =
      "server: {listen: '127.0.0.1:0', workers: 1}\n"
      "backends: [{name: up, url: 'http://127.0.0.1:1/v1'}]\n"
      "models: [{name: m, backend: up}]\n";
  auto running = Ok(Load(base));
  // Models, backends, aliases, comments and formatting may change on a reload.
  auto reloadable = Ok(Load(base + "# a comment\nrouting: {retries: {attempts: 1}}\n"));
  EXPECT_TRUE(reloadable->RestartOnlyChanges(*running).empty());
  auto models_changed =
      Ok(Load("server: {listen: '127.0.0.1:0', workers: 1}\n"
              "backends: [{name: up, url: 'http://127.0.0.1:2/v1'}]\n"
              "models: [{name: m2, backend: up}]\n"));
  EXPECT_TRUE(models_changed->RestartOnlyChanges(*running).empty());
  // Listeners, workers, store, identity and limits are opened once.
  auto server_changed =
      Ok(Load("server: {listen: '127.0.0.1:0', workers: 2}\n"
              "backends: [{name: up, url: 'http://127.0.0.1:1/v1'}]\n"
              "models: [{name: m, backend: up}]\n"));
  EXPECT_EQ(server_changed->RestartOnlyChanges(*running), std::vector<std::string_view>{"server"});
  auto added = Ok(Load(base + "limits: {policies: []}\nstore: {sqlite: /tmp/x.db}\n"));
  EXPECT_EQ(added->RestartOnlyChanges(*running),
            (std::vector<std::string_view>{"store", "limits"}));
  EXPECT_EQ(running->RestartOnlyChanges(*added), (std::vector<std::string_view>{"store", "limits"}))
      << "removing a section is a change too";
}

TEST(Loader, WatchConfigDefaultsOnAndCanBeTurnedOff) {
  EXPECT_TRUE(Ok(Load(""))->server.watch_config);
  EXPECT_FALSE(Ok(Load("server: {watch_config: false}"))->server.watch_config);
}

}  // namespace
}  // namespace sluice
