// wampd::Identity: who is on the other end of a connection, as authentication established it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wampd {

struct Identity {
  /// Empty for anonymous connections.
  std::string username;
  /// The user's numeric id; 0 for anonymous connections.
  std::int64_t userId = 0;
  std::vector<std::string> roles;
  std::vector<std::int64_t> organizations;
  /// No user was authenticated (no ticket, or an anonymous ticket).
  bool anonymous = true;
  /// The connection proved it is the application backend (server secret or trusted address).
  bool backend = false;

  bool hasRole(const std::string& role) const {
    for (const auto& r : roles)
      if (r == role) return true;
    return false;
  }
};

}  // namespace wampd
