// wampd: the WAMP server. See README.md for flags and configuration.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <cstdio>
#include <exception>
#include <functional>

#include "app/json_log_formatter.h"
#include "common/build_info.h"
#include "config/server_config.h"
#include "reload/generation.h"
#include "reload/reloader.h"
#include "server/server.h"

namespace {

using namespace wampd::core;

struct Options {
  std::string config;
  std::string host;
  int port = -1;
  std::vector<std::string> params;
  std::string logLevel;
  std::string logFormat;
  bool checkConfig = false;
};

int fail(const std::string& message) {
  std::fprintf(stderr, "wampd: %s\n", message.c_str());
  return 1;
}

Parameters parseParams(const std::vector<std::string>& pairs) {
  Parameters params;
  for (const auto& pair : pairs) {
    const std::size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0)
      throw std::invalid_argument("--param expects NAME=VALUE, got '" + pair + "'");
    params[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  return params;
}

// Every connection is a descriptor, and the usual soft limit (1,024) is far below what one
// wampd serves; the hard limit is what the administrator allows. Beyond it accept fails with
// EMFILE, which the transport backs off from.
void raiseFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    spdlog::warn("cannot read the open files limit (RLIMIT_NOFILE)");
    return;
  }
  const rlim_t soft = limit.rlim_cur;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      spdlog::warn("cannot raise the open files limit from {} to the hard limit {}", soft,
                   limit.rlim_max);
      return;
    }
  }
  spdlog::info("open files limit: {} (soft limit was {}, hard limit {})", limit.rlim_cur, soft,
               limit.rlim_max);
}

void setUpLogging(const std::string& level, const std::string& format) {
  auto logger = spdlog::stderr_logger_st("wampd");
  spdlog::set_default_logger(logger);
  if (format == "json")
    spdlog::set_formatter(std::make_unique<JsonLogFormatter>());
  else
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::trace);
}

int run(const Options& options) {
  const ConfigSource source{options.config.empty() ? defaultConfigPath() : options.config,
                            parseParams(options.params), options.host, options.port};
  const ServerConfig config = source.load();
  setUpLogging(options.logLevel.empty() ? config.logLevel : options.logLevel,
               options.logFormat.empty() ? config.logFormat : options.logFormat);

  auto generation = buildGeneration(config, 1);
  for (const auto& warning : generation->warnings) spdlog::warn("{}", warning);
  if (options.checkConfig) {
    std::printf("%s: OK: %zu routes, %zu topic handlers, %zu RPC handlers from %zu plugins\n",
                config.file.c_str(), generation->router.size(),
                generation->plugins.topicHandlers().size(),
                generation->plugins.rpcHandlers().size(), generation->plugins.libraries().size());
    return 0;
  }

  const std::string served =
      std::to_string(generation->router.size()) + " routes, " +
      std::to_string(generation->plugins.topicHandlers().size()) + " topic handlers, " +
      std::to_string(generation->plugins.rpcHandlers().size()) + " RPC handlers";
  raiseFileLimit();
  // One I/O thread: the reactor needs no locks. Other threads only post() (reload workers),
  // which keeps the scheduler's own locking.
  asio::io_context io(ASIO_CONCURRENCY_HINT_UNSAFE_IO);
  // The server owns the generation: a reload can then release its plugins.
  Server server(io, source, std::move(generation));
  asio::signal_set hangup(io, SIGHUP);
  std::function<void(const asio::error_code&, int)> onHangup = [&](const asio::error_code& ec,
                                                                   int) {
    if (ec) return;
    server.reload("SIGHUP");
    hangup.async_wait(onHangup);
  };
  hangup.async_wait(onHangup);
  // Installed before the port opens: a client may signal as soon as it can connect.
  asio::signal_set stop(io, SIGINT, SIGTERM);
  stop.async_wait([&](const asio::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("received signal {}", signal);
    hangup.cancel();
    server.shutdown();
  });
  server.start();
  const ListenConfig first = config.listeners().front();
  spdlog::info("wampd listening on {}://{}:{}/ with {} ({})", first.tls ? "wss" : "ws", first.host,
               server.port(), config.file, served);
  io.run();
  spdlog::info("wampd stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  CLI::App app{"wampd: a WAMP v1/v2 WebSocket server whose topic handlers are plugins"};
  app.add_option("--config", options.config,
                 "Server config file (default: the installed wampd.yml)");
  app.add_option("--host", options.host, "Address to listen on (overrides server.host)");
  app.add_option("--port", options.port, "Port to listen on (overrides server.port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--param", options.params, "Override a %parameter%: NAME=VALUE (repeatable)");
  app.add_option("--log-level", options.logLevel, "trace, debug, info, warn, error");
  app.add_option("--log-format", options.logFormat, "text or json (overrides log_format)")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--check-config", options.checkConfig,
               "Validate config, routing files and plugins, then exit");
  app.set_version_flag(
      "--version",
      [] {
        std::string text = versionText("wampd");
        text.pop_back();  // CLI11 ends the line itself
        return text;
      },
      "Print the version, plugin ABI and build signature, then exit");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(options);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}
