// A generation: everything a config produces (routes, plugin instances, parameters, users
// and the authenticator), built and validated whole, then served immutably. Reload builds a
// new one and swaps it in. Everything read from disk is read here, on the reload worker: the
// swap on the I/O thread only moves pointers, so it cannot fail.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "auth/authenticator.h"
#include "config/server_config.h"
#include "plugins/plugin_host.h"
#include "routing/router.h"
#include "transport/tls.h"

namespace wampd::core {

struct Generation {
  std::uint64_t number = 0;
  ServerConfig config;
  Router router;
  PluginSet plugins;
  /// The users file and the plugins' user providers, with the `auth:` section.
  std::shared_ptr<const auth::Authenticator> authenticator;
  /// server.tls loaded (certificate, key, CA), or null: what new TLS connections use.
  std::shared_ptr<const TlsContext> tls;
  /// Routes whose callback names no loaded handler: served as "ignored", logged once.
  std::vector<std::string> warnings;
};

/// Loads routing, plugins, the users file and server.tls's files for `config`. Throws ConfigError
/// naming the file (and line) of the first problem; warnings (routes to handlers not loaded) are
/// kept in the result. With `previous`, unchanged plugin libraries are kept with their handler
/// instances, and its backend token when the config derives none.
std::shared_ptr<const Generation> buildGeneration(const ServerConfig& config, std::uint64_t number,
                                                  const Generation* previous = nullptr);

}  // namespace wampd::core
