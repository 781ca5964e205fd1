// Tests of the filter registry through the real config loader: known filters and their
// settings, the default chain, and errors (unknown filter, bad settings) with file:line.
#include "filters/registry.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "config/loader.h"

namespace sluice::filters {
namespace {

std::string Joined(const std::vector<std::string>& errors) {
  std::string out;
  for (const std::string& e : errors) out += e + "\n";
  return out;
}

LoadResult Load(const std::string& yaml) {
  static const Registry registry;
  return LoadConfigText(yaml, "gw.yaml", registry);
}

TEST(Registry, Names) {
  EXPECT_EQ(Registry::Names(), (std::vector<std::string_view>{"request_id", "auth", "authorize",
                                                              "rate_limit", "access_log"}));
}

TEST(Registry, DefaultChainWhenNoFiltersSection) {
  Registry registry;
  EXPECT_EQ(registry.DefaultChain(false, false),
            (std::vector<std::string_view>{"request_id", "access_log"}));
  EXPECT_EQ(registry.DefaultChain(true, false),
            (std::vector<std::string_view>{"request_id", "access_log", "auth", "authorize"}));
  EXPECT_EQ(registry.DefaultChain(true, true),
            (std::vector<std::string_view>{"request_id", "access_log", "auth", "authorize",
                                           "rate_limit"}));
  EXPECT_EQ(registry.DefaultChain(false, true),
            (std::vector<std::string_view>{"request_id", "access_log", "rate_limit"}));
  LoadResult result = Load("server:\n  listen: 127.0.0.1:0\n");
  ASSERT_TRUE(result.errors.empty()) << Joined(result.errors);
  const FilterChain& chain = result.snapshot->chain;
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain.factory(0).name(), "request_id");
  EXPECT_EQ(chain.factory(1).name(), "access_log");
  EXPECT_FALSE(chain.factory(0).sees_rejected_requests());
  EXPECT_TRUE(chain.factory(1).sees_rejected_requests());
}

TEST(Registry, ConfiguredChainInOrder) {
  std::string path = testing::TempDir() + "sluice_ut_registry_access.log";
  LoadResult result = Load(
      "filters:\n"
      "  - access_log:\n"
      "      output: " +
      path +
      "\n"
      "  - request_id:\n"
      "      trust_incoming: false\n"
      "      upstream_header: X-Correlation-Id\n");
  ASSERT_TRUE(result.errors.empty()) << Joined(result.errors);
  const FilterChain& chain = result.snapshot->chain;
  ASSERT_EQ(chain.size(), 2u);
  EXPECT_EQ(chain.factory(0).name(), "access_log");
  EXPECT_EQ(chain.factory(1).name(), "request_id");
  std::remove(path.c_str());
}

TEST(Registry, FilterWithoutSettingsUsesDefaults) {
  LoadResult result = Load("filters:\n  - request_id:\n  - access_log: {}\n");
  ASSERT_TRUE(result.errors.empty()) << Joined(result.errors);
  EXPECT_EQ(result.snapshot->chain.size(), 2u);
}

TEST(Registry, Errors) {
  const struct {
    const char* name;
    std::string yaml;
    const char* prefix;
    const char* message_part;
  } kCases[] = {
      {"unknown_filter", "filters:\n  - request_id: {}\n  - throttle: {rpm: 5}\n", "gw.yaml:3: ",
       "unknown filter 'throttle' (known filters: request_id, auth, authorize, rate_limit, "
       "access_log)"},
      {"unknown_filter_no_settings", "filters:\n  - throttle:\n",
       "gw.yaml:2: ", "unknown filter 'throttle'"},
      {"rate_limit_without_limits", "filters:\n  - rate_limit: {}\n",
       "gw.yaml:2: ", "filter 'rate_limit' needs a limits: section"},
      {"request_id_unknown_key", "filters:\n  - request_id:\n      trust: true\n",
       "gw.yaml:3: ", "unknown key 'trust'"},
      {"request_id_bad_bool", "filters:\n  - request_id:\n      trust_incoming: sometimes\n",
       "gw.yaml:3: ", "must be true or false"},
      {"request_id_bad_header", "filters:\n  - request_id:\n      upstream_header: \"X Id\"\n",
       "gw.yaml:3: ", "must be a header name"},
      {"request_id_header_injection",
       "filters:\n  - request_id:\n      upstream_header: \"X-Id: 1\\r\\nEvil\"\n",
       "gw.yaml:3: ", "must be a header name"},
      {"authorize_without_auth", "filters:\n  - authorize:\n  - auth:\n",
       "gw.yaml:2: ", "needs the 'auth' filter earlier"},
      {"auth_takes_no_settings", "filters:\n  - auth:\n      keys: x\n",
       "gw.yaml:3: ", "unknown key 'keys'"},
      {"access_log_unknown_key", "filters:\n  - access_log:\n      format: json\n",
       "gw.yaml:3: ", "unknown key 'format'"},
      {"access_log_unwritable", "filters:\n  - access_log:\n      output: /nonexistent/dir/a.log\n",
       "gw.yaml:3: ", "cannot open '/nonexistent/dir/a.log'"},
  };
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    LoadResult result = Load(c.yaml);
    EXPECT_EQ(result.snapshot, nullptr);
    bool found = false;
    for (const std::string& e : result.errors) {
      found = found || (e.rfind(c.prefix, 0) == 0 && e.find(c.message_part) != std::string::npos);
    }
    EXPECT_TRUE(found) << Joined(result.errors);
  }
}

}  // namespace
}  // namespace sluice::filters
