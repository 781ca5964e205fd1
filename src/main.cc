// The sluice command line: flags → config → Server → run. Subcommands:
//   sluice serve --config FILE      run the gateway
//   sluice config check FILE        validate a config file (exit 0/1, file:line errors)
//   sluice version                  print version and build
//   sluice keys|users|teams|admin   identity on the gateway's store (src/cli)
//   sluice usage                    usage sums from the gateway's store (src/cli)
// Usage errors exit 2.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "auth/auth_runtime.h"
#include "cli/identity_commands.h"
#include "config/loader.h"
#include "filters/access_log/access_log_config.h"
#include "filters/registry.h"
#include "observability/app_log.h"
#include "observability/metrics_registry.h"
#include "server.h"
#include "version.h"

namespace {

sluice::AppLogOptions AppLogOptionsOf(const sluice::LoggingConfig& config) {
  sluice::AppLogOptions options;
  options.level = config.level;
  options.format = config.format;
  options.output = config.output;
  options.rotate = sluice::filters::SinkOptionsOf(config.rotate);
  return options;
}

std::shared_ptr<const sluice::Snapshot> LoadOrReport(const std::string& path,
                                                     const sluice::Services* services) {
  sluice::LoadResult result = sluice::LoadGatewayConfig(path, services);
  for (const std::string& error : result.errors) std::cerr << error << '\n';
  return result.snapshot;
}

int Serve(const std::string& config_path) {
  sluice::RuntimeServices runtime;
  auto snapshot = LoadOrReport(config_path, &runtime.services);
  if (!snapshot) {
    std::cerr << "sluice: configuration is invalid; not starting\n";
    return 1;
  }
  // From here on the application log goes where `logging:` says, never blocking a worker.
  std::string log_error;
  if (!sluice::ConfigureAppLog(AppLogOptionsOf(snapshot->logging), log_error)) {
    std::cerr << "sluice: logging: " << log_error << '\n';
    return 1;
  }
  std::vector<std::string> errors;
  if (!sluice::OpenRuntime(snapshot, runtime, errors)) {
    for (const std::string& error : errors) std::cerr << error << '\n';
    std::cerr << "sluice: cannot open the store; not starting\n";
    return 1;
  }
  for (const std::string& message : runtime.bootstrap_messages) {
    std::cerr << "sluice: " << message << '\n';
  }
  if (runtime.metrics)
    runtime.metrics->AddCollector([](sluice::PrometheusText& text) {
      text.Family("sluice_build_info", "gauge", "The running build; always 1.");
      text.Sample("sluice_build_info",
                  {{"version", sluice::kVersion}, {"revision", sluice::kGitCommit}}, 1.0);
    });
  sluice::Server server(snapshot, &runtime.services);
  server.EnableReload(config_path);
  runtime.services.control = &server;
  int code = server.Serve([&](uint16_t port) {
    spdlog::info(
        "sluice {} listening on http://{}:{} ({} workers, {} models, config {} version 1 ({}))",
        sluice::kVersion, snapshot->server.listen.host, port, snapshot->server.workers,
        snapshot->models.size(), config_path, snapshot->content_id);
    if (server.admin_port() != 0) {
      spdlog::info("admin API on http://{}:{} (OpenAPI document at /openapi.json)",
                   snapshot->admin.listen.host, server.admin_port());
    }
  });
  sluice::FlushAppLog();
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Sluice: an OpenAI-compatible LLM API gateway.\n"
      "Run `sluice serve --config config/sluice.yaml` and point any OpenAI SDK at it."};
  app.require_subcommand(1);
  spdlog::set_default_logger(spdlog::stderr_color_mt("sluice"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");

  std::string serve_config = "config/sluice.yaml";
  CLI::App* serve = app.add_subcommand(
      "serve",
      "Run the gateway until SIGTERM or SIGINT. SIGHUP (or a change to the file, or POST "
      "/admin/config/reload) reloads the configuration.");
  serve->add_option("-c,--config", serve_config, "Configuration file (YAML)")
      ->check(CLI::ExistingFile)
      ->capture_default_str();

  CLI::App* config = app.add_subcommand("config", "Work with configuration files.");
  config->require_subcommand(1);
  std::string check_path;
  CLI::App* check = config->add_subcommand(
      "check", "Validate a configuration file; prints file:line errors, exits 0 when valid.");
  check->add_option("file", check_path, "Configuration file (YAML)")->required();

  app.add_subcommand("version", "Print the version and build.");
  sluice::cli::IdentityCommands identity(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;  // --help is not an error
  }

  if (auto code = identity.Run()) return *code;
  if (app.got_subcommand("serve")) return Serve(serve_config);
  if (app.got_subcommand("config")) {
    auto snapshot = LoadOrReport(check_path, nullptr);
    if (!snapshot) return 1;
    std::cout << check_path << ": OK (" << snapshot->backends.size() << " backends, "
              << snapshot->models.size() << " models, " << snapshot->chain.size() << " filters)\n";
    return 0;
  }
  std::cout << "sluice " << sluice::kVersion << " (commit " << sluice::kGitCommit << ", "
            << sluice::kBuildType << " build)\n";
  return 0;
}
