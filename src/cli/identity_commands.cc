// IdentityCommands: registers the command groups and the options every command shares.
#include "cli/identity_commands.h"

#include <CLI/CLI.hpp>

namespace sluice::cli {

void CommandList::Add(CLI::App* command, Run run, Prepare prepare) {
  auto options = std::make_unique<StoreOptions>();
  CLI::Option* config =
      command
          ->add_option("-c,--config", options->config,
                       "Configuration file: its store: section names the store and its auth: "
                       "section the roles and tiers")
          ->capture_default_str();
  command
      ->add_option("--store", options->store,
                   "SQLite store file to use directly, without a configuration (role and tier "
                   "names are then not checked)")
      ->excludes(config);
  command->add_flag("--json", options->json, "Print the admin API's JSON instead of text");
  entries_.push_back({command, std::move(options), std::move(run), std::move(prepare)});
}

std::optional<int> CommandList::RunParsed() const {
  for (const Entry& entry : entries_) {
    if (!entry.command->parsed()) continue;
    if (entry.prepare) {
      if (int code = entry.prepare(); code != kExitOk) return code;
    }
    std::unique_ptr<Session> session = Session::Open(*entry.options);
    if (!session) return kExitFailed;
    return entry.run(*session);
  }
  return std::nullopt;
}

IdentityCommands::IdentityCommands(CLI::App& app) {
  AddKeyCommands(app, list_);
  AddUserCommands(app, list_);
  AddTeamCommands(app, list_);
  AddAdminCommands(app, list_);
  AddUsageCommands(app, list_);
}

}  // namespace sluice::cli
