// `sluice keys create|list|update|revoke|rotate`: API keys through AdminOps, with their
// limit overrides (--rpm, --tpm, --concurrency, --budget-usd, --budget-tokens, ...). A
// secret is printed once, alone on stdout (so `KEY=$(sluice keys create ...)` captures it);
// what else there is to say goes to stderr. Secrets never reach the audit log.
#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <iostream>
#include <map>
#include <tuple>

#include "cli/cli_table.h"
#include "cli/identity_commands.h"
#include "core/key_limits.h"

namespace sluice::cli {
namespace {

namespace json = boost::json;

// The limit flags of create and update; an option pointer tells whether a flag was given.
struct LimitFlags {
  int64_t rpm = 0;
  int64_t tpm = 0;
  int64_t concurrency = 0;
  double budget_usd = 0;
  std::string budget_usd_per;
  int64_t budget_tokens = 0;
  std::string budget_tokens_per;
  bool clear = false;  // update: --clear-limits
  CLI::Option* rpm_flag = nullptr;
  CLI::Option* tpm_flag = nullptr;
  CLI::Option* concurrency_flag = nullptr;
  CLI::Option* budget_usd_flag = nullptr;
  CLI::Option* budget_usd_per_flag = nullptr;
  CLI::Option* budget_tokens_flag = nullptr;
  CLI::Option* budget_tokens_per_flag = nullptr;

