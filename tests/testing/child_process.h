// Runs a program (the real `sluice` binary) as a child process for tests that need real
// signals and exit codes, capturing its stderr so tests can wait for log lines. Every wait
// is bounded. Not thread-safe; one per test.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sluice::testing {

class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv);
  ~ChildProcess();  // kills the child if it still runs

  // Waits for a stderr line containing `needle`; returns the line.
  std::optional<std::string> WaitForLine(const std::string& needle,
                                         std::chrono::milliseconds timeout);
  void Signal(int signo);
  // Waits for exit; returns the exit status (or -signal), nullopt on timeout.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  // Everything read from stderr so far.
  const std::string& output() const { return output_; }
  pid_t pid() const { return pid_; }

 private:
  void ReadAvailable(int timeout_ms);

  pid_t pid_ = -1;
  int stderr_fd_ = -1;
  std::string output_;
  size_t scanned_ = 0;
  bool exited_ = false;
};

// Writes `text` to a new temporary file and returns its path.
std::string WriteTempFile(const std::string& stem, const std::string& text);

}  // namespace sluice::testing
