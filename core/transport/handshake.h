// The HTTP side of RFC 6455: reading an opening handshake request and writing the answers.
// Pure functions over bytes, so they are tested without sockets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wampd::core::ws {

/// Handshake requests larger than this are refused (431) before they are parsed.
inline constexpr std::size_t kMaxHandshakeBytes = 16 * 1024;

struct UpgradeRequest {
  std::string resource;                   // path and query as sent
  std::string origin;                     // empty when absent
  std::string key;                        // Sec-WebSocket-Key
  std::vector<std::string> subprotocols;  // in the client's order of preference
};

/// Why a request cannot be upgraded: the HTTP status to answer with and a reason for the body.
struct HandshakeError {
  std::uint16_t status = 400;
  std::string reason;
};

/// The length of the header block (through the blank line) if `data` holds all of it.
std::optional<std::size_t> headerBlockLength(std::string_view data) noexcept;

/// A request with no Upgrade header at all: plain HTTP for the operators' endpoints.
struct PlainRequest {
  std::string method;
  std::string target;             // path and query as sent
  std::string authorization;      // the Authorization header, empty when absent
  std::size_t contentLength = 0;  // the body's length; the body follows the header block
  /// The client keeps the connection for another request: HTTP/1.1 unless it sent
  /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
  bool keepAlive = false;
};

/// Parses a complete header block. Either the request or the error is set; `plain` is set
/// beside the error when the request is plain HTTP (the error is then what a WebSocket
/// server answers it: 426, or 405 for a method other than GET).
struct ParsedRequest {
  std::optional<UpgradeRequest> request;
  HandshakeError error;
  std::optional<PlainRequest> plain;
};
ParsedRequest parseUpgradeRequest(std::string_view headerBlock);

/// base64(SHA-1(key + RFC 6455 GUID)).
std::string acceptToken(std::string_view key);

/// The 101 answer; `subprotocol` empty selects none.
std::string switchingProtocolsResponse(std::string_view key, std::string_view subprotocol,
                                       std::string_view server);

/// How an HTTP response leaves its connection: closed after it (keepAliveSeconds 0), or open
/// for another request, which the Keep-Alive header bounds in time and number.
struct KeepAlive {
  std::uint32_t seconds = 0;
  std::uint32_t requestsLeft = 0;
};

/// A complete HTTP response with `body`; `head` leaves the body out (a HEAD request) but keeps
/// its Content-Length.
std::string httpResponse(std::uint16_t status, std::string_view contentType, std::string_view body,
                         std::string_view server, bool head = false, KeepAlive keepAlive = {});

/// A refusal with `reason` as the plain-text body. The status line carries a fixed text only:
/// the reason may quote what a client sent. `retryAfter` > 0 adds a Retry-After header
/// (seconds).
std::string refusalResponse(std::uint16_t status, std::string_view reason, std::string_view server,
                            std::uint32_t retryAfter = 0);

}  // namespace wampd::core::ws
