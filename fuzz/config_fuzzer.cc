// libFuzzer driver: configuration loading from YAML text (LoadConfigText). A fake filter
// catalog stands in for the registry so fuzzing never opens log files. Checks that loading
// never throws or crashes, that the result is either a snapshot or errors, that every
// error names the file, and the invariants of an accepted snapshot.
#include <boost/json/parse.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config/loader.h"
#include "fuzz/fuzz_check.h"

namespace {

using namespace sluice;

class NamedFactory final : public FilterFactory {
 public:
  explicit NamedFactory(std::string name) : name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  std::unique_ptr<Filter> NewFilter() const override { return std::make_unique<Filter>(); }

 private:
  std::string name_;
};

class FuzzCatalog final : public FilterCatalog {
 public:
  std::shared_ptr<const FilterFactory> Build(std::string_view name,
                                             const ConfigNode& settings) const override {
    if (name != "request_id" && name != "access_log") {
      settings.Error("unknown filter '" + std::string(name) + "'");
      return nullptr;
    }
    settings.AllowKeys({"trust_incoming", "upstream_header", "output"});
    settings.Bool("trust_incoming", true);
    settings.String("upstream_header", "");
    settings.String("output", "stdout");
    return std::make_shared<NamedFactory>(std::string(name));
  }
  std::vector<std::string_view> DefaultChain(bool, bool) const override { return {"request_id"}; }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  static const FuzzCatalog catalog;
  std::string_view yaml(reinterpret_cast<const char*>(bytes), size);
  LoadResult result = LoadConfigText(yaml, "fuzz.yaml", catalog);
  FUZZ_CHECK((result.snapshot == nullptr) != result.errors.empty());
  for (const std::string& e : result.errors) FUZZ_CHECK(e.rfind("fuzz.yaml", 0) == 0);
  if (const Snapshot* snap = result.snapshot.get()) {
    FUZZ_CHECK(snap->server.max_uri_bytes < snap->server.max_head_bytes);
    FUZZ_CHECK(snap->server.workers >= 1);
    for (const auto& b : snap->backends) {
      FUZZ_CHECK(!b->name.empty() && !b->host.empty());
      FUZZ_CHECK(b->tls == (b->tls_context != nullptr));
      FUZZ_CHECK(b->extra_headers.find('\n') == std::string::npos ||
                 b->extra_headers.back() == '\n');
    }
    for (const auto& m : snap->models) {
      FUZZ_CHECK(m->backend != nullptr);
      FUZZ_CHECK(snap->FindModel(m->name) == m.get());
      for (const std::string& alias : m->aliases) FUZZ_CHECK(snap->FindModel(alias) == m.get());
    }
    boost::system::error_code ec;
    boost::json::parse(snap->models_json(), ec);
    FUZZ_CHECK(!ec);
  }
  return 0;
}
