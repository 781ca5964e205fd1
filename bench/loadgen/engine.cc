// Engine: connection lifecycle, request scheduling and the epoll loop of sluice-loadgen.
#include "bench/loadgen/engine.h"

#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>

namespace sluice::loadgen {
namespace {

constexpr int64_t kHousekeepingNs = 50'000'000;
constexpr int64_t kConnectRetryNs = 100'000'000;
constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
constexpr uint64_t kTimerTag = std::numeric_limits<uint64_t>::max();

int64_t Now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t Nanos(double seconds) { return static_cast<int64_t>(seconds * 1e9); }

uint64_t Tag(size_t i, uint32_t generation) {
  return (static_cast<uint64_t>(generation) << 32) | static_cast<uint64_t>(i);
}

void Marker(const std::string& text) {
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
}

}  // namespace

Engine::Engine(const Options& options) : options_(options) {
  size_t n = static_cast<size_t>(options.mode == Mode::kHold ? options.hold : options.connections);
  conns_.reserve(n);
  for (size_t i = 0; i < n; ++i) conns_.emplace_back(options.sse);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kTimerTag;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &ev);
  interval_ns_ = options.rate > 0 ? 1e9 / options.rate : 0;
  warm_end_ = end_ = kNever;
}

Engine::~Engine() {
  for (Conn& c : conns_) {
    if (c.fd >= 0) close(c.fd);
  }
  if (timer_fd_ >= 0) close(timer_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

double Engine::window_seconds() const {
  return started_ == 0 ? 0 : static_cast<double>(end_ - warm_end_) / 1e9;
}

int64_t Engine::Intended(uint64_t index) const {
  return started_ + static_cast<int64_t>(static_cast<double>(index) * interval_ns_);
}

size_t Engine::Busy() const {
  return static_cast<size_t>(std::count_if(conns_.begin(), conns_.end(),
                                           [](const Conn& c) { return c.state == State::kBusy; }));
}

void Engine::Connect(size_t i, int64_t now) {
  Conn& c = conns_[i];
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    stats_.Error(ErrorKind::kConnect);
    c.retry_at = now + kConnectRetryNs;
    reconnects_.push_back(i);
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  c.fd = fd;
  ++c.generation;
  c.state = State::kConnecting;
  ++connecting_;
  int rc =
      connect(fd, reinterpret_cast<const sockaddr*>(&options_.address), sizeof(options_.address));
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.u64 = Tag(i, c.generation);
  c.want_write = true;
  if ((rc != 0 && errno != EINPROGRESS) || epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    Close(i);
    stats_.Error(ErrorKind::kConnect);
    Reconnect(i, now, kConnectRetryNs);
  }
}

void Engine::Close(size_t i) {
  Conn& c = conns_[i];
  if (c.fd >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
  }
  if (c.state == State::kConnecting) --connecting_;
  if (c.state == State::kIdle) std::erase(idle_, i);
  c.fd = -1;
  c.state = State::kDown;
  c.want_write = false;
  ++c.generation;
}

void Engine::Reconnect(size_t i, int64_t now, int64_t delay) {
  if (phase_ != Phase::kStarting && phase_ != Phase::kRunning) return;
  if (phase_ == Phase::kRunning) ++stats_.reconnects;
  conns_[i].retry_at = now + delay;
  reconnects_.push_back(i);
}

void Engine::SetInterest(size_t i, bool write) {
  Conn& c = conns_[i];
  epoll_event ev{};
  ev.events = EPOLLIN | (write ? EPOLLOUT : 0u);
  ev.data.u64 = Tag(i, c.generation);
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  c.want_write = write;
}

void Engine::Send(size_t i, int64_t intended, int64_t now) {
  Conn& c = conns_[i];
  c.intended = intended;
  c.sent = now;
  c.measured = phase_ == Phase::kPriming ||
               (phase_ == Phase::kRunning && intended >= warm_end_ && intended < end_);
  c.reader.Reset();
  c.written = 0;
  c.state = State::kBusy;
  c.deadline = now + Nanos(options_.timeout_s);
  Write(i);
}

void Engine::Write(size_t i) {
  Conn& c = conns_[i];
  const std::string& request = options_.request;
  while (c.written < request.size()) {
    ssize_t n = send(c.fd, request.data() + c.written, request.size() - c.written, MSG_NOSIGNAL);
    if (n > 0) {
      c.written += static_cast<size_t>(n);
      stats_.bytes_out += static_cast<uint64_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c.want_write) SetInterest(i, true);
      return;
    } else {
      Fail(i, ErrorKind::kIo, Now());
      return;
    }
  }
  if (c.want_write) SetInterest(i, false);
}

void Engine::HandleEvent(size_t i, uint32_t events) {
  Conn& c = conns_[i];
  if (c.state == State::kConnecting) {
    int error = 0;
    socklen_t len = sizeof(error);
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &len);
    int64_t now = Now();
    if (error != 0 || (events & EPOLLERR) != 0) {
      Close(i);
      stats_.Error(ErrorKind::kConnect);
      Reconnect(i, now, kConnectRetryNs);
      return;
    }
    --connecting_;
    c.state = State::kIdle;
    SetInterest(i, false);
    BecameIdle(i, now);
    return;
  }
  uint32_t generation = c.generation;
  if ((events & EPOLLOUT) != 0 && c.state == State::kBusy && c.want_write) Write(i);
  if (c.generation != generation) return;
  if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) Read(i);
}

