// Everything sluice-loadgen measures in one run, and its JSON rendering (the one object
// the tool prints on stdout; bench/run.py reads it). Owned by the single-threaded engine.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>

#include "bench/loadgen/options.h"
#include "bench/loadgen/samples.h"

namespace sluice::loadgen {

enum class ErrorKind { kConnect, kStatus, kParse, kTimeout, kIo, kSse, kCount };

struct Stats {
  // Requests whose intended send time fell inside the measured window (completed or failed).
  uint64_t requests = 0;
  uint64_t ok = 0;
  // Successful responses whose last byte arrived inside the window (throughput numerator).
  uint64_t window_ok = 0;
  // Open loop: requests due inside the window that were never sent (no free connection).
  uint64_t unsent = 0;
  std::array<uint64_t, static_cast<size_t>(ErrorKind::kCount)> errors{};  // whole run
  std::map<int, uint64_t> status_counts;                                  // whole run
  uint64_t bytes_in = 0, bytes_out = 0;                                   // whole run
  uint64_t reconnects = 0;
  Samples latency;   // from the intended send time to the last byte
  Samples service;   // from the actual send time to the last byte
  Samples send_lag;  // open loop: actual send time - intended send time
  // SSE.
  uint64_t events = 0;         // data events in measured streams
  uint64_t window_events = 0;  // data events received inside the window (any stream)
  Samples ttfe;                // intended send time → first data event
  Samples gaps;                // between consecutive data events of one stream
  // Hold mode.
  int established = 0;
  int held_at_end = 0;
  uint64_t closed_by_peer = 0;

  void Error(ErrorKind kind) { ++errors[static_cast<size_t>(kind)]; }
};

// Renders the report. `window_s` is the measured window's length in seconds.
std::string RenderJson(const Options& options, Stats& stats, double window_s);
// {"latency_us":[...],"service_latency_us":[...],"ttfe_us":[...]}: every sample, sorted.
// REQUIRES: RenderJson ran first (it sorts the samples).
std::string RenderSamplesJson(const Stats& stats);

}  // namespace sluice::loadgen
