// The application log's spdlog sink (formatting, redaction, hand-off to a LineSink) and its
// configuration.
#include "observability/app_log.h"

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <time.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string_view>

#include "core/json_text.h"
#include "observability/redactor.h"

namespace sluice {
namespace {

std::optional<spdlog::level::level_enum> ParseLevel(std::string_view name) {
  if (name == "trace") return spdlog::level::trace;
  if (name == "debug") return spdlog::level::debug;
  if (name == "info") return spdlog::level::info;
  if (name == "warn") return spdlog::level::warn;
  if (name == "error") return spdlog::level::err;
  if (name == "off") return spdlog::level::off;
  return std::nullopt;
}

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

// Per-thread scratch space, so formatting needs no lock and, once warm, no allocation.
struct Scratch {
  std::string message;  // the redacted message
  std::string line;
  int64_t second = -1;  // the second `date_time` shows
  char date_time[20];   // "2026-11-26T10:00:00"
};

Scratch& ThreadScratch() {
  thread_local Scratch scratch;
  return scratch;
}

// "2026-11-26T10:00:00.123Z"; the calendar part is recomputed once per second per thread.
void AppendUtcTime(std::string& out, spdlog::log_clock::time_point time, Scratch& scratch) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  int64_t second = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  if (second != scratch.second) {
    time_t t = static_cast<time_t>(second);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(scratch.date_time, sizeof(scratch.date_time), "%Y-%m-%dT%H:%M:%S", &tm);
    scratch.second = second;
  }
  out.append(scratch.date_time, 19);
  int millis = static_cast<int>(ms - second * 1000);
  char fraction[6] = {'.',
                      static_cast<char>('0' + millis / 100),
                      static_cast<char>('0' + millis / 10 % 10),
                      static_cast<char>('0' + millis % 10),
                      'Z',
                      '\0'};
  out.append(fraction, 5);
}

// A message keeps to one line in the text format: CR and LF are shown escaped, so a message
// cannot forge a log line.
void AppendOneLine(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
}

// The sink itself holds no mutable shared state (scratch space is per thread), hence
// null_mutex: spdlog takes no lock, and the only lock on the way is the LineSink's.
class RedactingLineSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  RedactingLineSink(std::shared_ptr<LineSink> out, bool json) : out_(std::move(out)), json_(json) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    Scratch& scratch = ThreadScratch();
    Redact(std::string_view(msg.payload.data(), msg.payload.size()), scratch.message);
    std::string& line = scratch.line;
    line.clear();
    if (json_) {
      line += "{\"time\":\"";
      AppendUtcTime(line, msg.time, scratch);
      line += "\",\"level\":\"";
      line += LevelName(msg.level);
      line += "\",\"msg\":";
      AppendJsonString(line, scratch.message);
      line += "}\n";
    } else {
      AppendUtcTime(line, msg.time, scratch);
      line += ' ';
      line += LevelName(msg.level);
      line += ' ';
      AppendOneLine(line, scratch.message);
      line += '\n';
    }
    out_->Write(line);
  }

  // Never called on a logging thread: the logger is configured not to flush on any level.
  void flush_() override { out_->Flush(); }

 private:
  const std::shared_ptr<LineSink> out_;
  const bool json_;
};

std::mutex& ConfiguredMutex() {
  static std::mutex mutex;
  return mutex;
}

std::shared_ptr<LineSink>& ConfiguredSink() {
  static std::shared_ptr<LineSink> sink;
  return sink;
}

}  // namespace

bool ConfigureAppLog(const AppLogOptions& options, std::string& error) {
  std::optional<spdlog::level::level_enum> level = ParseLevel(options.level);
  if (!level) {
    error = "invalid logging level '" + options.level +
            "' (expected trace, debug, info, warn, error or off)";
    return false;
  }
  if (options.format != "text" && options.format != "json") {
    error = "invalid logging format '" + options.format + "' (expected text or json)";
    return false;
  }
  std::shared_ptr<LineSink> line_sink = LineSink::Open(options.output, options.rotate, error);
  if (!line_sink) return false;
  auto sink = std::make_shared<RedactingLineSink>(line_sink, options.format == "json");
  auto logger = std::make_shared<spdlog::logger>("sluice", std::move(sink));
  logger->set_level(*level);
  logger->flush_on(spdlog::level::off);
  std::lock_guard lock(ConfiguredMutex());
  spdlog::set_default_logger(std::move(logger));
  ConfiguredSink() = std::move(line_sink);
  return true;
}

void FlushAppLog() {
  if (std::shared_ptr<LineSink> sink = AppLogSink()) sink->Flush();
}

std::shared_ptr<LineSink> AppLogSink() {
  std::lock_guard lock(ConfiguredMutex());
  return ConfiguredSink();
}

}  // namespace sluice
