// Watches one configuration file for changes with inotify and calls back once a burst of
// changes has settled. Watches the file's directory rather than the file, so the usual ways
// of replacing a file are seen: an editor's write-and-rename, `cp`, and Kubernetes'
// ConfigMap updates (the "..data" symlink swapped inside the directory). Events for other
// names in the directory (a log file beside the config, say) are ignored. Runs on the
// io_context it is given (the server's control loop); not thread-safe, use it from that
// loop only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace sluice {

class ConfigFileWatch {
 public:
  // Starts watching the directory of `path`; `on_change` runs `settle` after the last
  // event of a burst. Null with `error` set when inotify cannot watch the directory.
  static std::unique_ptr<ConfigFileWatch> Start(boost::asio::io_context& io,
                                                const std::string& path,
                                                std::chrono::milliseconds settle,
                                                std::function<void()> on_change,
                                                std::string& error);
  ~ConfigFileWatch();

 private:
  ConfigFileWatch(boost::asio::io_context& io, int fd, std::string name,
                  std::chrono::milliseconds settle, std::function<void()> on_change);
  void ReadEvents();
  // True when the events in buffer_[0, size) concern the watched name.
  bool ConcernsFile(size_t size) const;

  std::string name_;  // the file's name within the directory

  boost::asio::posix::stream_descriptor events_;
  boost::asio::steady_timer settle_timer_;
  std::chrono::milliseconds settle_;
  std::function<void()> on_change_;
  alignas(8) char buffer_[4096];
};

}  // namespace sluice
