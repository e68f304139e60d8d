// `%name%` parameters, as Symfony's: the server config's `parameters:` (overridden by
// `--param NAME=VALUE`) and a plugin manifest's defaults. Here rather than in the plugin host
// so that reading the config does not depend on plugin loading.
#pragma once

#include <map>
#include <string>

namespace wampd::core {

using Parameters = std::map<std::string, std::string>;

}  // namespace wampd::core
