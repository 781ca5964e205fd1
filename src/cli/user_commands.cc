// `sluice users create|list|disable|enable`: users through AdminOps. A password is never a
// command-line argument (it would show in `ps`): it comes from stdin (read without echo on
// a terminal) or from a named environment variable, is hashed here with argon2id
// (LoginService::HashPassword) and wiped from memory; only the hash reaches the store.
#include <sodium.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>

#include "auth/login_service.h"
#include "cli/cli_table.h"
#include "cli/identity_commands.h"

namespace sluice::cli {
namespace {

namespace json = boost::json;

// Like POST /auth/register.
constexpr size_t kMinPasswordLength = 8;

struct CreateOptions {
  std::string username;
  std::string email;
  std::vector<std::string> roles;
  std::string tier;
  std::vector<std::string> teams;
  bool password_stdin = false;
  std::string password_env;
  std::string password;  // read by ReadPassword, wiped after hashing

  ~CreateOptions() { sodium_memzero(password.data(), password.size()); }
};

struct ListOptions {
  std::string team;
  std::string disabled;
  int limit = 0;
  std::string after;
};

json::array Strings(const std::vector<std::string>& items) {
  json::array out;
  for (const std::string& item : items) out.emplace_back(item);
  return out;
}

// One line from stdin, without echo when stdin is a terminal.
std::string ReadPasswordLine() {
  bool tty = ::isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (tty && ::tcgetattr(STDIN_FILENO, &saved) == 0) {
    std::cerr << "Password: " << std::flush;
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  } else {
    tty = false;
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << '\n';
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

// Before the store is opened: fetches the password, if one is asked for.
int ReadPassword(CreateOptions& options) {
  if (options.password_stdin) {
    options.password = ReadPasswordLine();
  } else if (!options.password_env.empty()) {
    const char* value = std::getenv(options.password_env.c_str());
    if (value == nullptr) {
      return Complain("--password-env: " + options.password_env + " is not set", kExitUsage);
    }
    options.password = value;
  } else {
    return kExitOk;  // a user without a password signs in with keys only
  }
  if (options.password.size() < kMinPasswordLength) {
    return Complain(
        "the password must have at least " + std::to_string(kMinPasswordLength) + " characters",
        kExitUsage);
  }
  return kExitOk;
}

int Create(Session& session, CreateOptions& options) {
  json::object request;
  request["username"] = options.username;
  if (!options.email.empty()) request["email"] = options.email;
  if (!options.roles.empty()) request["roles"] = Strings(options.roles);
  if (!options.tier.empty()) request["tier"] = options.tier;
  if (!options.teams.empty()) request["teams"] = Strings(options.teams);
  if (!options.password.empty()) {
    if (sodium_init() < 0) return Complain("libsodium could not be initialised");
    std::string hash = LoginService::HashPassword(options.password);
    sodium_memzero(options.password.data(), options.password.size());
    if (hash.empty()) return Complain("could not hash the password (out of memory)");
    request["password_hash"] = hash;
  }
  OpResult result = session.ops().CreateUser(request, session.now());
  if (!result.ok()) return session.Fail(result);
  session.Audit("user.create", result.target);
  if (session.json()) {
    Session::PrintJson(result.body);
  } else {
    std::cout << "created user " << options.username << " (" << StringOf(result.body.at("id"))
              << ")\n";
  }
  return kExitOk;
}

int List(Session& session, const ListOptions& options) {
  Query query;
  if (!options.team.empty()) query.emplace_back("team_id", options.team);
  if (!options.disabled.empty()) query.emplace_back("disabled", options.disabled);
  if (options.limit != 0) query.emplace_back("limit", std::to_string(options.limit));
  if (!options.after.empty()) query.emplace_back("after", options.after);
  OpResult result = session.ops().ListUsers(query);
  if (!result.ok()) return session.Fail(result);
  if (session.json()) {
    Session::PrintJson(result.body);
    return kExitOk;
  }
  Table table(
      {"ID", "USERNAME", "EMAIL", "ROLES", "TIER", "TEAMS", "DISABLED", "PASSWORD", "CREATED"});
  for (const json::value& item : result.body.at("data").as_array()) {
    const json::object& user = item.as_object();
    table.AddRow(
        {StringOf(user.at("id")), StringOf(user.at("username")), TextOrDash(user.at("email")),
         JoinList(user.at("roles")), TextOrDash(user.at("tier")), JoinList(user.at("teams")),
         user.at("disabled").as_bool() ? "yes" : "no",
         user.at("has_password").as_bool() ? "yes" : "no", FormatTime(user.at("created_at"))});
  }
  table.Print(std::cout);
  if (const json::value& next = result.body.at("next_after"); next.is_string()) {
    std::cerr << "sluice: more users follow; list them with --after " << StringOf(next) << '\n';
  }
  return kExitOk;
}

int SetDisabled(Session& session, const std::string& id_or_name, bool disabled) {
  std::optional<UserRecord> user = session.ops().FindUser(id_or_name);
  if (!user) return session.Fail(session.ops().GetUser(id_or_name));
  OpResult result =
      session.ops().UpdateUser(user->id, json::object{{"disabled", disabled}}, session.now());
  if (!result.ok()) return session.Fail(result);
  session.Audit(disabled ? "user.disable" : "user.enable", result.target);
  if (session.json()) {
    Session::PrintJson(result.body);
  } else {
    std::cout << (disabled ? "disabled" : "enabled") << " user " << user->username << " ("
              << user->id << ")\n";
  }
  return kExitOk;
}

}  // namespace

void AddUserCommands(CLI::App& app, CommandList& list) {
  CLI::App* users = app.add_subcommand("users", "Create, list, disable and enable users.");
  users->require_subcommand(1);

  auto create = std::make_shared<CreateOptions>();
  CLI::App* cmd = users->add_subcommand(
      "create",
      "Create a user. The password, if any, comes from stdin or an environment variable, "
      "never from an argument; without one the user cannot sign in with a password.");
  cmd->add_option("--username", create->username, "Unique name: letters, digits, _ - . @")
      ->required();
  cmd->add_option("--email", create->email, "E-mail address");
  cmd->add_option("--role", create->roles, "Role (repeatable or comma-separated; default: user)")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_option("--tier", create->tier,
                  "Tier (default: none, so the team's or the default tier applies)");
  cmd->add_option("--team", create->teams, "Team id to join (repeatable or comma-separated)")
      ->delimiter(',')
      ->allow_extra_args(false);
  CLI::Option* from_stdin =
      cmd->add_flag("--password-stdin", create->password_stdin,
                    "Read the password (at least 8 characters) from the first line of stdin");
  cmd->add_option("--password-env", create->password_env,
                  "Take the password (at least 8 characters) from this environment variable")
      ->excludes(from_stdin);
  list.Add(
      cmd, [create](Session& session) { return Create(session, *create); },
      [create] { return ReadPassword(*create); });

  auto query = std::make_shared<ListOptions>();
  cmd = users->add_subcommand("list", "List users, ordered by id (never password hashes).");
  cmd->add_option("--team", query->team, "Only members of this team (id)");
  cmd->add_option("--disabled", query->disabled, "Only disabled (true) or only active (false)")
      ->check(CLI::IsMember({"true", "false"}));
  cmd->add_option("--limit", query->limit, "At most this many users, 1 to 1000 (default: 50)");
  cmd->add_option("--after", query->after, "Start after this user id (the next page)");
  list.Add(cmd, [query](Session& session) { return List(session, *query); });

  for (bool disabled : {true, false}) {
    auto user = std::make_shared<std::string>();
    cmd = users->add_subcommand(
        disabled ? "disable" : "enable",
        disabled ? "Disable a user: their API keys and password sign-in stop working (on a "
                   "running gateway once its key cache entries expire)."
                 : "Enable a disabled user again.");
    cmd->add_option("user", *user, "User id (usr_...) or username")->required();
    list.Add(cmd,
             [user, disabled](Session& session) { return SetDisabled(session, *user, disabled); });
  }
}

}  // namespace sluice::cli