  static bool Given(const CLI::Option* flag) { return flag != nullptr && flag->count() > 0; }
  bool AnyBudget() const {
    return Given(budget_usd_flag) || Given(budget_usd_per_flag) || Given(budget_tokens_flag) ||
           Given(budget_tokens_per_flag);
  }
  bool Any() const {
    return clear || Given(rpm_flag) || Given(tpm_flag) || Given(concurrency_flag) || AnyBudget();
  }
};

struct CreateOptions {
  LimitFlags limits;
  std::string name;
  std::string user;
  std::string team;
  std::vector<std::string> roles;
  std::string tier;
  std::vector<std::string> models;
  std::string expires_in;
  std::string metadata;
};

struct UpdateOptions {
  LimitFlags limits;
  std::string id;
  std::string name;
};

struct ListOptions {
  std::string user;
  std::string team;
  std::string revoked;
  int limit = 0;
  std::string after;
};

json::array Strings(const std::vector<std::string>& items) {
  json::array out;
  for (const std::string& item : items) out.emplace_back(item);
  return out;
}

// A user given by id or username becomes its id; an unknown one is passed on unchanged so
// AdminOps reports it.
std::string UserId(Session& session, const std::string& id_or_name) {
  std::optional<UserRecord> user = session.ops().FindUser(id_or_name);
  return user ? user->id : id_or_name;
}

// One budget of the `limits` patch: the flag's amount when given (0 drops the budget), else
// the key's current one (unless --clear-limits); the flag's period, else the current one.
// Adds it to `budgets` when there is an amount; "" or the problem with the flags.
std::string AddBudget(bool usd, const LimitFlags& flags, const KeyLimits& current,
                      json::array& budgets) {
  const CLI::Option* amount_flag = usd ? flags.budget_usd_flag : flags.budget_tokens_flag;
  const CLI::Option* per_flag = usd ? flags.budget_usd_per_flag : flags.budget_tokens_per_flag;
  const int64_t current_amount = flags.clear ? 0
                                 : usd       ? current.budget_usd_micros
                                             : current.budget_tokens;
  json::value amount;
  if (LimitFlags::Given(amount_flag)) {
    if (usd && flags.budget_usd != 0) amount = flags.budget_usd;
    if (!usd && flags.budget_tokens != 0) amount = flags.budget_tokens;
  } else if (current_amount != 0) {
    amount =
        usd ? json::value(static_cast<double>(current_amount) / 1e6) : json::value(current_amount);
  }
  if (amount.is_null()) {
    if (LimitFlags::Given(per_flag)) {
      return std::string(usd ? "--budget-usd-per needs --budget-usd"
                             : "--budget-tokens-per needs --budget-tokens") +
             " (the key has no such budget)";
    }
    return "";
  }
  KeyLimitPeriod period = usd ? current.budget_usd_period : current.budget_tokens_period;
  if (flags.clear || current_amount == 0) period = KeyLimitPeriod::kMonth;
  std::string per(KeyLimitPeriodName(period));
  if (LimitFlags::Given(per_flag)) per = usd ? flags.budget_usd_per : flags.budget_tokens_per;
  budgets.push_back(json::object{{usd ? "usd" : "tokens", amount}, {"per", per}});
  return "";
}

// The `limits` value of a create or update request built from the flags and the key's
// current overrides (empty on create): each given flag sets its field (0 removes the
// override), --clear-limits removes the rest. Returns false (after complaining) on a flag
// problem; AdminOps validates the amounts.
bool LimitsPatch(const LimitFlags& flags, const KeyLimits& current, json::value& patch) {
  const bool scalars_given = LimitFlags::Given(flags.rpm_flag) ||
                             LimitFlags::Given(flags.tpm_flag) ||
                             LimitFlags::Given(flags.concurrency_flag);
  if (flags.clear && !scalars_given && !flags.AnyBudget()) {
    patch = nullptr;
    return true;
  }
  json::object out;
  const std::tuple<const char*, const CLI::Option*, int64_t> scalars[] = {
      {"requests_per_minute", flags.rpm_flag, flags.rpm},
      {"tokens_per_minute", flags.tpm_flag, flags.tpm},
      {"concurrency", flags.concurrency_flag, flags.concurrency},
  };
  for (const auto& [field, flag, value] : scalars) {
    if (LimitFlags::Given(flag)) {
      out[field] = value == 0 ? json::value(nullptr) : json::value(value);
    } else if (flags.clear) {
      out[field] = nullptr;
    }
  }
  if (flags.clear || flags.AnyBudget()) {
    json::array budgets;
    for (bool usd : {true, false}) {
      if (std::string problem = AddBudget(usd, flags, current, budgets); !problem.empty()) {
        Complain(problem, kExitUsage);
        return false;
      }
    }
    out["budgets"] = std::move(budgets);
  }
  patch = std::move(out);
  return true;
}

// "rpm=600,tpm=200000,concurrency=8,usd=25/month,tokens=1000000/day", or "-" (one word, like
// the other columns of the table).
std::string LimitsText(const json::value& limits) {
  if (!limits.is_object()) return "-";
  std::string text;
  auto add = [&text](const std::string& item) { text += (text.empty() ? "" : ",") + item; };
  for (auto [field, label] :
       {std::pair{"requests_per_minute", "rpm"}, std::pair{"tokens_per_minute", "tpm"},
        std::pair{"concurrency", "concurrency"}}) {
    if (const json::value* v = limits.as_object().if_contains(field)) {
      add(std::string(label) + "=" + json::serialize(*v));
    }
  }
  if (const json::value* budgets = limits.as_object().if_contains("budgets")) {
    for (const json::value& item : budgets->as_array()) {
      const json::object& budget = item.as_object();
      const bool usd = budget.contains("usd");
      const json::value& amount = budget.at(usd ? "usd" : "tokens");
      std::string number =
          amount.is_double() ? std::to_string(amount.get_double()) : json::serialize(amount);
      if (amount.is_double()) {
        while (number.back() == '0') number.pop_back();  // 2.500000 → 2.5
      }
      add(std::string(usd ? "usd=" : "tokens=") + number + "/" + StringOf(budget.at("per")));
    }
  }
  return text.empty() ? "-" : text;
}

int Create(Session& session, const CreateOptions& options) {
  json::object request;
  request["name"] = options.name;
  if (!options.user.empty()) request["user_id"] = UserId(session, options.user);
  if (!options.team.empty()) request["team_id"] = options.team;
  if (!options.roles.empty()) request["roles"] = Strings(options.roles);
  if (!options.tier.empty()) request["tier"] = options.tier;
  if (!options.models.empty()) request["allowed_models"] = Strings(options.models);
  if (!options.expires_in.empty()) request["expires_in"] = options.expires_in;
  if (!options.metadata.empty()) {
    // Text that is not JSON goes on as a string, which AdminOps rejects with its message.
    boost::system::error_code ec;
    json::value metadata = json::parse(options.metadata, ec);
    request["metadata"] = ec ? json::value(options.metadata) : metadata;
  }
  if (options.limits.Any()) {
    json::value limits;
    if (!LimitsPatch(options.limits, KeyLimits{}, limits)) return kExitUsage;
    request["limits"] = std::move(limits);
  }
  OpResult result = session.ops().CreateKey(request, session.now());
  if (!result.ok()) return session.Fail(result);
  session.Audit("key.create", result.target, json::serialize(result.audit_details));
  const json::object& key = result.body.as_object();
  if (session.json()) {
    Session::PrintJson(result.body);
  } else {
    std::cout << result.secret << std::endl;
    std::cerr << "sluice: created key " << StringOf(key.at("id")) << " (prefix "
              << StringOf(key.at("prefix")) << "); the secret is shown only this once\n";
  }
  return kExitOk;
}

// "user:alice", "team:research", both joined with ',', or "-".
class OwnerNames {
 public:
  explicit OwnerNames(Session& session) : session_(session) {}

