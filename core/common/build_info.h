// What this build is: the project version, the plugin ABI and build signature a plugin must
// match, and how it was built. `wampd --version` and `wampctl --version` print it.
#pragma once

#include <string>
#include <string_view>

namespace wampd::core {

/// The project's version (CMake's `project(VERSION)`), e.g. "0.1.0".
std::string_view buildVersion();

/// `git describe --tags --always --dirty` of the source tree when CMake configured the
/// build; empty when the source was not a git checkout.
std::string_view buildGitDescribe();

/// The lines `--version` prints for `program`: name and version, plugin ABI version, plugin
/// build signature, compiler and build type, and the git description when there is one.
std::string versionText(std::string_view program);

}  // namespace wampd::core
