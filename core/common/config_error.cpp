#include "common/config_error.h"

namespace wampd::core {

std::string SourceLocation::str() const {
  std::string s = file;
  if (line > 0) {
    s += ':' + std::to_string(line);
    if (column > 0) s += ':' + std::to_string(column);
  }
  return s;
}

ConfigError::ConfigError(SourceLocation where, const std::string& what)
    : std::runtime_error(where.str() + ": " + what), where_(std::move(where)), detail_(what) {}

}  // namespace wampd::core
