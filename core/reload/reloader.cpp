#include "reload/reloader.h"

#include <spdlog/spdlog.h>

#include <asio/post.hpp>

#include "common/config_error.h"
#include "common/log_fields.h"

namespace wampd::core {

ServerConfig ConfigSource::load() const {
  ServerConfig config = loadServerConfig(configPath, overrides);
  // An editor that rewrites the file in place leaves it empty for a moment; taken as a
  // config it would drop every route and plugin. Refused at start too, so that
  // --check-config and a reload agree.
  if (config.empty) throw ConfigError({config.file}, "the config file is empty");
  if (!host.empty()) config.host = host;
  if (port >= 0) config.port = static_cast<std::uint16_t>(port);
  // The command line names the first listener, whichever way it is configured.
  if (!config.listen.empty()) {
    if (!host.empty()) config.listen.front().host = host;
    if (port >= 0) config.listen.front().port = static_cast<std::uint16_t>(port);
  }
  return config;
}

Reloader::Reloader(asio::io_context& io, ConfigSource source, Apply apply)
    : io_(io), source_(std::move(source)), apply_(std::move(apply)), debounce_(io) {}

Reloader::~Reloader() {
  if (worker_.joinable()) worker_.join();
}

void Reloader::stop() {
  stopped_ = true;
  again_ = false;
  debounce_.cancel();
}

void Reloader::request(const std::string& trigger, Done done) {
  if (stopped_) {
    if (done) done(false, "the server is shutting down");
    return;
  }
  if (done) waiting_.push_back(std::move(done));
  if (triggers_.find(trigger) == std::string::npos)
    triggers_ += (triggers_.empty() ? "" : ", ") + trigger;
  if (building_) {
    again_ = true;
    return;
  }
  if (debouncing_) return;
  debouncing_ = true;
  waitingSince_ = std::chrono::steady_clock::now();
  arm();
}

void Reloader::arm() {
  debounce_.expires_after(kDebounce);
  debounce_.async_wait([this](const asio::error_code& ec) {
    if (ec || stopped_) {
      debouncing_ = false;
      for (auto& waiter : waiting_) waiter(false, "the server is shutting down");
      waiting_.clear();
      return;
    }
    if (busy_ && busy_() && std::chrono::steady_clock::now() - waitingSince_ < kMaxWait)
      return arm();
    debouncing_ = false;
    start();
  });
}

void Reloader::start() {
  building_ = true;
  if (worker_.joinable()) worker_.join();
  // The worker reads only immutable data (the source, the serving generation) and does not
  // log: spdlog's logger here is single-threaded. It posts its result to the I/O thread.
  worker_ = std::thread([this, current = current_] {
    std::shared_ptr<const Generation> built;
    std::string error, errorFile;
    try {
      const ServerConfig config = source_.load();
      built = buildGeneration(config, current ? current->number + 1 : 1, current.get());
    } catch (const ConfigError& e) {
      error = e.what();
      errorFile = e.where().file;
    } catch (const std::exception& e) {
      error = e.what();
    }
    asio::post(io_, [this, built = std::move(built), error = std::move(error),
                     errorFile = std::move(errorFile)]() mutable {
      finish(std::move(built), error, errorFile);
    });
  });
}

void Reloader::finish(std::shared_ptr<const Generation> built, const std::string& error,
                      const std::string& errorFile) {
  worker_.join();
  building_ = false;
  const std::string trigger = std::move(triggers_);
  triggers_.clear();
  std::vector<Done> waiting = std::move(waiting_);
  waiting_.clear();
  if (stopped_) {
    built.reset();
    for (auto& done : waiting) done(false, "the server is shutting down");
    return;
  }
  const bool ok = built != nullptr;
  std::string message;
  ++(ok ? counters_.succeeded : counters_.failed);
  if (ok) {
    message = apply_(built, trigger);
    current_ = std::move(built);
  } else {
    message = "reload failed (" + trigger + "), generation " +
              std::to_string(current_ ? current_->number : 0) + " keeps serving: " + error;
    const LogFields about{LogFields::number("generation", current_ ? current_->number : 0),
                          LogFields::text("file", errorFile)};
    spdlog::error("{}", message);
  }
  last_ = {ok, message};
  for (auto& done : waiting) done(ok, message);
  if (again_) {
    again_ = false;
    request("changes during the last reload");
  }
}

}  // namespace wampd::core
