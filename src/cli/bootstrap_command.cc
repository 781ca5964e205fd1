// `sluice admin bootstrap`: creates an admin key (role admin) through AdminOps, prints its
// secret once and records the store setting AuthRuntime::Bootstrap looks for, so a gateway
// started afterwards does not create a second one. Refuses a second bootstrap without
// --force.
#include <CLI/CLI.hpp>
#include <iostream>

#include "auth/audit_log.h"
#include "auth/auth_runtime.h"
#include "cli/cli_table.h"
#include "cli/identity_commands.h"

namespace sluice::cli {
namespace {

namespace json = boost::json;

// The setting AuthRuntime::Bootstrap also writes (value: the Unix time of the bootstrap).
constexpr std::string_view kAdminBootstrapped = kAdminBootstrappedSetting;

int Bootstrap(Session& session, bool force) {
  auto done = session.store().GetSetting(kAdminBootstrapped);
  if (!done.ok()) return Complain("cannot read the store: " + done.error().message);
  if (done.value() && !force) {
    return Complain("an admin key was already bootstrapped; use --force to create another");
  }
  OpResult result = session.ops().CreateKey(
      json::object{{"name", "bootstrap-admin"}, {"roles", json::array{"admin"}}}, session.now());
  if (!result.ok()) return session.Fail(result);
  if (auto marked = session.store().PutSetting(kAdminBootstrapped, std::to_string(NowSeconds()));
      !marked.ok()) {
    // The key exists; only the marker is missing. Say so, but do not hide the secret.
    Complain("warning: could not record the bootstrap: " + marked.error().message);
  }
  session.Audit("key.create", result.target, R"({"bootstrap":true})");
  if (session.json()) {
    Session::PrintJson(result.body);
  } else {
    std::cout << result.secret << std::endl;
    std::cerr << "sluice: created admin key " << StringOf(result.body.at("id"))
              << "; the secret is shown only this once, keep it safe\n";
  }
  return kExitOk;
}

}  // namespace

void AddAdminCommands(CLI::App& app, CommandList& list) {
  CLI::App* admin = app.add_subcommand("admin", "Set up administration.");
  admin->require_subcommand(1);
  auto force = std::make_shared<bool>(false);
  CLI::App* cmd = admin->add_subcommand(
      "bootstrap",
      "Create an admin key (role admin) and print its secret alone on stdout, once. Marks the "
      "store so the gateway does not create one at start; refuses when an admin key was "
      "already bootstrapped (by this command or the gateway) unless --force.");
  cmd->add_flag("--force", *force, "Create another admin key even if one was bootstrapped");
  list.Add(cmd, [force](Session& session) { return Bootstrap(session, *force); });
}

}  // namespace sluice::cli
