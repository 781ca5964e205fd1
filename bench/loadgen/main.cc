// sluice-loadgen: the benchmark load generator (closed loop, open loop with intended send
// times as in wrk2, SSE streams, idle connection hold). Used by bench/run.py; prints one
// JSON report on stdout. Single-threaded: pin it to a core of its own.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cstdio>
#include <fstream>

#include "bench/loadgen/engine.h"
#include "bench/loadgen/options.h"

int main(int argc, char** argv) {
  sluice::loadgen::Options options;
  int exit_code = 0;
  if (!sluice::loadgen::ParseOptions(argc, argv, options, exit_code)) return exit_code;

  signal(SIGPIPE, SIG_IGN);
  // Wake-ups at the intended send times should not be coalesced by the default 50 µs slack.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  sluice::loadgen::Engine engine(options);
  bool ran = engine.Run();
  std::string report =
      sluice::loadgen::RenderJson(options, engine.stats(), engine.window_seconds());
  std::fputs(report.c_str(), stdout);
  if (!options.samples_out.empty()) {
    std::ofstream(options.samples_out) << sluice::loadgen::RenderSamplesJson(engine.stats());
  }
  if (!ran) std::fputs("sluice-loadgen: no connection could be established\n", stderr);
  return ran ? 0 : 1;
}
