// Where a cluster's Redis is: the `cluster.redis` URL of the config file, parsed. No I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wampd::core::cluster {

struct RedisAddress {
  /// An IP address (v4 or v6) or "localhost" (taken as 127.0.0.1); empty for a unix socket.
  /// Names are refused: resolving one would block the I/O thread on every reconnect.
  std::string host;
  std::uint16_t port = 6379;
  /// A unix socket's path; empty for TCP.
  std::string socketPath;
  std::string username;  // Redis 6 ACL user; empty: AUTH with the password alone
  std::string password;  // empty: no AUTH
  int database = 0;

  bool isUnix() const noexcept { return !socketPath.empty(); }
  /// For logs: the address without the password.
  std::string describe() const;
};

/// redis://[[user]:password@]host[:port][/db] or unix://[[user]:password@]/path[?db=N].
/// Percent escapes in user and password are decoded. False with `error` set when the URL is
/// none of these.
bool parseRedisUrl(std::string_view url, RedisAddress& out, std::string& error);

}  // namespace wampd::core::cluster
