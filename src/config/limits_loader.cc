// Reader of the limits: section and of model prices. Only shapes, names and ranges are
// checked here; the limits runtime compiles policies into counters.
#include "config/limits_loader.h"

#include <cmath>
#include <cstdlib>
#include <set>

namespace sluice {
namespace {

constexpr int64_t kMaxLimit = int64_t{1} << 50;

std::optional<double> ParseNumber(const ConfigNode& node) {
  auto text = node.Scalar();
  if (!text) return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(text->c_str(), &end);
  if (text->empty() || end != text->c_str() + text->size() || !std::isfinite(value) || value < 0) {
    node.Error("must be a non-negative number, not '" + *text + "'");
    return std::nullopt;
  }
  return value;
}

std::optional<LimitSubject> ParseSubject(std::string_view text) {
  if (text == "key") return LimitSubject::kKey;
  if (text == "user") return LimitSubject::kUser;
  if (text == "team") return LimitSubject::kTeam;
  if (text == "tier") return LimitSubject::kTier;
  if (text == "model") return LimitSubject::kModel;
  if (text == "route") return LimitSubject::kRoute;
  if (text == "client_ip" || text == "ip") return LimitSubject::kClientIp;
  return std::nullopt;
}

std::optional<StoreFailurePolicy> ParseFailurePolicy(std::string_view text) {
  if (text == "local_fallback") return StoreFailurePolicy::kLocalFallback;
  if (text == "fail_open") return StoreFailurePolicy::kFailOpen;
  if (text == "fail_closed") return StoreFailurePolicy::kFailClosed;
  return std::nullopt;
}

// `requests:` / `tokens:` as "60/minute" or {limit: 60, per: minute, burst: 10}.
void ReadRate(const ConfigNode& node, RateSpec& rate, bool tokens, TokenCount* count) {
  if (!node.defined()) return;
  if (node.is_scalar()) {
    std::string text = node.Scalar().value_or("");
    size_t slash = text.find('/');
    auto period = slash == std::string::npos
                      ? std::nullopt
                      : ParseRatePeriod(std::string_view(text).substr(slash + 1));
    char* end = nullptr;
    long long limit = std::strtoll(text.c_str(), &end, 10);
    if (!period || end != text.c_str() + slash || limit <= 0 || limit > kMaxLimit) {
      node.Error(
          "must look like 60/minute (a positive count per second, minute, hour or day), "
          "not '" +
          text + "'");
      return;
    }
    rate.limit = limit;
    rate.period = *period;
    return;
  }
  if (!node.ExpectMap(false)) return;
  if (tokens) {
    node.AllowKeys({"limit", "per", "burst", "count"});
  } else {
    node.AllowKeys({"limit", "per", "burst"});
  }
  rate.limit = node.Int("limit", 0, 1, kMaxLimit);
  if (!node.Has("limit")) node.Error("needs 'limit'");
  std::string per = node.String("per", "minute");
  auto period = ParseRatePeriod(per);
  if (!period) {
    node.Child("per").Error("must be second, minute, hour or day, not '" + per + "'");
  } else {
    rate.period = *period;
  }
  rate.burst = node.Int("burst", 0, 1, kMaxLimit);
  if (count != nullptr && node.Has("count")) {
    std::string text = node.String("count", "total");
    if (text == "prompt") {
      *count = TokenCount::kPrompt;
    } else if (text == "completion") {
      *count = TokenCount::kCompletion;
    } else if (text == "total") {
      *count = TokenCount::kTotal;
    } else {
      node.Child("count").Error("must be prompt, completion or total, not '" + text + "'");
    }
  }
}

// `budget:` {usd: 100, per: month} or {tokens: 1000000, per: day}.
void ReadBudget(const ConfigNode& node, BudgetSpec& budget) {
  if (!node.ExpectMap(false)) return;
  node.AllowKeys({"usd", "tokens", "per"});
  if (node.Has("usd") == node.Has("tokens")) {
    node.Error("a budget needs exactly one of usd or tokens");
    return;
  }
  if (node.Has("usd")) {
    budget.money = true;
    if (auto usd = ParseNumber(node.Child("usd"))) {
      budget.limit = static_cast<int64_t>(std::llround(*usd * 1e6));
    }
  } else {
    budget.limit = node.Int("tokens", 0, 1, kMaxLimit);
  }
  std::string per = node.String("per", "month");
  if (per == "day") {
    budget.period = BudgetPeriod::kDay;
  } else if (per == "week") {
    budget.period = BudgetPeriod::kWeek;
  } else if (per == "month") {
    budget.period = BudgetPeriod::kMonth;
  } else {
    node.Child("per").Error("must be day, week or month, not '" + per + "'");
  }
}

void ReadPolicy(const ConfigNode& node, LimitPolicyConfig& policy) {
  node.AllowKeys({"name", "per", "models", "tiers", "routes", "requests", "tokens", "concurrency",
                  "budget", "budgets", "on_budget_exceeded", "on_store_failure",
                  "budget_on_store_failure"});
  policy.line = node.line();
  policy.name = node.String("name", "");
  if (policy.name.empty()) node.Error("a limit policy needs a name");
  ConfigNode per = node.Child("per");
  std::vector<std::string> subjects;
  if (per.defined() && per.is_scalar()) {
    subjects.push_back(per.Scalar().value_or(""));
  } else {
    subjects = node.StringList("per");
  }
  std::set<LimitSubject> seen;
  for (const std::string& s : subjects) {
    auto subject = ParseSubject(s);
    if (!subject) {
      per.Error("unknown subject '" + s +
                "' (known: key, user, team, tier, model, route, client_ip)");
    } else if (!seen.insert(*subject).second) {
      per.Error("subject '" + s + "' is listed twice");
    } else {
      policy.per.push_back(*subject);
    }
  }
  policy.models = node.StringList("models");
  policy.tiers = node.StringList("tiers");
  policy.routes = node.StringList("routes");
  for (const std::string& route : policy.routes) {
    if (route != "chat" && route != "completions" && route != "embeddings") {
      node.Child("routes").Error("unknown route '" + route +
                                 "' (known: chat, completions, embeddings)");
    }
  }
  ReadRate(node.Child("requests"), policy.requests, false, nullptr);
  ReadRate(node.Child("tokens"), policy.tokens, true, &policy.token_count);
  policy.concurrency = node.Int("concurrency", 0, 1, kMaxLimit);
  if (node.Has("budget")) {
    BudgetSpec budget;
    ReadBudget(node.Child("budget"), budget);
    policy.budgets.push_back(budget);
  }
  ConfigNode budgets = node.Child("budgets");
  if (budgets.defined() && !budgets.is_sequence()) budgets.Error("must be a list");
  for (const ConfigNode& item : budgets.Items()) {
    BudgetSpec budget;
    ReadBudget(item, budget);
    policy.budgets.push_back(budget);
  }
  std::string action = node.String("on_budget_exceeded", "cut");
  if (action == "cut") {
    policy.on_budget_exceeded = BudgetAction::kCut;
  } else if (action == "finish") {
    policy.on_budget_exceeded = BudgetAction::kFinish;
  } else {
    node.Child("on_budget_exceeded").Error("must be cut or finish, not '" + action + "'");
  }
  for (auto [key, target] :
       {std::pair{"on_store_failure", &policy.on_store_failure},
        std::pair{"budget_on_store_failure", &policy.budget_on_store_failure}}) {
    if (!node.Has(key)) continue;
    std::string text = node.String(key, "");
    auto parsed = ParseFailurePolicy(text);
    if (!parsed) {
      node.Child(key).Error("must be local_fallback, fail_open or fail_closed, not '" + text + "'");
    } else {
      *target = *parsed;
    }
  }
  if (policy.requests.limit == 0 && policy.tokens.limit == 0 && policy.concurrency == 0 &&
      policy.budgets.empty()) {
    node.Error("limit policy '" + policy.name +
               "' limits nothing (set requests, tokens, concurrency or budget)");
  }
}

void ReadRedis(const ConfigNode& node, RedisConfig& redis) {
  if (!node.ExpectMap()) return;
  node.AllowKeys({"host", "port", "db", "password_env", "timeout", "instances"});
  redis.host = node.String("host", redis.host);
  redis.port = static_cast<uint16_t>(node.Int("port", redis.port, 1, 65535));
  redis.db = static_cast<int>(node.Int("db", redis.db, 0, 15));
  redis.password_env = node.String("password_env", "");
  if (!redis.password_env.empty()) {
    const char* password = std::getenv(redis.password_env.c_str());
    if (password == nullptr || *password == '\0') {
      node.Child("password_env")
          .Error("environment variable " + redis.password_env + " is not set");
    } else {
      redis.password = password;
    }
  }
  redis.timeout = node.Duration("timeout", redis.timeout);
  redis.instances = static_cast<int>(node.Int("instances", redis.instances, 1, 10'000));
}

}  // namespace

std::optional<std::chrono::milliseconds> ParseRatePeriod(std::string_view text) {
  using std::chrono::milliseconds;
  if (text == "second" || text == "s" || text == "sec") return milliseconds(1'000);
  if (text == "minute" || text == "m" || text == "min") return milliseconds(60'000);
  if (text == "hour" || text == "h") return milliseconds(3'600'000);
  if (text == "day" || text == "d") return milliseconds(86'400'000);
  return std::nullopt;
}

void ReadLimits(const ConfigNode& node, LimitsConfig& limits) {
  if (!node.defined()) return;
  if (!node.ExpectMap()) return;
  limits.configured = true;
  node.AllowKeys(
      {"store", "redis", "timezone", "default_max_tokens", "repeat_offenders", "policies"});
  std::string store = node.String("store", "local");
  if (store == "redis") {
    limits.redis = true;
  } else if (store != "local") {
    node.Child("store").Error("must be local or redis, not '" + store + "'");
  }
  ReadRedis(node.Child("redis"), limits.redis_config);
  limits.timezone = node.String("timezone", limits.timezone);
  limits.default_max_tokens =
      node.Int("default_max_tokens", limits.default_max_tokens, 1, 10'000'000);
  ConfigNode offenders = node.Child("repeat_offenders");
  if (offenders.defined() && offenders.ExpectMap()) {
    offenders.AllowKeys({"rejections", "window", "block"});
    RepeatOffenderConfig& r = limits.repeat_offenders;
    r.rejections = offenders.Int("rejections", 0, 1, 1'000'000);
    r.window = offenders.Duration("window", r.window);
    r.block = offenders.Duration("block", r.block);
  }
  ConfigNode policies = node.Child("policies");
  if (policies.defined() && !policies.is_sequence()) policies.Error("must be a list");
  std::set<std::string> names;
  size_t counters = 0;
  for (const ConfigNode& item : policies.Items()) {
    if (!item.ExpectMap(false)) continue;
    LimitPolicyConfig policy;
    ReadPolicy(item, policy);
    if (!policy.name.empty() && !names.insert(policy.name).second) {
      item.Error("duplicate limit policy name '" + policy.name + "'");
    }
    if (policy.name == "key") {  // limits/key_overrides.h
      item.Error("the policy name 'key' is reserved for the limits stored with API keys");
    }
    counters += (policy.requests.limit > 0) + (policy.tokens.limit > 0) + (policy.concurrency > 0) +
                policy.budgets.size();
    limits.policies.push_back(std::move(policy));
  }
  // One decision checks every counter a request matches in one go; bounding the total
  // keeps that a fixed-size operation (and no counter can be skipped).
  if (counters > kMaxLimitCounters) {
    policies.Error("the policies define " + std::to_string(counters) + " counters; at most " +
                   std::to_string(kMaxLimitCounters) +
                   " are allowed (requests, tokens, concurrency and each budget count one)");
  }
}

void ReadModelPrice(const ConfigNode& node, limits::ModelPrice& price) {
  if (!node.defined()) return;
  if (!node.ExpectMap()) return;
  node.AllowKeys({"input", "output", "cached_input"});
  if (!node.Has("input") || !node.Has("output")) {
    node.Error("a price needs input and output (USD per 1M tokens)");
    return;
  }
  double input = ParseNumber(node.Child("input")).value_or(0);
  double output = ParseNumber(node.Child("output")).value_or(0);
  double cached_input = input;
  if (node.Has("cached_input")) cached_input = ParseNumber(node.Child("cached_input")).value_or(0);
  // Converted once here, so a request's cost is integer arithmetic.
  price = limits::ModelPrice::FromUsdPerMillion(input, output, cached_input);
}

}  // namespace sluice
