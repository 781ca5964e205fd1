// DeadlineSweeper: a periodic timer walking the worker's connections.
#include "http/deadline.h"

namespace sluice {

DeadlineSweeper::DeadlineSweeper(boost::asio::io_context& io, Duration interval)
    : timer_(io), interval_(interval) {}

void DeadlineSweeper::Start() {
  running_ = true;
  Arm();
}

void DeadlineSweeper::Stop() {
  running_ = false;
  timer_.cancel();
}

void DeadlineSweeper::Arm() {
  timer_.expires_after(interval_);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (ec || !running_) return;
    Sweep();
    Arm();
  });
}

void DeadlineSweeper::Sweep() {
  SteadyTime now = std::chrono::steady_clock::now();
  for (TimeoutTarget& target : targets_) {
    if (target.deadline() <= now) {
      target.ClearDeadline();
      target.OnTimeout();
    }
  }
  if (on_sweep_) on_sweep_(now);
}

}  // namespace sluice
