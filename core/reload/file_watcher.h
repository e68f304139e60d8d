// Watches routing files, plugin directories and the config file with inotify, on the I/O
// thread (asio), and reports which watched path changed.
#pragma once

#include <array>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace wampd::core {

class FileWatcher {
 public:
  using ChangeCallback = std::function<void(const std::string& path)>;

  FileWatcher(asio::io_context& io, ChangeCallback onChange);
  ~FileWatcher();
  FileWatcher(const FileWatcher&) = delete;
  FileWatcher& operator=(const FileWatcher&) = delete;

  /// From now on watches exactly these: each file (through its directory, so a file
  /// replaced by rename is seen) and each directory (its *.so, *.yml and *.yaml entries).
  /// Returns false when inotify is unavailable; reload then still works by SIGHUP and wampctl.
  bool watch(const std::vector<std::string>& files, const std::vector<std::string>& directories);
  /// Stops watching for good (shutdown: nothing may keep the I/O loop alive).
  void stop();
  /// Some watched file was created or modified and is not closed yet.
  bool busy() const noexcept { return !writing_.empty(); }

 private:
  struct Watch {
    std::string directory;
    std::set<std::string> names;  // empty: any relevant entry of the directory
  };

  void read();
  void handle(int wd, std::uint32_t mask, const std::string& name);

  asio::posix::stream_descriptor stream_;
  ChangeCallback onChange_;
  std::map<int, Watch> watches_;
  std::set<std::string> writing_;
  std::array<char, 8192> buffer_;
  bool available_ = false;
};

}  // namespace wampd::core
