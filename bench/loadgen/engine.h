// The single-threaded epoll engine of sluice-loadgen: keeps C non-blocking keep-alive
// connections, schedules requests (closed loop, open loop with intended send times, or
// hold), reads responses with ResponseReader and fills Stats. Markers "loadgen: measure
// start|end" and "holding N connections" go to stderr (flushed) so a driver can sample the
// server's CPU and memory at those moments. Not thread-safe; one per process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/loadgen/options.h"
#include "bench/loadgen/response_reader.h"
#include "bench/loadgen/stats.h"

namespace sluice::loadgen {

class Engine final : public EventObserver {
 public:
  explicit Engine(const Options& options);
  ~Engine() override;
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Runs to completion; false when nothing could be measured (no connection came up).
  bool Run();
  Stats& stats() { return stats_; }
  double window_seconds() const;

  void OnEvent(int64_t now, int64_t previous_event) override;

 private:
  enum class State { kDown, kConnecting, kIdle, kBusy };
  enum class Phase { kStarting, kRunning, kPriming, kHolding, kDraining, kDone };
  struct Conn {
    explicit Conn(bool sse) : reader(sse) {}
    int fd = -1;
    uint32_t generation = 0;
    State state = State::kDown;
    bool want_write = false;
    size_t written = 0;
    int64_t intended = 0, sent = 0, deadline = 0, retry_at = 0;
    bool measured = false;
    ResponseReader reader;
  };

  void Connect(size_t i, int64_t now);
  void Close(size_t i);
  void Reconnect(size_t i, int64_t now, int64_t delay);
  void Begin(int64_t now);
  void Send(size_t i, int64_t intended, int64_t now);
  void Write(size_t i);
  void Read(size_t i);
  void HandleEvent(size_t i, uint32_t events);
  void Complete(size_t i, int64_t now);
  void Fail(size_t i, ErrorKind kind, int64_t now);
  void BecameIdle(size_t i, int64_t now);
  void Dispatch(int64_t now);
  void Tick(int64_t now);
  void SetInterest(size_t i, bool write);
  int64_t Intended(uint64_t index) const;
  int64_t NextDeadline(int64_t now) const;
  size_t Busy() const;
  void StartHolding(int64_t now);

  const Options& options_;
  Stats stats_;
  std::vector<Conn> conns_;
  std::vector<size_t> idle_;        // open loop: connections free to send
  std::vector<size_t> reconnects_;  // connections waiting for (re)connect
  int epoll_fd_ = -1;
  int timer_fd_ = -1;
  int64_t armed_ = -1;
  Phase phase_ = Phase::kStarting;
  int connecting_ = 0;
  int64_t started_ = 0;   // all connections up; the schedule starts here
  int64_t warm_end_ = 0;  // measured window [warm_end_, end_)
  int64_t end_ = 0;
  int64_t stop_at_ = 0;  // end of drain, hold or start-up
  int64_t next_housekeeping_ = 0;
  bool measure_started_ = false;
  uint64_t next_index_ = 0;  // open loop: next request of the schedule
  double interval_ns_ = 0;
  Conn* observing_ = nullptr;  // connection whose bytes are being parsed
};

}  // namespace sluice::loadgen
