// The server config wampctl reads, when it can: it says where the server listens, its secret
// (for tickets and the backend token) and its users file.
#pragma once

#include <optional>
#include <string>

#include "config/server_config.h"

namespace wampd::ctl {

struct ConfigLookup {
  std::optional<core::ServerConfig> config;
  /// The file read, or tried.
  std::string file;
  /// Why the default config is not used (unreadable, broken); empty when it is, or when
  /// --config was given.
  std::string problem;
};

/// With `explicitFile` (--config), that file must load: false and a file:line error when it
/// does not. Without it, the default config (core::defaultConfigPath()) is used when it is
/// readable and loads; otherwise `out.problem` says why and the result is still true.
bool lookUpConfig(const std::string& explicitFile, ConfigLookup& out, std::string& error);

}  // namespace wampd::ctl
