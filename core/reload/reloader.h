// Reload: on a trigger (file change, SIGHUP, wampctl reload), build a whole new generation
// on a worker thread, away from the I/O thread, then hand it to the I/O thread to swap in.
// A failure anywhere keeps the serving generation and reports what and where.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "reload/generation.h"

namespace wampd::core {

/// What wampd was started with, so that a reload reads the same config the same way.
struct ConfigSource {
  std::string configPath;
  Parameters overrides;  // --param
  std::string host;      // --host; empty: the config's
  int port = -1;         // --port; negative: the config's

  /// Loads the config and applies the command-line overrides. Throws ConfigError, also
  /// for a file without any setting.
  ServerConfig load() const;
};

class Reloader {
 public:
  /// Swaps a validated generation in, on the I/O thread; returns the status line to report.
  /// Must not throw: the build has read and validated everything the swap needs.
  using Apply =
      std::function<std::string(std::shared_ptr<const Generation>, const std::string& trigger)>;
  /// Told how a requested reload ended: ok and the status line, or the error.
  using Done = std::function<void(bool ok, const std::string& message)>;

  Reloader(asio::io_context& io, ConfigSource source, Apply apply);
  ~Reloader();

  /// Asks for a reload; requests within the debounce window become one reload.
  void request(const std::string& trigger, Done done = {});
  void setCurrent(std::shared_ptr<const Generation> current) { current_ = std::move(current); }
  /// While this says files are being written, a due reload waits (at most kMaxWait).
  void setBusyCheck(std::function<bool()> busy) { busy_ = std::move(busy); }
  /// No more reloads (shutdown). One being built is dropped when it finishes: its plugins
  /// would start timers and take subscribers from sessions that are closing.
  void stop();

  /// Reloads since the server started, for metrics.
  struct Counters {
    std::uint64_t succeeded = 0, failed = 0;
  };
  const Counters& counters() const noexcept { return counters_; }
  /// How the last reload ended (its status line or error); an empty message before any.
  struct Last {
    bool ok = false;
    std::string message;
  };
  const Last& last() const noexcept { return last_; }

  static constexpr auto kDebounce = std::chrono::milliseconds(150);
  static constexpr auto kMaxWait = std::chrono::seconds(2);

 private:
  void arm();
  void start();
  /// `errorFile`: the file a ConfigError names, for the failure line's `file` field.
  void finish(std::shared_ptr<const Generation> built, const std::string& error,
              const std::string& errorFile);

  asio::io_context& io_;
  ConfigSource source_;
  Apply apply_;
  std::shared_ptr<const Generation> current_;
  asio::steady_timer debounce_;
  bool debouncing_ = false;
  bool building_ = false;
  bool again_ = false;  // requested while building
  bool stopped_ = false;
  std::function<bool()> busy_;
  std::chrono::steady_clock::time_point waitingSince_{};
  std::string triggers_;
  std::vector<Done> waiting_;
  std::thread worker_;
  Counters counters_;
  Last last_;
};

}  // namespace wampd::core
