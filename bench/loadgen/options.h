// Command-line options of sluice-loadgen and the fixed request they describe. Parsed once
// in main and read-only afterwards.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::loadgen {

enum class Mode { kClosed, kOpen, kHold };

struct Options {
  std::string url;
  std::string method;  // empty → POST with a body, GET without
  std::vector<std::string> headers;
  std::string body;
  std::string body_file;
  int connections = 1;
  double duration_s = 10;
  double warmup_s = 0;
  double rate = 0;  // requests/s in total; 0 → closed loop
  bool sse = false;
  int expect_status = 200;
  double timeout_s = 10;
  int max_connecting = 64;  // connects in flight at once (peers' accept backlogs are finite)
  int hold = 0;
  double hold_seconds = 10;
  bool hold_request = false;
  std::string samples_out;  // file for the raw latency/TTFE samples (JSON)

  // Derived by ParseOptions.
  Mode mode = Mode::kClosed;
  sockaddr_in address{};
  std::string request;  // the complete request bytes sent on every exchange
};

// Parses argv; on --help or an error prints to stderr/stdout and returns false with
// `exit_code` set.
bool ParseOptions(int argc, char** argv, Options& options, int& exit_code);

}  // namespace sluice::loadgen
