// The filter registry. To add a filter: create src/filters/<name>/, add one entry below,
// and document its settings in docs/configuration.md.
#include "filters/registry.h"

#include "filters/access_log/access_log_filter.h"
#include "filters/auth/auth_filter.h"
#include "filters/authorize/authorize_filter.h"
#include "filters/rate_limit/rate_limit_filter.h"
#include "filters/request_id/request_id_filter.h"

namespace sluice::filters {
namespace {

struct Entry {
  std::string_view name;
  std::shared_ptr<const FilterFactory> (*build)(const ConfigNode& settings,
                                                const Services* services);
};

template <class Factory, class Config>
std::shared_ptr<const FilterFactory> Make(std::optional<Config> config) {
  if (!config) return nullptr;
  return std::make_shared<Factory>(std::move(*config));
}

// For filters whose settings live in their own top-level config section (auth:): the
// filter entry itself takes no settings.
template <class Factory>
std::shared_ptr<const FilterFactory> MakeWithServices(const ConfigNode& settings,
                                                      const Services* services) {
  if (settings.defined()) {
    settings.ExpectMap();
    settings.AllowKeys({});
  }
  return std::make_shared<Factory>(services);
}

constexpr Entry kFilters[] = {
    {"request_id",
     [](const ConfigNode& s, const Services*) {
       return Make<RequestIdFilterFactory>(ParseRequestIdConfig(s));
     }},
    {"auth", &MakeWithServices<AuthFilterFactory>},
    {"authorize", &MakeWithServices<AuthorizeFilterFactory>},
    {"rate_limit", &MakeWithServices<RateLimitFilterFactory>},
    {"access_log",
     [](const ConfigNode& s, const Services*) {
       return Make<AccessLogFilterFactory>(ParseAccessLogConfig(s));
     }},
};

}  // namespace

std::shared_ptr<const FilterFactory> Registry::Build(std::string_view name,
                                                     const ConfigNode& settings) const {
  for (const Entry& entry : kFilters) {
    if (entry.name == name) return entry.build(settings, services_);
  }
  std::string known;
  for (const Entry& entry : kFilters) {
    if (!known.empty()) known += ", ";
    known += entry.name;
  }
  settings.Error("unknown filter '" + std::string(name) + "' (known filters: " + known + ")");
  return nullptr;
}

std::vector<std::string_view> Registry::DefaultChain(bool auth_configured,
                                                     bool limits_configured) const {
  // access_log before auth: filters after one that answers never run, and rejected
  // requests (401, 403, 429) must be logged too. rate_limit after auth: per-key, user
  // and team limits need the principal.
  std::vector<std::string_view> chain = {"request_id", "access_log"};
  if (auth_configured) {
    chain.push_back("auth");
    chain.push_back("authorize");
  }
  if (limits_configured) chain.push_back("rate_limit");
  return chain;
}

std::vector<std::string_view> Registry::Names() {
  std::vector<std::string_view> names;
  for (const Entry& entry : kFilters) names.push_back(entry.name);
  return names;
}

}  // namespace sluice::filters
