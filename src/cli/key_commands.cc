// `sluice keys create|list|revoke|rotate`: API keys through AdminOps. A secret is printed
// once, alone on stdout (so `KEY=$(sluice keys create ...)` captures it); what else there
// is to say goes to stderr. Secrets never reach the audit log.
#include <CLI/CLI.hpp>
#include <boost/json/parse.hpp>
#include <iostream>
#include <map>

#include "cli/cli_table.h"
#include "cli/identity_commands.h"

namespace sluice::cli {
namespace {

namespace json = boost::json;

struct CreateOptions {
  std::string name;
  std::string user;
  std::string team;
  std::vector<std::string> roles;
  std::string tier;
  std::vector<std::string> models;
  std::string expires_in;
  std::string metadata;
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
  OpResult result = session.ops().CreateKey(request, session.now());
  if (!result.ok()) return session.Fail(result);
  session.Audit("key.create", result.target);
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
               "LAST USED", "REQUESTS"});
  OwnerNames owners(session);
  for (const json::value& item : result.body.at("data").as_array()) {
    const json::object& key = item.as_object();
    table.AddRow({StringOf(key.at("id")), StringOf(key.at("name")), StringOf(key.at("prefix")),
                  owners.Of(key), JoinList(key.at("roles")), TextOrDash(key.at("tier")),
                  FormatTime(key.at("created_at")), FormatTime(key.at("expires_at")),
                  FormatTime(key.at("revoked_at")), FormatTime(key.at("last_used_at")),
                  std::to_string(key.at("request_count").to_number<int64_t>())});
  }
  table.Print(std::cout);
  if (const json::value& next = result.body.at("next_after"); next.is_string()) {
    std::cerr << "sluice: more keys follow; list them with --after " << StringOf(next) << '\n';
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

}  // namespace

void AddKeyCommands(CLI::App& app, CommandList& list) {
  CLI::App* keys = app.add_subcommand("keys", "Create, list, revoke and rotate API keys.");
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
  list.Add(cmd, [create](Session& session) { return Create(session, *create); });

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
