// wampd::UserProvider: where authentication finds users (Symfony's UserProviderInterface).
// The server chains every provider it has (plugins tagged `wampd.user_provider`, then the
// bundled YAML file provider); the first that knows a username answers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace wampd {

struct User {
  std::string username;
  std::int64_t id = 0;
  /// The stored password hash, exactly as the application keeps it: Oro's ticket digest is
  /// computed over it. Never log it.
  std::string password;
  std::vector<std::string> roles;
  std::vector<std::int64_t> organizations;
};

class UserProvider {
 public:
  virtual ~UserProvider() = default;

  /// Fills `out` and returns true when `username` is known. Called on the I/O thread at each
  /// authenticated handshake: answer from memory.
  virtual bool loadUserByUsername(std::string_view username, User& out) = 0;
};

}  // namespace wampd
