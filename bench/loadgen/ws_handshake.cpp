#include "ws_handshake.h"

#include <strings.h>

#include <cstdlib>

namespace wampd::bench {

std::string upgradeRequest(const std::string& host, int port, const std::string& path,
                           const std::string& subprotocol) {
  // The key is fixed: the server's accept value is not checked by a measuring client.
  std::string r = "GET " + path + " HTTP/1.1\r\nHost: " + host + ":" + std::to_string(port) +
                  "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";
  if (!subprotocol.empty()) r += "Sec-WebSocket-Protocol: " + subprotocol + "\r\n";
  r += "\r\n";
  return r;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

bool parseUpgradeResponse(std::string_view data, UpgradeResponse& response) {
  const std::size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) return false;
  response.length = end + 4;
  std::string_view head = data.substr(0, end);
  const std::size_t firstLineEnd = head.find("\r\n");
  std::string_view statusLine = head.substr(0, firstLineEnd);
  const std::size_t space = statusLine.find(' ');
  response.status = space == std::string_view::npos
                        ? 0
                        : std::atoi(std::string(statusLine.substr(space + 1, 3)).c_str());
  std::string_view rest =
      firstLineEnd == std::string_view::npos ? std::string_view() : head.substr(firstLineEnd + 2);
  while (!rest.empty()) {
    const std::size_t lineEnd = rest.find("\r\n");
    std::string_view line = rest.substr(0, lineEnd);
    rest = lineEnd == std::string_view::npos ? std::string_view() : rest.substr(lineEnd + 2);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = trim(line.substr(0, colon));
    static constexpr std::string_view kProtocol = "Sec-WebSocket-Protocol";
    if (name.size() == kProtocol.size() &&
        strncasecmp(name.data(), kProtocol.data(), kProtocol.size()) == 0)
      response.subprotocol = std::string(trim(line.substr(colon + 1)));
  }
  return true;
}

}  // namespace wampd::bench
