// The users authentication can see: plugin-provided UserProviders, then the bundled YAML
// users file, which is re-read whenever it changes on disk.
//
// Users file:
//   users:
//     - { username: admin, id: 1, password: '<stored hash>', roles: [ROLE_ADMINISTRATOR],
//         organizations: [1] }
#pragma once

#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config_error.h"
#include "wampd/boundary.h"

namespace wampd::core::auth {

using UserMap = std::map<std::string, User, std::less<>>;

/// Parses a users file. Throws ConfigError naming file and line.
UserMap loadUsersFile(const std::string& path);
/// The same over text already read; errors name `file`.
UserMap parseUsersFile(const std::string& text, const std::string& file);

class UserDirectory {
 public:
  /// `usersFile` empty: no file provider. Throws ConfigError when the file is broken now.
  explicit UserDirectory(std::string usersFile);

  void addProvider(std::shared_ptr<boundary::UserProviderEndpoint> provider) {
    providers_.push_back(std::move(provider));
  }

  /// Looks `username` up in every provider in order. A users file changed on disk is re-read
  /// first; if the new content is broken, the old users stay and the error is logged.
  bool find(std::string_view username, User& out);

 private:
  void reloadIfChanged();

  std::vector<std::shared_ptr<boundary::UserProviderEndpoint>> providers_;
  std::string file_;
  UserMap users_;
  std::int64_t loadedStamp_ = -1;  // mtime in ns + size: what was loaded
};

}  // namespace wampd::core::auth
