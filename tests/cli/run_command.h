// Runs a program (the real `sluice` binary) to completion for the CLI tests: feeds it stdin,
// captures stdout, stderr and the exit code, with extra environment variables. Bounded: a
// child still running after the timeout is killed. Not thread-safe; one call at a time.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace sluice::testing {

struct CommandResult {
  int exit_code = -1;  // -signal when killed by a signal
  std::string out;
  std::string err;
};

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& stdin_text = "",
                         const std::vector<std::pair<std::string, std::string>>& env = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(30));

}  // namespace sluice::testing
