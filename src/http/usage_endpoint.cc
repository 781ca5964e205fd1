// GET /v1/usage: usage sums from the store and a zero-amount limiter decision (a peek).
#include "http/usage_endpoint.h"

#include <boost/json/serialize.hpp>

#include "auth/auth_runtime.h"
#include "limits/limits_runtime.h"

namespace sluice {
namespace json = boost::json;

namespace {

json::object SumsJson(const UsageSums& sums, int64_t from_ms) {
  return {{"from_ms", from_ms},
          {"requests", sums.requests},
          {"prompt_tokens", sums.prompt_tokens},
          {"completion_tokens", sums.completion_tokens},
          {"cached_tokens", sums.cached_tokens},
          {"cost_usd", static_cast<double>(sums.cost_micros) / 1e6},
          {"errors", sums.errors}};
}

std::string_view RoleName(limits::CheckRole role) {
  switch (role) {
    case limits::CheckRole::kRequests:
      return "requests";
    case limits::CheckRole::kTokens:
      return "tokens";
    case limits::CheckRole::kConcurrency:
      return "concurrency";
    case limits::CheckRole::kBudgetTokens:
      return "budget_tokens";
    case limits::CheckRole::kBudgetMoney:
      return "budget_usd";
  }
  return "";
}

}  // namespace

boost::asio::awaitable<LocalReply> HandleUsageRequest(const Services& services,
                                                      RequestContext& ctx) {
  if (!ctx.principal || services.auth == nullptr) {
    co_return ErrorReply(ErrorClass::kRouteNotFound,
                         "GET /v1/usage needs authentication (an auth: section).");
  }
  const Principal& who = *ctx.principal;
  auto now = std::chrono::system_clock::now();
  int64_t now_us =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  // Calendar of the budgets (UTC without a limits: section).
  static const std::shared_ptr<const limits::TimeZone> kUtc = limits::TimeZone::Fixed("UTC", 0);
  const limits::TimeZone* calendar = kUtc.get();
  if (services.limits != nullptr) calendar = &services.limits->zone();
  int64_t day_ms =
      limits::WindowContaining(*calendar, limits::WindowUnit::kDay, now_us).start_us / 1000;
  int64_t month_ms =
      limits::WindowContaining(*calendar, limits::WindowUnit::kMonth, now_us).start_us / 1000;

  UsageFilter filter;
  // An API key sees its own usage; a signed-in or external user sees theirs.
  if (!who.key_id.empty()) {
    filter.key_id = who.key_id;
  } else {
    filter.user_id = who.user_id.empty() ? who.id : who.user_id;
  }
  AuthRuntime& auth = *services.auth;
  StoreResult<UsageSums> today = StoreResult<UsageSums>(UsageSums{});
  StoreResult<UsageSums> month = StoreResult<UsageSums>(UsageSums{});
  co_await auth.store_pool().Run([&] {
    UsageFilter day_filter = filter;
    day_filter.from_ms = day_ms;
    today = auth.store().UsageTotals(day_filter);
    UsageFilter month_filter = filter;
    month_filter.from_ms = month_ms;
    month = auth.store().UsageTotals(month_filter);
    return 0;
  });
  if (!today.ok() || !month.ok()) {
    co_return ErrorReply(ErrorClass::kUnavailable, "Usage is unavailable; try again shortly.");
  }

  json::object body{{"object", "usage"}};
  body["principal"] = {
      {"id", who.id}, {"key_id", who.key_id}, {"user_id", who.user_id}, {"team_id", who.team_id}};
  body["usage"] = {{"day", SumsJson(today.value(), day_ms)},
                   {"month", SumsJson(month.value(), month_ms)}};
  json::array limits_json;
  if (services.limits != nullptr) {
    limits::LimitsRuntime& runtime = *services.limits;
    limits::PlannedChecks planned;
    runtime.plan().Build(ctx, limits::RequestEstimate{}, now_us, planned);
    for (limits::Check& check : planned.checks) check.amount = 0;  // a peek: charges nothing
    if (planned.checks.size() > limits::kMaxChecks) planned.checks.resize(limits::kMaxChecks);
    if (!planned.checks.empty()) {
      limits::Decision state = co_await runtime.store().Acquire(planned.checks, now_us);
      for (size_t i = 0; i < planned.checks.size() && i < state.count; ++i) {
        const auto& meta = planned.meta[i];
        limits_json.push_back(
            json::object{{"policy", runtime.plan().policy(meta.policy).name},
                         {"kind", RoleName(meta.role)},
                         {"limit", state.counters[i].limit},
                         {"remaining", state.counters[i].remaining},
                         {"reset_seconds", static_cast<double>(state.counters[i].reset_us) / 1e6}});
      }
    }
  }
  body["limits"] = std::move(limits_json);
  co_return JsonReply(200, json::serialize(body));
}

}  // namespace sluice
