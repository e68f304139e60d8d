#include "common/build_info.h"

#include <wampd/abi.h>

// Set by core/common/CMakeLists.txt on this file alone, so that a new commit (a new git
// description at configure time) recompiles one translation unit.
#ifndef WAMPD_VERSION
#error "WAMPD_VERSION must be defined by the build"
#endif

namespace wampd::core {

std::string_view buildVersion() {
  return WAMPD_VERSION;
}

std::string_view buildGitDescribe() {
  return WAMPD_GIT_DESCRIBE;
}

std::string versionText(std::string_view program) {
  std::string text;
  text.append(program).append(" ").append(WAMPD_VERSION).append("\n");
  text.append("plugin ABI: " WAMPD_ABI_VERSION "\n");
  text.append("plugin build signature: " WAMPD_BUILD_SIGNATURE "\n");
  text.append("built with: " WAMPD_COMPILER ", " WAMPD_BUILD_TYPE "\n");
  if (!buildGitDescribe().empty()) text.append("source: git ").append(WAMPD_GIT_DESCRIBE "\n");
  return text;
}

}  // namespace wampd::core
