// GatewayHarness: config substitution, server start, access-log reading.
#include "tests/testing/gateway_harness.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <fstream>
#include <thread>

#include "config/loader.h"
#include "filters/registry.h"
#include "observability/line_sink.h"

namespace sluice::testing {
namespace {

void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  for (size_t pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
}

std::string TempPath(const std::string& stem) {
  static int counter = 0;
  return "/tmp/sluice-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + "-" +
         stem;
}

}  // namespace

GatewayHarness::GatewayHarness(const std::string& yaml, const std::string& upstream_address,
                               const CatalogMaker& catalog) {
  access_log_path_ = TempPath("access.log");
  // Paths carry the pid, which the system reuses: never read a file an earlier test left.
  ::unlink(access_log_path_.c_str());
  std::string text = yaml;
  ReplaceAll(text, "{upstream}", upstream_address);
  ReplaceAll(text, "{access_log}", access_log_path_);
  std::unique_ptr<FilterCatalog> filters =
      catalog ? catalog(&runtime_.services)
              : std::make_unique<filters::Registry>(&runtime_.services);
  LoadResult result = LoadConfigText(text, "test.yaml", *filters);
  for (const std::string& error : result.errors) ADD_FAILURE() << error;
  if (!result.snapshot) throw std::runtime_error("invalid test configuration");
  snapshot_ = result.snapshot;
  std::vector<std::string> errors;
  if (!OpenRuntime(snapshot_, runtime_, errors)) {
    for (const std::string& error : errors) ADD_FAILURE() << error;
    throw std::runtime_error("cannot open the runtime");
  }
  server_ = std::make_unique<Server>(snapshot_, &runtime_.services);
  // Reload reads the same text from a file (a test may rewrite it first).
  config_path_ = TempPath("config.yaml");
  std::ofstream(config_path_) << text;
  server_->EnableReload(config_path_);
  runtime_.services.control = server_.get();
  std::string error;
  if (!server_->Start(error)) throw std::runtime_error(error);
}

GatewayHarness::~GatewayHarness() {
  server_->Drain(std::chrono::seconds(5));
  runtime_.services.control = nullptr;
  server_.reset();
  ::unlink(access_log_path_.c_str());
  ::unlink(config_path_.c_str());
}

std::vector<boost::json::object> GatewayHarness::AccessLog(size_t expected) {
  std::string error;
  auto sink = LineSink::Open(access_log_path_, error);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (sink && sink->written() < expected && std::chrono::steady_clock::now() < deadline) {
    sink->Flush();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (sink) sink->Flush();
  std::vector<boost::json::object> lines;
  std::ifstream in(access_log_path_);
  std::string line;
  while (std::getline(in, line)) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(line, ec);
    if (ec || !v.is_object()) {
      ADD_FAILURE() << "access log line is not a JSON object: " << line;
      continue;
    }
    lines.push_back(v.get_object());
  }
  return lines;
}

std::string TwoDeploymentsConfig(const std::string& d0_address, const std::string& d1_address) {
  return "server:\n  listen: 127.0.0.1:0\n  workers: 1\nbackends:\n"
         "  - {name: d0, url: 'http://" +
         d0_address + "/v1'}\n  - {name: d1, url: 'http://" + d1_address +
         "/v1'}\n"
         "models:\n  - name: m\n"
         "    deployments: [{backend: d0, upstream_model: up-m}, {backend: d1, upstream_model: "
         "up-m}]\n"
         "    retries: {attempts: 1, backoff: {base: 1ms, max: 2ms}}\n";
}

std::string BasicConfig(const std::string& extra_backend, const std::string& extra_server) {
  return "server:\n"
         "  listen: 127.0.0.1:0\n"
         "  workers: 1\n" +
         extra_server +
         "backends:\n"
         "  - name: up\n"
         "    url: http://{upstream}/v1\n" +
         extra_backend +
         "models:\n"
         "  - name: m\n"
         "    aliases: [m-alias]\n"
         "    backend: up\n"
         "    upstream_model: up-m\n"
         "  - name: e\n"
         "    backend: up\n"
         "filters:\n"
         "  - request_id: {}\n"
         "  - access_log:\n"
         "      output: {access_log}\n";
}

}  // namespace sluice::testing
