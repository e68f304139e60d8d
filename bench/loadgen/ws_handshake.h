// The HTTP upgrade of a WebSocket client connection.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace wampd::bench {

/// A GET upgrade request offering `subprotocol` (none when empty).
std::string upgradeRequest(const std::string& host, int port, const std::string& path,
                           const std::string& subprotocol);

struct UpgradeResponse {
  int status = 0;
  std::string subprotocol;  // the server's Sec-WebSocket-Protocol, empty when none
  std::size_t length = 0;   // bytes up to and including the blank line
};

/// Parses the response head at the start of `data`; false while the blank line is missing.
bool parseUpgradeResponse(std::string_view data, UpgradeResponse& response);

}  // namespace wampd::bench
