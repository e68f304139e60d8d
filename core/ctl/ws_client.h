// A blocking WebSocket client for wampctl. Every call is bounded by one deadline fixed at
// construction, so no command can hang. websocketpp stays inside ws_client.cpp (its headers
// cost ~10 s per translation unit).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace wampd::ctl {

/// What the peer put in its close frame.
struct CloseFrame {
  std::uint16_t code = 0;
  std::string reason;
};

class WsClient {
 public:
  using Clock = std::chrono::steady_clock;

  /// How wss:// servers are checked (--ca, --insecure); one command per process, so this is
  /// set once, before any connection.
  struct Trust {
    std::string caFile;     // empty: the system's CAs
    bool insecure = false;  // no verification at all
  };
  static void setTrust(Trust trust);

  explicit WsClient(Clock::time_point deadline);
  ~WsClient();
  WsClient(const WsClient&) = delete;
  WsClient& operator=(const WsClient&) = delete;

  /// Opens a connection to `url` offering `subprotocol`, with the URL's host as Origin (as
  /// Oro's backend client sends it). On failure (refused, handshake rejected, deadline)
  /// returns false and says why in `error`, naming the server `shownUrl`: `url` may carry
  /// the backend token, which no message may show.
  /// A wss:// URL speaks TLS, verifying the certificate and the URL's host name (see setTrust).
  bool connect(const std::string& url, const std::string& shownUrl, const std::string& subprotocol,
               std::string& error);

  /// Queues a text message.
  bool send(const std::string& text, std::string& error);

  /// Waits for the next text message. Returns false when the connection ended first (then
  /// peerClose() tells how) or the deadline passed.
  bool receive(std::string& message, std::string& error);

  /// Sends a close frame with `code` and waits for the peer's; returns false when none
  /// arrived before the deadline. A peer that closed first counts as the reply.
  bool close(std::uint16_t code, std::string& error);

  /// The peer's close frame, once one arrived.
  const std::optional<CloseFrame>& peerClose() const;

  /// " (close code N: reason)" for messages, or "" when the peer sent no status.
  std::string describePeerClose() const;

  struct Impl;

 private:
  Clock::time_point deadline_;
  std::unique_ptr<Impl> impl_;  // made by connect(), for ws:// or wss://
};

}  // namespace wampd::ctl