  std::string Of(const json::object& key) {
    std::string owner;
    if (const json::value& user = key.at("user_id"); user.is_string()) {
      owner = "user:" + Name(StringOf(user), true);
    }
    if (const json::value& team = key.at("team_id"); team.is_string()) {
      if (!owner.empty()) owner += ',';
      owner += "team:" + Name(StringOf(team), false);
    }
    return owner.empty() ? "-" : owner;
  }

 private:
  std::string Name(const std::string& id, bool user) {
    auto [it, inserted] = names_.try_emplace(id, id);
    if (inserted) {
      OpResult found = user ? session_.ops().GetUser(id) : session_.ops().GetTeam(id);
      if (found.ok()) it->second = StringOf(found.body.at(user ? "username" : "name"));
    }
    return it->second;
  }

  Session& session_;
  std::map<std::string, std::string> names_;
};

int List(Session& session, const ListOptions& options) {
  Query query;
  if (!options.user.empty()) query.emplace_back("user_id", UserId(session, options.user));
  if (!options.team.empty()) query.emplace_back("team_id", options.team);
  if (!options.revoked.empty()) query.emplace_back("revoked", options.revoked);
  if (options.limit != 0) query.emplace_back("limit", std::to_string(options.limit));
  if (!options.after.empty()) query.emplace_back("after", options.after);
  OpResult result = session.ops().ListKeys(query);
  if (!result.ok()) return session.Fail(result);
  if (session.json()) {
    Session::PrintJson(result.body);
    return kExitOk;
  }
  Table table({"ID", "NAME", "PREFIX", "OWNER", "ROLES", "TIER", "CREATED", "EXPIRES", "REVOKED",
               "LAST USED", "REQUESTS", "LIMITS"});
  OwnerNames owners(session);
  for (const json::value& item : result.body.at("data").as_array()) {
    const json::object& key = item.as_object();
    table.AddRow({StringOf(key.at("id")), StringOf(key.at("name")), StringOf(key.at("prefix")),
                  owners.Of(key), JoinList(key.at("roles")), TextOrDash(key.at("tier")),
                  FormatTime(key.at("created_at")), FormatTime(key.at("expires_at")),
                  FormatTime(key.at("revoked_at")), FormatTime(key.at("last_used_at")),
                  std::to_string(key.at("request_count").to_number<int64_t>()),
                  LimitsText(key.at("limits"))});
  }
  table.Print(std::cout);
  if (const json::value& next = result.body.at("next_after"); next.is_string()) {
    std::cerr << "sluice: more keys follow; list them with --after " << StringOf(next) << '\n';
  }
  return kExitOk;
}

int Update(Session& session, const UpdateOptions& options) {
  json::object request;
  if (!options.name.empty()) request["name"] = options.name;
  if (options.limits.Any()) {
    // Budgets are replaced as a list, so the key's current ones are the starting point.
    auto found = session.store().GetKey(options.id);
    KeyLimits current;
    if (found.ok() && found.value()) current = found.value()->limits;
    json::value limits;
    if (!LimitsPatch(options.limits, current, limits)) return kExitUsage;
    request["limits"] = std::move(limits);
  }
  if (request.empty()) {
    return Complain("nothing to change; give --name or a limit flag (see --help)", kExitUsage);
  }
  OpResult result = session.ops().UpdateKey(options.id, request, session.now());
  if (!result.ok()) return session.Fail(result);
  session.Audit("key.update", result.target, json::serialize(result.audit_details));
  if (session.json()) {
    Session::PrintJson(result.body);
  } else {
    std::cout << "updated key " << options.id << " (" << StringOf(result.body.at("prefix"))
              << "); limits: " << LimitsText(result.body.at("limits")) << '\n';
  }
  return kExitOk;
}

int Revoke(Session& session, const std::string& id) {
  OpResult result = session.ops().RevokeKey(id, session.now());
  if (!result.ok()) return session.Fail(result);
  session.Audit("key.revoke", result.target);
  if (session.json()) {
    Session::PrintJson(result.body);
  } else {
    std::cout << "revoked key " << id << " (" << StringOf(result.body.at("prefix")) << ")\n";
  }
  return kExitOk;
}

int Rotate(Session& session, const std::string& id) {
  OpResult result = session.ops().RotateKey(id, session.now());
  if (!result.ok()) return session.Fail(result);
  session.Audit("key.rotate", result.target);
  if (session.json()) {
    Session::PrintJson(result.body);
  } else {
    std::cout << result.secret << std::endl;
    std::cerr << "sluice: rotated key " << id << " (new prefix "
              << StringOf(result.body.at("prefix"))
              << "); the old secret no longer works and the new one is shown only this once\n";
  }
  return kExitOk;
}

// --rpm, --tpm, --concurrency and the budget flags on `cmd`.
void AddLimitFlags(CLI::App* cmd, LimitFlags& flags, bool update) {
  const std::string zero = update ? " (0 removes the override)" : "";
  const std::vector<std::string> periods = {"day", "week", "month"};
  flags.rpm_flag = cmd->add_option("--rpm", flags.rpm,
                                   "Requests per minute for this key, bursts of as many" + zero)
                       ->check(CLI::NonNegativeNumber);
  flags.tpm_flag = cmd->add_option("--tpm", flags.tpm,
                                   "Tokens (prompt + completion) per minute for this key" + zero)
                       ->check(CLI::NonNegativeNumber);
  flags.concurrency_flag = cmd->add_option("--concurrency,--max-parallel", flags.concurrency,
                                           "Requests of this key in flight at once" + zero)
                               ->check(CLI::NonNegativeNumber);
  flags.budget_usd_flag =
      cmd->add_option(
             "--budget-usd", flags.budget_usd,
             "Spending budget in US dollars per --budget-usd-per window (needs model prices)" +
                 zero)
          ->check(CLI::NonNegativeNumber);
  flags.budget_usd_per_flag =
      cmd->add_option("--budget-usd-per", flags.budget_usd_per,
                      "Window of the spending budget: day, week or month (default: month)")
          ->check(CLI::IsMember(periods));
  flags.budget_tokens_flag =
      cmd->add_option("--budget-tokens", flags.budget_tokens,
                      "Token budget (prompt + completion) per --budget-tokens-per window" + zero)
          ->check(CLI::NonNegativeNumber);
  flags.budget_tokens_per_flag =
      cmd->add_option("--budget-tokens-per", flags.budget_tokens_per,
                      "Window of the token budget: day, week or month (default: month)")
          ->check(CLI::IsMember(periods));
}

}  // namespace

void AddKeyCommands(CLI::App& app, CommandList& list) {
  CLI::App* keys = app.add_subcommand("keys", "Create, list, update, revoke and rotate API keys.");
  keys->require_subcommand(1);

  auto create = std::make_shared<CreateOptions>();
  CLI::App* cmd = keys->add_subcommand(
      "create",
      "Create an API key. Prints its secret alone on stdout, once (it is stored only as a "
      "hash), and its id and prefix on stderr; --json prints the whole key with the secret.");
  cmd->add_option("--name", create->name, "A name to recognise the key by")->required();
  cmd->add_option("--user", create->user, "Owning user (id or username)");
  cmd->add_option("--team", create->team, "Owning team (id)");
  cmd->add_option("--role", create->roles, "Role (repeatable or comma-separated; default: user)")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--tier", create->tier, "Tier (default: the owner's, else the default tier)");
  cmd->add_option("--model", create->models,
                  "Allowed model name or glob (repeatable or comma-separated; default: what the "
                  "tier allows)")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--expires-in", create->expires_in,
                  "Lifetime such as 30d or 12h (default: none)");
  cmd->add_option("--metadata", create->metadata, "A JSON object kept with the key");
  AddLimitFlags(cmd, create->limits, false);
  cmd->footer(
      "Limit flags override, for this key, the limit policies whose per: includes key; when "
      "no such policy applies they are enforced as a policy named 'key' (docs/limits.md, "
      "Per-key overrides).");
  list.Add(cmd, [create](Session& session) { return Create(session, *create); });

  auto update = std::make_shared<UpdateOptions>();
  cmd = keys->add_subcommand(
      "update",
      "Change an API key's name or limit overrides. Flags not given keep their value; a running "
      "gateway on this store sees the change once its key cache entry expires "
      "(auth.key_cache_ttl); the admin API's PATCH /admin/keys/{id} applies at once.");
  cmd->add_option("id", update->id, "Key id (key_...)")->required();
  cmd->add_option("--name", update->name, "A new name");
  AddLimitFlags(cmd, update->limits, true);
  cmd->add_flag("--clear-limits", update->limits.clear,
                "Remove every limit override first (limit flags given too are then applied)");
  list.Add(cmd, [update](Session& session) { return Update(session, *update); });

  auto query = std::make_shared<ListOptions>();
  cmd =
      keys->add_subcommand("list", "List API keys, ordered by id (never their secrets or hashes).");
  cmd->add_option("--user", query->user, "Only keys of this user (id or username)");
  cmd->add_option("--team", query->team, "Only keys of this team (id)");
  cmd->add_option("--revoked", query->revoked, "Only revoked (true) or only usable (false) keys")
      ->check(CLI::IsMember({"true", "false"}));
  cmd->add_option("--limit", query->limit, "At most this many keys, 1 to 1000 (default: 50)");
  cmd->add_option("--after", query->after, "Start after this key id (the next page)");
  list.Add(cmd, [query](Session& session) { return List(session, *query); });

  auto revoke_id = std::make_shared<std::string>();
  cmd = keys->add_subcommand(
      "revoke",
      "Revoke an API key for good. A running gateway refuses it once its key cache entry "
      "expires (auth.key_cache_ttl, 10s by default).");
  cmd->add_option("id", *revoke_id, "Key id (key_...)")->required();
  list.Add(cmd, [revoke_id](Session& session) { return Revoke(session, *revoke_id); });

  auto rotate_id = std::make_shared<std::string>();
  cmd = keys->add_subcommand(
      "rotate",
      "Give an API key a new secret, keeping its id, owner, roles, tier and models. Prints the "
      "new secret alone on stdout, once; the old one stops working like a revoked one.");
  cmd->add_option("id", *rotate_id, "Key id (key_...)")->required();
  list.Add(cmd, [rotate_id](Session& session) { return Rotate(session, *rotate_id); });
}

}  // namespace sluice::cli
