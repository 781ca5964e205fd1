// `sluice usage`: usage sums grouped by UTC day and by key, user, team or model, with totals,
// through AdminOps::QueryUsage (the admin API's GET /admin/usage). Read-only, not audited.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <optional>

#include "cli/cli_table.h"
#include "cli/identity_commands.h"

namespace sluice::cli {
namespace {

namespace json = boost::json;

struct UsageOptions {
  std::string group_by = "day";
  std::string from;
  std::string to;
  std::string key;
  std::string user;
  std::string team;
  std::string model;
  int limit = 0;
};

// "2026-01-31" (midnight UTC) or Unix milliseconds, as Unix milliseconds; nullopt otherwise.
std::optional<int64_t> ParseTime(const std::string& text) {
  int year = 0;
  unsigned month = 0;
  unsigned day = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &year, &month, &day, &tail) == 3) {
    const std::chrono::year_month_day date{std::chrono::year{year}, std::chrono::month{month},
                                           std::chrono::day{day}};
    if (!date.ok()) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::sys_days{date}.time_since_epoch())
        .count();
  }
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return std::stoll(text);
}

std::string Number(const json::object& sums, std::string_view name) {
  return std::to_string(sums.at(name).to_number<int64_t>());
}

// Micro-dollars as dollars with six decimals.
std::string Dollars(const json::object& sums) {
  const int64_t micros = sums.at("cost_micros").to_number<int64_t>();
  char text[32];
  std::snprintf(text, sizeof text, "%s%lld.%06lld", micros < 0 ? "-" : "",
                static_cast<long long>(std::llabs(micros) / 1'000'000),
                static_cast<long long>(std::llabs(micros) % 1'000'000));
  return text;
}

std::vector<std::string> SumCells(const json::object& sums) {
  return {Number(sums, "requests"),
          Number(sums, "prompt_tokens"),
          Number(sums, "completion_tokens"),
          Number(sums, "cached_tokens"),
          Dollars(sums),
          Number(sums, "errors")};
}

int Usage(Session& session, const UsageOptions& options) {
  Query query;
  query.emplace_back("group_by", options.group_by);
  for (auto [name, text] : {std::pair{"from", &options.from}, {"to", &options.to}}) {
    if (text->empty()) continue;
    std::optional<int64_t> ms = ParseTime(*text);
    if (!ms) {
      return Complain(std::string("--") + name +
                          " must be a date (YYYY-MM-DD, UTC) or Unix "
                          "milliseconds",
                      kExitUsage);
    }
    query.emplace_back(name, std::to_string(*ms));
  }
  if (!options.key.empty()) query.emplace_back("key_id", options.key);
  if (!options.user.empty()) {
    std::optional<UserRecord> user = session.ops().FindUser(options.user);
    query.emplace_back("user_id", user ? user->id : options.user);
  }
  if (!options.team.empty()) query.emplace_back("team_id", options.team);
  if (!options.model.empty()) query.emplace_back("model", options.model);
  if (options.limit != 0) query.emplace_back("limit", std::to_string(options.limit));
  OpResult result = session.ops().QueryUsage(query);
  if (!result.ok()) return session.Fail(result);
  if (session.json()) {
    Session::PrintJson(result.body);
    return kExitOk;
  }
  const bool by_day_only = options.group_by == "day";
  std::vector<std::string> header = {"DAY"};
  if (!by_day_only) {
    std::string name = options.group_by;
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    header.push_back(name);
  }
  for (const char* column : {"REQUESTS", "PROMPT", "COMPLETION", "CACHED", "COST USD", "ERRORS"}) {
    header.emplace_back(column);
  }
  Table table(header);
  for (const json::value& item : result.body.at("rows").as_array()) {
    const json::object& row = item.as_object();
    std::vector<std::string> cells = {StringOf(row.at("day"))};
    if (!by_day_only) cells.push_back(TextOrDash(row.at("group")));
    for (std::string& cell : SumCells(row)) cells.push_back(std::move(cell));
    table.AddRow(std::move(cells));
  }
  std::vector<std::string> totals = {"TOTAL"};
  if (!by_day_only) totals.emplace_back("");
  for (std::string& cell : SumCells(result.body.at("totals").as_object())) {
    totals.push_back(std::move(cell));
  }
  table.AddRow(std::move(totals));
  table.Print(std::cout);
  if (result.body.at("truncated").as_bool()) {
    std::cerr << "sluice: more groups matched; raise --limit or narrow the filters (the TOTAL "
                 "row covers them all)\n";
  }
  return kExitOk;
}

}  // namespace

void AddUsageCommands(CLI::App& app, CommandList& list) {
  auto options = std::make_shared<UsageOptions>();
  CLI::App* cmd = app.add_subcommand(
      "usage", "Usage sums (requests, tokens, cost, errors) by UTC day, with totals.");
  cmd->add_option("--group-by", options->group_by,
                  "Also group by key, user, team or model (default: day only)")
      ->check(CLI::IsMember({"day", "key", "user", "team", "model"}));
  cmd->add_option("--from", options->from, "From this date (YYYY-MM-DD, UTC) or Unix ms");
  cmd->add_option("--to", options->to, "Up to (not including) this date or Unix ms");
  cmd->add_option("--key", options->key, "Only this API key (id)");
  cmd->add_option("--user", options->user, "Only this user (id or username)");
  cmd->add_option("--team", options->team, "Only this team (id)");
  cmd->add_option("--model", options->model, "Only this model (as clients name it)");
  cmd->add_option("--limit", options->limit, "At most this many groups, 1 to 10000 (default 1000)");
  list.Add(cmd, [options](Session& session) { return Usage(session, *options); });
}

}  // namespace sluice::cli
