// sluice-redis-bench: decisions per second and µs per decision of RedisLimiterStore against
// a redis-server it starts itself (loopback, free port, no persistence; killed at exit and
// with this process, via PR_SET_PDEATHSIG), with 1 and 64 (or --concurrency) coroutines
// pipelining on one worker's connection. Run it pinned (taskset) on an otherwise idle box.
// Usage: sluice-redis-bench [--seconds S] [--checks 1|3] [--concurrency 1,64]
//                           [--client-cpu N] [--redis-cpu N] [--redis-server PATH]
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "limits/local_limiter_store.h"
#include "limits/redis_limiter_store.h"

namespace {
namespace asio = boost::asio;
using namespace sluice;
using Clock = std::chrono::steady_clock;

struct Args {
  double seconds = 3;
  int checks = 1;
  std::vector<int> concurrency{1, 64};
  int client_cpu = -1;
  int redis_cpu = -1;
  std::string redis_server = "/usr/bin/redis-server";
};

void PinTo(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

pid_t StartRedis(const Args& a, uint16_t port, const std::string& dir) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives the benchmark
  PinTo(a.redis_cpu);
  int null_fd = ::open("/dev/null", O_WRONLY);
  ::dup2(null_fd, STDOUT_FILENO);
  ::dup2(null_fd, STDERR_FILENO);
  std::string p = std::to_string(port);
  ::execl(a.redis_server.c_str(), a.redis_server.c_str(), "--port", p.c_str(), "--bind",
          "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir.c_str(), nullptr);
  ::_exit(127);
}

std::vector<limits::Check> MakeChecks(int n, int64_t window_end_us) {
  std::vector<limits::Check> checks;
  limits::Check rpm;
  rpm.key = "sl:{key:bench}:p1:rpm";
  rpm.kind = limits::CounterKind::kRate;
  rpm.limit = rpm.burst = 1'000'000'000;
  rpm.period_us = 60'000'000;
  rpm.amount = 1;
  checks.push_back(rpm);
  if (n >= 3) {
    limits::Check tpm = rpm;
    tpm.key = "sl:{key:bench}:p1:tpm";
    tpm.amount = 700;
    checks.push_back(tpm);
    limits::Check budget;
    budget.key = "sl:{key:bench}:p2:2026-11";
    budget.kind = limits::CounterKind::kBudget;
    budget.limit = int64_t{1} << 50;
    budget.window_end_us = window_end_us;
    budget.amount = 1234;
    budget.on_store_failure = limits::OnStoreFailure::kFailClosed;
    checks.push_back(budget);
  }
  return checks;
}

double ThreadCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_THREAD, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

int64_t UnixMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Result {
  uint64_t decisions = 0;
  uint64_t refused_or_fallback = 0;
  double elapsed_s = 0;
  double client_cpu_s = 0;  // this thread's CPU time (user + system) while measuring
  std::vector<double> latencies_us;
};

Result RunOnce(const Args& a, uint16_t port, int concurrency) {
  asio::io_context io(1);
  limits::LocalLimiterStore local;
  limits::RedisLimiterStoreOptions o;
  o.redis.port = port;
  o.timeout = std::chrono::milliseconds(1000);
  auto store = std::make_unique<limits::RedisLimiterStore>(o, local);
  const std::vector<limits::Check> checks = MakeChecks(a.checks, UnixMicros() + 3'600'000'000);
  Result r;
  Clock::time_point measure_from, stop_at;
  bool measuring = false;
  int running = 0;
  auto worker = [&]() -> asio::awaitable<void> {
    ++running;
    while (Clock::now() < stop_at) {
      auto t0 = Clock::now();
      limits::Decision d = co_await store->Acquire(checks, UnixMicros());
      auto t1 = Clock::now();
      if (measuring) {
        ++r.decisions;
        if (!d.allowed || d.fallback != nullptr) ++r.refused_or_fallback;
        r.latencies_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
      }
    }
    --running;
  };
  // Warm-up: connect, load the scripts, fill caches.
  stop_at = Clock::now() + std::chrono::milliseconds(500);
  for (int i = 0; i < concurrency; ++i) asio::co_spawn(io, worker(), asio::detached);
  while (running > 0 || Clock::now() < stop_at) io.run_one_for(std::chrono::milliseconds(10));
  measuring = true;
  measure_from = Clock::now();
  const double cpu_from = ThreadCpuSeconds();
  stop_at = measure_from +
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds));
  for (int i = 0; i < concurrency; ++i) asio::co_spawn(io, worker(), asio::detached);
  while (running > 0 || Clock::now() < stop_at) io.run_one_for(std::chrono::milliseconds(10));
  r.elapsed_s = std::chrono::duration<double>(Clock::now() - measure_from).count();
  r.client_cpu_s = ThreadCpuSeconds() - cpu_from;
  store.reset();
  io.run_for(std::chrono::milliseconds(20));
  return r;
}

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--seconds")
      a.seconds = std::stod(v);
    else if (k == "--checks")
      a.checks = std::stoi(v);
    else if (k == "--client-cpu")
      a.client_cpu = std::stoi(v);
    else if (k == "--redis-cpu")
      a.redis_cpu = std::stoi(v);
    else if (k == "--redis-server")
      a.redis_server = v;
    else if (k == "--concurrency") {
      a.concurrency.clear();
      for (size_t pos = 0; pos < v.size();) {
        size_t comma = v.find(',', pos);
        a.concurrency.push_back(std::stoi(v.substr(pos, comma - pos)));
        pos = comma == std::string::npos ? v.size() : comma + 1;
      }
    } else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (::access(a.redis_server.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "redis-server not found at %s (scripts/install-deps test)\n",
                 a.redis_server.c_str());
    return 1;
  }
  char tmpl[] = "/tmp/sluice-redis-bench-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) return 1;
  std::string dir = tmpl;
  uint16_t port = FreePort();
  pid_t redis = StartRedis(a, port, dir);
  PinTo(a.client_cpu);
  ::usleep(200'000);  // redis-server binds within milliseconds; RunOnce's warm-up waits too
  std::printf(
      "# RedisLimiterStore on redis-server 127.0.0.1:%u, %d check(s) per decision, "
      "one worker thread (one connection), %.1f s per run\n",
      port, a.checks, a.seconds);
  std::printf("%-12s %12s %14s %12s %14s %10s %10s %10s\n", "coroutines", "decisions",
              "decisions/s", "us/decision", "client_cpu_us", "p50_us", "p99_us", "fallbacks");
  int status = 0;
  for (int c : a.concurrency) {
    Result r = RunOnce(a, port, c);
    double per_s = static_cast<double>(r.decisions) / r.elapsed_s;
    std::printf("%-12d %12llu %14.0f %12.2f %14.2f %10.1f %10.1f %10llu\n", c,
                static_cast<unsigned long long>(r.decisions), per_s, 1e6 / per_s,
                r.client_cpu_s * 1e6 / static_cast<double>(r.decisions),
                Percentile(r.latencies_us, 0.5), Percentile(r.latencies_us, 0.99),
                static_cast<unsigned long long>(r.refused_or_fallback));
    if (r.decisions == 0 || r.refused_or_fallback > 0) status = 1;
  }
  ::kill(redis, SIGKILL);
  ::waitpid(redis, nullptr, 0);
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  return status;
}
