#include "ctl/ctl_config.h"

#include <unistd.h>

namespace wampd::ctl {

bool lookUpConfig(const std::string& explicitFile, ConfigLookup& out, std::string& error) {
  out = ConfigLookup{};
  if (!explicitFile.empty()) {
    out.file = explicitFile;
    try {
      out.config = core::loadServerConfig(explicitFile);
    } catch (const core::ConfigError& e) {
      error = e.what();
      return false;
    }
    return true;
  }
  out.file = core::defaultConfigPath();
  // The server's config often holds the secret and may be readable by its user only.
  if (::access(out.file.c_str(), R_OK) != 0) {
    out.problem = "the default config " + out.file + " is not readable";
    return true;
  }
  try {
    out.config = core::loadServerConfig(out.file);
  } catch (const core::ConfigError& e) {
    out.problem = "the default config does not load: " + std::string(e.what());
  }
  return true;
}

}  // namespace wampd::ctl
