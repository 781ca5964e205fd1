// Timeouts without a timer operation per I/O: each connection (client session or
// upstream connection) is a TimeoutTarget with a plain deadline field, and one
// DeadlineSweeper per worker checks them every few milliseconds, calling OnTimeout() on the
// expired ones (which cancel their socket). Moving a deadline is a store, not a syscall.
// Resolution is the sweep interval (default 10 ms). Worker-local; not thread-safe.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <chrono>
#include <functional>

#include "core/clock.h"

namespace sluice {

class TimeoutTarget : public boost::intrusive::list_base_hook<
                          boost::intrusive::link_mode<boost::intrusive::auto_unlink>> {
 public:
  virtual ~TimeoutTarget() = default;
  void SetDeadline(SteadyTime at) { deadline_ = at; }
  void SetTimeout(Duration d) { deadline_ = std::chrono::steady_clock::now() + d; }
  void ClearDeadline() { deadline_ = SteadyTime::max(); }
  SteadyTime deadline() const { return deadline_; }
  // Called once when the deadline passes; the deadline is cleared first. Must not destroy
  // the object; typically cancels or closes its socket.
  virtual void OnTimeout() = 0;

 private:
  SteadyTime deadline_ = SteadyTime::max();
};

class DeadlineSweeper {
 public:
  explicit DeadlineSweeper(boost::asio::io_context& io,
                           Duration interval = std::chrono::milliseconds(10));
  void Add(TimeoutTarget& target) { targets_.push_back(target); }
  void Start();
  void Stop();
  // Extra work run on every sweep (idle pool trimming, drain checks).
  void SetOnSweep(std::function<void(SteadyTime)> fn) { on_sweep_ = std::move(fn); }
  size_t size() const { return targets_.size(); }

 private:
  void Arm();
  void Sweep();

  boost::asio::steady_timer timer_;
  Duration interval_;
  bool running_ = false;
  boost::intrusive::list<TimeoutTarget, boost::intrusive::constant_time_size<false>> targets_;
  std::function<void(SteadyTime)> on_sweep_;
};

}  // namespace sluice
