// `sluice teams create|list`: teams through AdminOps.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/cli_table.h"
#include "cli/identity_commands.h"

namespace sluice::cli {
namespace {

namespace json = boost::json;

struct CreateOptions {
  std::string name;
  std::string tier;
};

struct ListOptions {
  int limit = 0;
  std::string after;
};

int Create(Session& session, const CreateOptions& options) {
  json::object request;
  request["name"] = options.name;
  if (!options.tier.empty()) request["tier"] = options.tier;
  OpResult result = session.ops().CreateTeam(request, session.now());
  if (!result.ok()) return session.Fail(result);
  session.Audit("team.create", result.target);
  if (session.json()) {
    Session::PrintJson(result.body);
  } else {
    std::cout << "created team " << options.name << " (" << StringOf(result.body.at("id")) << ")\n";
  }
  return kExitOk;
}

int List(Session& session, const ListOptions& options) {
  Query query;
  if (options.limit != 0) query.emplace_back("limit", std::to_string(options.limit));
  if (!options.after.empty()) query.emplace_back("after", options.after);
  OpResult result = session.ops().ListTeams(query);
  if (!result.ok()) return session.Fail(result);
  if (session.json()) {
    Session::PrintJson(result.body);
    return kExitOk;
  }
  Table table({"ID", "NAME", "TIER", "CREATED"});
  for (const json::value& item : result.body.at("data").as_array()) {
    const json::object& team = item.as_object();
    table.AddRow({StringOf(team.at("id")), StringOf(team.at("name")), TextOrDash(team.at("tier")),
                  FormatTime(team.at("created_at"))});
  }
  table.Print(std::cout);
  if (const json::value& next = result.body.at("next_after"); next.is_string()) {
    std::cerr << "sluice: more teams follow; list them with --after " << StringOf(next) << '\n';
  }
  return kExitOk;
}

}  // namespace

void AddTeamCommands(CLI::App& app, CommandList& list) {
  CLI::App* teams = app.add_subcommand("teams", "Create and list teams.");
  teams->require_subcommand(1);

  auto create = std::make_shared<CreateOptions>();
  CLI::App* cmd = teams->add_subcommand("create", "Create a team.");
  cmd->add_option("--name", create->name, "Unique team name")->required();
  cmd->add_option("--tier", create->tier, "Tier of the team's keys (default: the default tier)");
  list.Add(cmd, [create](Session& session) { return Create(session, *create); });

  auto query = std::make_shared<ListOptions>();
  cmd = teams->add_subcommand("list", "List teams, ordered by id.");
  cmd->add_option("--limit", query->limit, "At most this many teams, 1 to 1000 (default: 50)");
  cmd->add_option("--after", query->after, "Start after this team id (the next page)");
  list.Add(cmd, [query](Session& session) { return List(session, *query); });
}

}  // namespace sluice::cli
