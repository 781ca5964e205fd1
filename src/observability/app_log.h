// The application log (start-up, reloads, drain, unexpected errors): spdlog's default logger,
// with one sink that formats each message as text or JSON, passes it through the Redactor and
// hands the line to a LineSink, so a worker that logs never waits on a terminal or a disk.
// Configured once at start-up (the `logging:` section) by main; everything else just calls
// spdlog::info(...) etc. Thread-safe: logging from any thread; ConfigureAppLog and
// FlushAppLog may be called from any thread (the logger is swapped atomically by spdlog).
#pragma once

#include <memory>
#include <string>

#include "observability/line_sink.h"

namespace sluice {

struct AppLogOptions {
  std::string level = "info";     // trace, debug, info, warn, error, off
  std::string format = "text";    // text | json
  std::string output = "stderr";  // stderr | stdout | a file path
  LineSinkOptions rotate;         // files only
};

// Installs the default spdlog logger. Lines look like
//   text: 2026-11-26T10:00:00.123Z info message        (UTC; CR/LF in messages as \r \n)
//   json: {"time":"2026-11-26T10:00:00.123Z","level":"info","msg":"message"}
// with levels trace, debug, info, warn, error, critical. On an invalid option or an output
// that cannot be opened, returns false with `error` set and leaves the current logger alone.
bool ConfigureAppLog(const AppLogOptions& options, std::string& error);
// Blocks until every line logged so far has been written (shutdown, tests).
void FlushAppLog();
// The LineSink behind the configured logger (for its written/dropped counts); nullptr
// before ConfigureAppLog succeeded.
std::shared_ptr<LineSink> AppLogSink();

}  // namespace sluice
