// A generation: everything a config produces (routes, plugin instances, parameters),
// built and validated whole, then served immutably. Reload builds a new one and swaps it in.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/server_config.h"
#include "plugins/plugin_host.h"
#include "routing/router.h"

namespace wampd::core {

struct Generation {
  std::uint64_t number = 0;
  ServerConfig config;
  Router router;
  PluginSet plugins;
  /// Routes whose callback names no loaded handler: served as "ignored", logged once.
  std::vector<std::string> warnings;
};

/// Loads routing and plugins for `config`. Throws ConfigError naming the file (and line)
/// of the first problem; warnings (routes to handlers not loaded) are kept in the result.
/// With `previous`, unchanged plugin libraries are kept with their handler instances.
std::shared_ptr<const Generation> buildGeneration(const ServerConfig& config, std::uint64_t number,
                                                  const Generation* previous = nullptr);

}  // namespace wampd::core
