// Errors found while loading configuration, routing files, manifests and plugins.
// Loading may throw (the data path never does); the message always names the file, and the
// line when there is one, so that `wampd --check-config` and reload logs point at the fix.
#pragma once

#include <stdexcept>
#include <string>

namespace wampd::core {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown

  /// "file:line:column", "file:line" or "file".
  std::string str() const;
};

class ConfigError : public std::runtime_error {
 public:
  ConfigError(SourceLocation where, const std::string& what);
  const SourceLocation& where() const noexcept { return where_; }
  /// The message without the location prefix.
  const std::string& detail() const noexcept { return detail_; }

 private:
  SourceLocation where_;
  std::string detail_;
};

}  // namespace wampd::core
