// ConfigFileWatch: inotify on the configuration file's directory, debounced.
#include "config_file_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace sluice {
namespace asio = boost::asio;

std::unique_ptr<ConfigFileWatch> ConfigFileWatch::Start(asio::io_context& io,
                                                        const std::string& path,
                                                        std::chrono::milliseconds settle,
                                                        std::function<void()> on_change,
                                                        std::string& error) {
  std::filesystem::path file = std::filesystem::absolute(path);
  std::filesystem::path dir = file.parent_path();
  int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) {
    error = std::string("inotify: ") + std::strerror(errno);
    return nullptr;
  }
  // Any change in the directory may be the file (renames, symlink swaps); a reload of an
  // unchanged file is recognised by its content and skipped.
  constexpr uint32_t kEvents = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MODIFY;
  if (::inotify_add_watch(fd, dir.c_str(), kEvents) < 0) {
    error = "cannot watch " + dir.string() + ": " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  std::unique_ptr<ConfigFileWatch> watch(
      new ConfigFileWatch(io, fd, file.filename().string(), settle, std::move(on_change)));
  watch->ReadEvents();
  return watch;
}

ConfigFileWatch::ConfigFileWatch(asio::io_context& io, int fd, std::string name,
                                 std::chrono::milliseconds settle, std::function<void()> on_change)
    : name_(std::move(name)),
      events_(io, fd),
      settle_timer_(io),
      settle_(settle),
      on_change_(std::move(on_change)) {}

ConfigFileWatch::~ConfigFileWatch() {
  boost::system::error_code ec;
  events_.close(ec);  // cancels the pending read (its handler sees operation_aborted)
  settle_timer_.cancel();
}

void ConfigFileWatch::ReadEvents() {
  events_.async_read_some(asio::buffer(buffer_), [this](boost::system::error_code ec, size_t n) {
    if (ec) return;  // closed: the watch is being destroyed
    if (ConcernsFile(n)) {
      // (Re)start the settle timer; the reload runs once the burst is over.
      settle_timer_.expires_after(settle_);
      settle_timer_.async_wait([this](boost::system::error_code wait_ec) {
        if (!wait_ec) on_change_();
      });
    }
    ReadEvents();
  });
}

bool ConfigFileWatch::ConcernsFile(size_t size) const {
  size_t offset = 0;
  while (offset + sizeof(inotify_event) <= size) {
    inotify_event event;
    std::memcpy(&event, buffer_ + offset, sizeof(event));
    if (event.mask & IN_Q_OVERFLOW) return true;  // events were lost: assume the worst
    if (event.len > 0 && offset + sizeof(event) + event.len <= size) {
      std::string_view name(buffer_ + offset + sizeof(event), event.len);
      name = name.substr(0, name.find('\0'));
      if (name == name_ || name == "..data") return true;
    }
    offset += sizeof(event) + event.len;
  }
  return false;
}

}  // namespace sluice
