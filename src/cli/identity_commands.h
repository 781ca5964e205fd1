// The operator's identity commands: `sluice keys create|list|revoke|rotate`, `sluice users
// create|list|disable|enable`, `sluice teams create|list`, `sluice admin bootstrap` and
// `sluice usage`. They work on the gateway's own store through AdminOps, the operations (and
// validation) the admin API uses. main.cc registers them before parsing and runs the chosen
// one after; each command group lives in its own file. Single-threaded.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "cli/cli_session.h"

namespace CLI {
class App;
}  // namespace CLI

namespace sluice::cli {

// The leaf commands, each with its own store options and what it runs.
class CommandList {
 public:
  using Prepare = std::function<int()>;  // runs before the store is opened; non-zero: exit
  using Run = std::function<int(Session&)>;

  // Adds --config, --store and --json to `command` and remembers what it runs.
  void Add(CLI::App* command, Run run, Prepare prepare = nullptr);
  // Runs the command that was parsed; nullopt when none of these was.
  std::optional<int> RunParsed() const;

 private:
  struct Entry {
    CLI::App* command;
    std::unique_ptr<StoreOptions> options;
    Run run;
    Prepare prepare;
  };
  std::vector<Entry> entries_;
};

// The command groups (key_commands.cc, user_commands.cc, team_commands.cc,
// bootstrap_command.cc).
void AddKeyCommands(CLI::App& app, CommandList& list);
void AddUserCommands(CLI::App& app, CommandList& list);
void AddTeamCommands(CLI::App& app, CommandList& list);
void AddAdminCommands(CLI::App& app, CommandList& list);
void AddUsageCommands(CLI::App& app, CommandList& list);  // usage_command.cc

class IdentityCommands {
 public:
  // Adds the keys, users, teams and admin subcommands to `app`.
  explicit IdentityCommands(CLI::App& app);
  // After parsing: the exit code of the chosen command, nullopt when it is not one of these.
  std::optional<int> Run() const { return list_.RunParsed(); }

 private:
  CommandList list_;
};

}  // namespace sluice::cli
