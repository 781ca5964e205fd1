// sluice-loadgen flags (CLI11) and construction of the request bytes.
#include "bench/loadgen/options.h"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "core/http_types.h"

namespace sluice::loadgen {
namespace {

// Splits http://HOST:PORT/PATH. Only IPv4 literals: the rig talks to loopback.
bool ParseUrl(const std::string& url, std::string& host, int& port, std::string& path) {
  constexpr std::string_view kScheme = "http://";
  if (url.rfind(kScheme, 0) != 0) return false;
  std::string rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  path = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  host = authority.substr(0, colon);
  port = 80;
  if (colon != std::string::npos) {
    try {
      port = std::stoi(authority.substr(colon + 1));
    } catch (...) {
      return false;
    }
  }
  if (host == "localhost") host = "127.0.0.1";
  return !host.empty() && port > 0 && port < 65536;
}

bool HasHeader(const std::vector<std::string>& headers, std::string_view name) {
  for (const std::string& h : headers) {
    size_t colon = h.find(':');
    if (colon != std::string::npos && EqualsIgnoreCase(std::string_view(h).substr(0, colon), name))
      return true;
  }
  return false;
}

}  // namespace

bool ParseOptions(int argc, char** argv, Options& o, int& exit_code) {
  CLI::App app{
      "sluice-loadgen: HTTP/1.1 keep-alive load generator (closed loop, open loop "
      "with coordinated-omission correction, SSE, connection hold). Prints one JSON "
      "object on stdout."};
  app.add_option("url", o.url, "Target, http://HOST:PORT/PATH")->required();
  app.add_option("-X,--method", o.method, "Request method (default POST with a body, else GET)");
  app.add_option("-H,--header", o.headers, "Extra request header 'Name: value' (repeatable)");
  app.add_option("--body", o.body, "Request body");
  app.add_option("--body-file", o.body_file, "Read the request body from this file")
      ->check(CLI::ExistingFile);
  app.add_option("-c,--connections", o.connections, "Keep-alive connections")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("-d,--duration", o.duration_s, "Measured seconds")->capture_default_str();
  app.add_option("--warmup", o.warmup_s, "Seconds before measuring (excluded from stats)")
      ->capture_default_str();
  app.add_option("-R,--rate", o.rate, "Open loop: requests/s in total (0 = closed loop)")
      ->capture_default_str();
  app.add_flag("--sse", o.sse, "Parse responses as SSE streams; report TTFE and gaps");
  app.add_option("--expect-status", o.expect_status, "Status that counts as success")
      ->capture_default_str();
  app.add_option("--timeout", o.timeout_s, "Per-request timeout in seconds")->capture_default_str();
  app.add_option("--max-connecting", o.max_connecting, "Connects in flight at once")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--hold", o.hold, "Hold mode: open this many idle keep-alive connections");
  app.add_option("--hold-seconds", o.hold_seconds, "Hold mode: seconds to hold them")
      ->capture_default_str();
  app.add_flag("--hold-request", o.hold_request, "Hold mode: send one request on each first");
  app.add_option("--samples-out", o.samples_out,
                 "Also write every latency/TTFE sample (µs) to this JSON file");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    return false;
  }
  exit_code = 2;
  std::string host, path;
  int port = 0;
  if (!ParseUrl(o.url, host, port, path)) {
    std::cerr << "sluice-loadgen: expected http://IPV4:PORT/PATH, got " << o.url << '\n';
    return false;
  }
  o.address.sin_family = AF_INET;
  o.address.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &o.address.sin_addr) != 1) {
    std::cerr << "sluice-loadgen: host must be an IPv4 address: " << host << '\n';
    return false;
  }
  if (!o.body_file.empty()) {
    std::ifstream in(o.body_file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    o.body = text.str();
  }
  if (o.duration_s <= 0 || o.warmup_s < 0 || o.rate < 0 || o.timeout_s <= 0) {
    std::cerr << "sluice-loadgen: durations and rate must be positive\n";
    return false;
  }
  o.mode = o.hold > 0 ? Mode::kHold : o.rate > 0 ? Mode::kOpen : Mode::kClosed;
  if (o.method.empty()) o.method = o.body.empty() ? "GET" : "POST";

  std::string& r = o.request;
  r = o.method + " " + path + " HTTP/1.1\r\n";
  if (!HasHeader(o.headers, "Host")) r += "Host: " + host + ":" + std::to_string(port) + "\r\n";
  if (!HasHeader(o.headers, "User-Agent")) r += "User-Agent: sluice-loadgen\r\n";
  if (!o.body.empty() && !HasHeader(o.headers, "Content-Type"))
    r += "Content-Type: application/json\r\n";
  if (o.sse && !HasHeader(o.headers, "Accept")) r += "Accept: text/event-stream\r\n";
  for (const std::string& h : o.headers) r += h + "\r\n";
  if (!o.body.empty() || o.method == "POST" || o.method == "PUT")
    r += "Content-Length: " + std::to_string(o.body.size()) + "\r\n";
  r += "\r\n";
  r += o.body;
  exit_code = 0;
  return true;
}

}  // namespace sluice::loadgen
