// ChildProcess: fork/exec with a stderr pipe, polling reads, bounded waits.
#include "tests/testing/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <thread>

namespace sluice::testing {

ChildProcess::ChildProcess(std::vector<std::string> argv) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // A test binary that crashes (an ASan abort) must not leave its servers running.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(pipe_fds[1], STDERR_FILENO);
    int null_fd = ::open("/dev/null", O_WRONLY);
    ::dup2(null_fd, STDOUT_FILENO);
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  stderr_fd_ = pipe_fds[0];
}

ChildProcess::~ChildProcess() {
  if (!exited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
}

void ChildProcess::ReadAvailable(int timeout_ms) {
  pollfd pfd{stderr_fd_, POLLIN, 0};
  if (::poll(&pfd, 1, timeout_ms) <= 0) return;
  char buf[4096];
  ssize_t n = ::read(stderr_fd_, buf, sizeof(buf));
  if (n > 0) output_.append(buf, static_cast<size_t>(n));
}

std::optional<std::string> ChildProcess::WaitForLine(const std::string& needle,
                                                     std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    size_t hit = output_.find(needle, scanned_);
    if (hit != std::string::npos) {
      size_t start = output_.rfind('\n', hit);
      start = start == std::string::npos ? 0 : start + 1;
      size_t end = output_.find('\n', hit);
      if (end != std::string::npos) {
        scanned_ = end;
        return output_.substr(start, end - start);
      }
    }
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    ReadAvailable(20);
  }
}

void ChildProcess::Signal(int signo) { ::kill(pid_, signo); }

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      while (true) {  // drain what is left in the pipe
        size_t before = output_.size();
        ReadAvailable(0);
        if (output_.size() == before) break;
      }
      return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    ReadAvailable(10);
  }
  return std::nullopt;
}

std::string WriteTempFile(const std::string& stem, const std::string& text) {
  static int counter = 0;
  std::string path = "/tmp/sluice-test-" + std::to_string(::getpid()) + "-f" +
                     std::to_string(++counter) + "-" + stem;
  std::ofstream(path) << text;
  return path;
}

}  // namespace sluice::testing
