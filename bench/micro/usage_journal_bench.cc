// Benchmarks of the usage journal on the disk it runs on: records made durable per second
// and fdatasync calls per second with 1, 16 and 256 concurrent appenders (coroutines on one
// io_context, each awaiting AppendDurable in a loop, as requests on a worker would), and the
// fire-and-forget Append. The journal directory is $SLUICE_BENCH_JOURNAL_DIR, default
// ./sluice-journal-bench (removed afterwards); /tmp may be tmpfs, where fsync costs nothing.
// Run: sluice-micro --benchmark_filter=Journal
#include <benchmark/benchmark.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "usage/usage_journal.h"

namespace sluice::bench {
namespace {

namespace asio = boost::asio;

constexpr int kRecordsPerIteration = 4096;

std::string JournalDir() {
  const char* dir = std::getenv("SLUICE_BENCH_JOURNAL_DIR");
  return dir != nullptr ? dir : "sluice-journal-bench";
}

UsageRecord BenchRecord(int n) {
  UsageRecord r;
  r.request_id = "req_0123456789abcdef0123" + std::to_string(n);
  r.time_ms = 1'767'225'600'000 + n;
  r.key_id = "key_0123456789abcdef01234567";
  r.user_id = "usr_0123456789abcdef01234567";
  r.team_id = "team_0123456789abcdef01234567";
  r.model_requested = "gpt-4o-mini";
  r.model_served = "gpt-4o-mini-2024-07-18";
  r.backend = "openai-primary";
  r.prompt_tokens = 812;
  r.completion_tokens = 233;
  r.cost_micros = 261;
  r.status = 200;
  r.latency_ms = 1450;
  r.ttft_ms = 180;
  r.stream = true;
  return r;
}

std::unique_ptr<UsageJournal> OpenBenchJournal(benchmark::State& state) {
  std::filesystem::remove_all(JournalDir());
  std::string error;
  std::unique_ptr<UsageJournal> journal = UsageJournal::Open({.dir = JournalDir()}, &error);
  if (journal == nullptr) state.SkipWithError(error.c_str());
  return journal;
}

asio::awaitable<void> Appender(UsageJournal& journal, int first, int count, int stride,
                               int64_t& failures) {
  for (int i = 0; i < count; ++i) {
    UsageRecord record = BenchRecord(first + i * stride);
    const bool ok = co_await journal.AppendDurable(std::move(record));
    if (!ok) ++failures;
  }
}

void BM_JournalAppendDurable(benchmark::State& state) {
  const int appenders = static_cast<int>(state.range(0));
  std::unique_ptr<UsageJournal> journal = OpenBenchJournal(state);
  if (journal == nullptr) return;
  int64_t failures = 0;
  const uint64_t fsyncs_before = journal->fsyncs();
  for (auto _ : state) {
    asio::io_context io(1);
    const int per_appender = kRecordsPerIteration / appenders;
    for (int a = 0; a < appenders; ++a) {
      asio::co_spawn(io, Appender(*journal, a, per_appender, appenders, failures), asio::detached);
    }
    io.run();
  }
  const double records = static_cast<double>(journal->records_written());
  const double fsyncs = static_cast<double>(journal->fsyncs() - fsyncs_before);
  state.counters["records/s"] = benchmark::Counter(records, benchmark::Counter::kIsRate);
  state.counters["fsyncs/s"] = benchmark::Counter(fsyncs, benchmark::Counter::kIsRate);
  state.counters["records/fsync"] = records / std::max(fsyncs, 1.0);
  if (failures != 0) state.SkipWithError("the journal reported a failed append");
  journal->Stop();
  std::filesystem::remove_all(JournalDir());
}
BENCHMARK(BM_JournalAppendDurable)
    ->Arg(1)
    ->Arg(16)
    ->Arg(256)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void BM_JournalAppendNoWait(benchmark::State& state) {
  std::unique_ptr<UsageJournal> journal = OpenBenchJournal(state);
  if (journal == nullptr) return;
  int n = 0;
  for (auto _ : state) journal->Append(BenchRecord(n++));
  state.SetItemsProcessed(n);  // the enqueue cost of a caller that does not wait
  journal->Stop();
  state.counters["records/fsync"] = static_cast<double>(journal->records_written()) /
                                    std::max(static_cast<double>(journal->fsyncs()), 1.0);
  std::filesystem::remove_all(JournalDir());
}
BENCHMARK(BM_JournalAppendNoWait)->UseRealTime();

}  // namespace
}  // namespace sluice::bench