void Engine::Read(size_t i) {
  static char buffer[64 * 1024];
  Conn& c = conns_[i];
  uint32_t generation = c.generation;
  for (int round = 0; round < 16; ++round) {
    ssize_t n = recv(c.fd, buffer, sizeof(buffer), 0);
    int64_t now = Now();
    if (n > 0) {
      stats_.bytes_in += static_cast<uint64_t>(n);
      if (c.state != State::kBusy) {
        Fail(i, ErrorKind::kParse, now);  // bytes nobody asked for
        return;
      }
      observing_ = &c;
      ResponseReader::Status status =
          c.reader.Feed(std::string_view(buffer, static_cast<size_t>(n)), now, this);
      observing_ = nullptr;
      if (status == ResponseReader::Status::kError) {
        Fail(i, ErrorKind::kParse, now);
        return;
      }
      if (status == ResponseReader::Status::kDone) Complete(i, now);
      if (c.generation != generation || static_cast<size_t>(n) < sizeof(buffer)) return;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (c.state == State::kBusy) {
      observing_ = &c;
      bool done = n == 0 && c.reader.FeedEof(now, this) == ResponseReader::Status::kDone;
      observing_ = nullptr;
      if (done) {
        Complete(i, now);
      } else {
        Fail(i, ErrorKind::kIo, now);
      }
      return;
    }
    // The peer closed an idle connection (keep-alive timeout, or a hold-mode casualty).
    if (phase_ == Phase::kHolding || phase_ == Phase::kPriming) ++stats_.closed_by_peer;
    Close(i);
    Reconnect(i, now, 0);
    return;
  }
}

void Engine::Complete(size_t i, int64_t now) {
  Conn& c = conns_[i];
  const int status = c.reader.status();
  const StreamTrace& trace = c.reader.trace();
  ++stats_.status_counts[status];
  const bool status_ok = status == options_.expect_status;
  const bool stream_ok = !options_.sse || !status_ok || (trace.saw_done && !trace.data_after_done);
  const bool success = status_ok && stream_ok;
  if (!status_ok) stats_.Error(ErrorKind::kStatus);
  if (!stream_ok) stats_.Error(ErrorKind::kSse);
  if (c.measured) {
    ++stats_.requests;
    if (success) {
      ++stats_.ok;
      stats_.latency.Add(now - c.intended);
      stats_.service.Add(now - c.sent);
      if (options_.mode == Mode::kOpen) stats_.send_lag.Add(c.sent - c.intended);
      if (options_.sse) {
        stats_.events += trace.events;
        if (trace.first_event != 0) stats_.ttfe.Add(trace.first_event - c.intended);
      }
    }
  }
  if (success && now >= warm_end_ && now < end_) ++stats_.window_ok;
  c.state = State::kIdle;
  if (!c.reader.keep_alive()) {
    Close(i);
    Reconnect(i, now, 0);
    return;
  }
  BecameIdle(i, now);
}

void Engine::Fail(size_t i, ErrorKind kind, int64_t now) {
  Conn& c = conns_[i];
  stats_.Error(kind);
  if (c.state == State::kBusy && c.measured) ++stats_.requests;
  Close(i);
  Reconnect(i, now, 0);
}

void Engine::BecameIdle(size_t i, int64_t now) {
  if (phase_ == Phase::kRunning) {
    if (options_.mode == Mode::kClosed) {
      if (now < end_) Send(i, now, now);
    } else {
      idle_.push_back(i);
      Dispatch(now);
    }
  } else if (phase_ == Phase::kPriming && Busy() == 0) {
    StartHolding(now);
  }
}

void Engine::Dispatch(int64_t now) {
  while (!idle_.empty()) {
    int64_t due = Intended(next_index_);
    if (due > now || due >= end_) return;
    size_t i = idle_.back();
    idle_.pop_back();
    ++next_index_;
    Send(i, due, now);
  }
}

void Engine::Begin(int64_t now) {
  started_ = now;
  warm_end_ = now + Nanos(options_.warmup_s);
  end_ =
      warm_end_ + Nanos(options_.mode == Mode::kHold ? options_.hold_seconds : options_.duration_s);
  std::vector<size_t> up;
  for (size_t i = 0; i < conns_.size(); ++i) {
    if (conns_[i].state == State::kIdle) up.push_back(i);
  }
  stats_.established = static_cast<int>(up.size());
  if (options_.mode == Mode::kHold) {
    if (!options_.hold_request) {
      StartHolding(now);
      return;
    }
    phase_ = Phase::kPriming;
    stop_at_ = now + Nanos(options_.timeout_s);
    for (size_t i : up) Send(i, now, now);
    if (phase_ == Phase::kPriming && Busy() == 0) StartHolding(now);
    return;
  }
  phase_ = Phase::kRunning;
  if (options_.mode == Mode::kClosed) {
    for (size_t i : up) Send(i, now, now);
  } else {
    idle_ = up;
    Dispatch(now);
  }
}

void Engine::StartHolding(int64_t now) {
  phase_ = Phase::kHolding;
  stop_at_ = now + Nanos(options_.hold_seconds);
  int open = 0;
  for (const Conn& c : conns_) open += c.fd >= 0 ? 1 : 0;
  Marker("holding " + std::to_string(open) + " connections\n");
}

void Engine::OnEvent(int64_t now, int64_t previous_event) {
  if (now >= warm_end_ && now < end_) ++stats_.window_events;
  if (observing_ != nullptr && observing_->measured && previous_event != 0) {
    stats_.gaps.Add(now - previous_event);
  }
}

void Engine::Tick(int64_t now) {
  // (Re)connects that are due, within the in-flight connect budget.
  size_t kept = 0;
  for (size_t k = 0; k < reconnects_.size(); ++k) {
    size_t i = reconnects_[k];
    if (conns_[i].retry_at <= now && connecting_ < options_.max_connecting) {
      Connect(i, now);
    } else {
      reconnects_[kept++] = i;
    }
  }
  reconnects_.resize(std::min(kept, reconnects_.size()));

  if (phase_ == Phase::kStarting) {
    size_t up = static_cast<size_t>(std::count_if(
        conns_.begin(), conns_.end(), [](const Conn& c) { return c.state == State::kIdle; }));
    if (up == conns_.size() || now >= stop_at_) {
      if (up == 0) {
        phase_ = Phase::kDone;
        return;
      }
      reconnects_.clear();
      Begin(now);
    }
  }
  if (phase_ == Phase::kRunning) {
    if (!measure_started_ && now >= warm_end_) {
      measure_started_ = true;
      Marker("loadgen: measure start\n");
    }
    if (now >= end_) {
      Marker("loadgen: measure end\n");
      phase_ = Phase::kDraining;
      stop_at_ = now + Nanos(options_.timeout_s);
      if (options_.mode == Mode::kOpen) {
        auto first_at = [&](int64_t t) {
          return static_cast<uint64_t>(std::ceil(static_cast<double>(t - started_) / interval_ns_));
        };
        uint64_t last = first_at(end_);
        uint64_t from = std::max(next_index_, first_at(warm_end_));
        stats_.unsent = last > from ? last - from : 0;
      }
    } else if (options_.mode == Mode::kOpen) {
      Dispatch(now);
    }
  }
  if (now >= next_housekeeping_) {
    next_housekeeping_ = now + kHousekeepingNs;
    for (size_t i = 0; i < conns_.size(); ++i) {
      if (conns_[i].state == State::kBusy && conns_[i].deadline <= now) {
        Fail(i, ErrorKind::kTimeout, now);
      }
    }
  }
  if (phase_ == Phase::kDraining && (Busy() == 0 || now >= stop_at_)) {
    for (size_t i = 0; i < conns_.size(); ++i) {
      if (conns_[i].state == State::kBusy) Fail(i, ErrorKind::kTimeout, now);  // never finished
    }
    phase_ = Phase::kDone;
  }
  if (phase_ == Phase::kPriming && (now >= stop_at_ || Busy() == 0)) StartHolding(now);
  if (phase_ == Phase::kHolding && now >= stop_at_) {
    for (const Conn& c : conns_) stats_.held_at_end += c.fd >= 0 ? 1 : 0;
    phase_ = Phase::kDone;
  }
}

int64_t Engine::NextDeadline(int64_t now) const {
  int64_t deadline = next_housekeeping_;
  if (phase_ != Phase::kRunning) deadline = std::min(deadline, stop_at_);
  if (phase_ == Phase::kRunning) {
    if (!measure_started_) deadline = std::min(deadline, warm_end_);
    deadline = std::min(deadline, end_);
    if (options_.mode == Mode::kOpen && !idle_.empty()) {
      deadline = std::min(deadline, Intended(next_index_));
    }
  }
  for (size_t i : reconnects_) deadline = std::min(deadline, conns_[i].retry_at);
  return std::max(deadline, now + 1);
}

bool Engine::Run() {
  int64_t now = Now();
  stop_at_ = now + Nanos(std::max(options_.timeout_s, 10.0));  // start-up deadline
  for (size_t i = 0; i < conns_.size(); ++i) {
    conns_[i].retry_at = now;
    reconnects_.push_back(i);
  }
  next_housekeeping_ = now;
  Tick(now);
  epoll_event events[512];
  while (phase_ != Phase::kDone) {
    int64_t deadline = NextDeadline(now);
    if (deadline != armed_) {
      itimerspec spec{};
      spec.it_value.tv_sec = deadline / 1'000'000'000;
      spec.it_value.tv_nsec = deadline % 1'000'000'000;
      timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &spec, nullptr);
      armed_ = deadline;
    }
    int n = epoll_wait(epoll_fd_, events, 512, -1);
    if (n < 0 && errno != EINTR) {
      std::perror("sluice-loadgen: epoll_wait");
      return false;
    }
    for (int k = 0; k < n; ++k) {
      uint64_t tag = events[k].data.u64;
      if (tag == kTimerTag) {
        uint64_t expirations = 0;
        ssize_t ignored = read(timer_fd_, &expirations, sizeof(expirations));
        (void)ignored;
        armed_ = -1;
        continue;
      }
      size_t i = static_cast<size_t>(tag & 0xffffffffu);
      if (i < conns_.size() && conns_[i].generation == static_cast<uint32_t>(tag >> 32) &&
          conns_[i].fd >= 0) {
        HandleEvent(i, events[k].events);
      }
    }
    now = Now();
    Tick(now);
  }
  return started_ != 0;
}

}  // namespace sluice::loadgen
