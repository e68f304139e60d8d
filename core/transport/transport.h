// The WebSocket transport (RFC 6455 on Asio): accepts connections, frames messages, and hands
// the rest of the server whole messages.
//
// Constraints: everything runs on one asio::io_context thread; no callback is concurrent. Link
// methods never call the listener back: onOpen, onMessage and onClose come only from I/O, and
// from PendingHandshake::complete (which the listener calls on the I/O thread, when it is
// ready for them). Another thread that decides a deferred handshake posts to the io_context.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace asio {
class io_context;
}

namespace wampd::core {

/// One message framed once and shared by every recipient (the fan-out fast path).
class SharedFrame;
/// Certificate and key of TLS listeners (transport/tls.h).
class TlsContext;
using SharedFramePtr = std::shared_ptr<const SharedFrame>;

/// An open connection. Owned by the transport; valid until Listener::onClose returns.
class Link {
 public:
  virtual ~Link() = default;
  virtual void send(const SharedFramePtr& frame) noexcept = 0;
  virtual void sendText(std::string text) noexcept = 0;
  virtual void sendBinary(std::string bytes) noexcept = 0;
  /// Starts the closing handshake after what is queued; onClose follows.
  virtual void close(std::uint16_t code, std::string_view reason) noexcept = 0;
  /// Like close, but drops the queued frames not yet begun: for a peer that stopped reading,
  /// so its backlog is freed at once. The socket is closed within the close timeout.
  virtual void abort(std::uint16_t code, std::string_view reason) noexcept = 0;
  /// Ends the connection with no closing handshake: writes what is queued (with
  /// `discardQueued`, only a frame already begun), then shuts the socket down, so the peer sees
  /// its transport end (a browser: code 1006, wasClean false). The socket is closed once the
  /// peer closes its end, or within the close timeout; onClose follows, with 1006.
  virtual void hangUp(bool discardQueued) noexcept = 0;
  /// Bytes queued for this connection and not yet written.
  virtual std::size_t bufferedAmount() const noexcept = 0;
  virtual const std::string& remoteAddress() const noexcept = 0;

  /// The session the listener attached in onOpen.
  void* context = nullptr;
};

class PendingHandshake;

struct HandshakeRequest {
  std::string resource;  // path and query, e.g. "/?ticket=..."
  std::string origin;
  std::string remoteAddress;
  std::vector<std::string> subprotocols;  // in the client's order of preference
  /// For an answer given later; a weak handle, so that a verdict still in flight never keeps
  /// a connection (or its socket) alive.
  std::weak_ptr<PendingHandshake> pending;
};

struct HandshakeAnswer {
  bool accept = true;
  std::uint16_t httpStatus = 400;  // when refused
  std::string reason;              // when refused: the body (the status line has a fixed text)
  std::string subprotocol;         // empty: none selected
  std::uint32_t retryAfter = 0;    // when refused: a Retry-After header, in seconds; 0: none
  /// A text message that leaves in the same write as the 101 response (WAMP v1 WELCOME:
  /// Oro's PHP client reads the 101 and the WELCOME with one read).
  std::string openingMessage;
  /// Passed back to onOpen.
  std::uint64_t token = 0;
  /// No answer yet: the listener completes request.pending later. Until then the handshake
  /// timeout still runs and nothing more is read.
  bool deferred = false;

  static HandshakeAnswer later() {
    HandshakeAnswer answer;
    answer.deferred = true;
    return answer;
  }
};

/// A handshake the listener answers after onHandshake has returned (HandshakeAnswer::deferred),
/// e.g. once a ticket has been verified elsewhere. The connection may end meanwhile (the peer
/// leaves, the handshake timeout, the transport stops): the handle then expires or complete()
/// returns false.
class PendingHandshake {
 public:
  /// Answers the handshake; I/O thread only, once. An acceptance calls onOpen (or onAbandoned)
  /// before this returns. False when the connection is gone or already answered: nothing is
  /// sent and no callback follows.
  virtual bool complete(const HandshakeAnswer& answer) noexcept = 0;

 protected:
  ~PendingHandshake() = default;
};

/// A plain HTTP request on the WebSocket port (no Upgrade header): health, metrics and the
/// like. HTTP/1.1 keeps the connection for further requests (pipelined ones are answered in
/// order) unless the client says `Connection: close`; HTTP/1.0 only with
/// `Connection: keep-alive` (see TransportLimits::httpKeepAliveTimeout).
struct HttpRequest {
  std::string method;
  std::string target;  // path and query as sent
  std::string authorization;
  std::string remoteAddress;
  std::string body;  // at most TransportOptions::maxMessageSize bytes (beyond: 413)
};

struct HttpResponse {
  std::uint16_t status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

class TransportListener {
 public:
  virtual HandshakeAnswer onHandshake(const HandshakeRequest& request) = 0;
  /// A plain HTTP request; nothing means the WebSocket answer (426 Upgrade Required).
  virtual std::optional<HttpResponse> onHttpRequest(const HttpRequest&) { return std::nullopt; }
  /// Every connection with queued frames has had its write, as far as its socket took it.
  virtual void onWritten() noexcept {}
  virtual void onOpen(Link& link, std::uint64_t token) = 0;
  /// An accepted handshake whose connection failed before it opened.
  virtual void onAbandoned(std::uint64_t token) = 0;
  virtual void onMessage(Link& link, std::string_view payload, bool binary) = 0;
  virtual void onClose(Link& link, std::uint16_t code, std::string_view reason) = 0;

 protected:
  ~TransportListener() = default;
};

/// What a reload may change: it applies to connections opened afterwards and, for the
/// timeouts, from the next tick on.
struct TransportLimits {
  /// A connection that has received nothing for this long gets a WebSocket ping; 0: never.
  std::chrono::milliseconds pingInterval{30000};
  /// A pinged connection that receives nothing for this long is dropped; 0: never.
  std::chrono::milliseconds pongTimeout{10000};
  /// A connection whose queued bytes have not moved for this long is dropped; 0: never.
  std::chrono::milliseconds writeTimeout{30000};
  /// Open connections (handshakes included), whole server and per source address; beyond
  /// either a handshake is answered 503. 0: no limit of its own.
  std::size_t maxConnections = 0;
  std::size_t maxConnectionsPerAddress = 0;
  /// Handshakes per second per source address (burst: one second's worth, at least 1); beyond
  /// it a handshake is answered 429 with Retry-After. 0: no limit.
  double handshakesPerSecond = 0;
  /// A plain HTTP connection waits this long for its next request after a response (the
  /// request itself then has the handshake timeout); 0: every response closes its connection.
  std::chrono::milliseconds httpKeepAliveTimeout{5000};
};

/// Totals since the transport started, for the stats RPC and metrics.
struct TransportCounters {
  std::uint64_t connectionsAccepted = 0;
  std::uint64_t httpRequests = 0;  // plain HTTP: health, metrics, the API
  std::uint64_t bytesSent = 0;
  std::uint64_t droppedUnresponsive = 0;  // no answer to a ping within pongTimeout
  std::uint64_t droppedWriteStalled = 0;  // queued bytes that did not move within writeTimeout
  std::uint64_t refusedMaxConnections = 0;
  std::uint64_t refusedMaxConnectionsPerAddress = 0;
  std::uint64_t refusedHandshakeRate = 0;
  std::uint64_t acceptFailures = 0;  // accept() errors (EMFILE, ENFILE, ...)
};

/// One listening socket.
struct ListenAddress {
  std::string host;
  std::uint16_t port = 0;
  bool tls = false;  // wss: its connections go through the transport's TlsContext
};

struct TransportOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  /// Where to accept; empty: host:port, plain.
  std::vector<ListenAddress> listeners;
  std::size_t maxMessageSize = 64 * 1024;
  std::string serverHeader = "wampd";
  /// A connection that has not completed its opening handshake by then is dropped.
  std::chrono::milliseconds handshakeTimeout{5000};
  /// After a close frame is queued, the socket is closed by then whatever the peer does.
  std::chrono::milliseconds closeTimeout{2000};
  /// A hard bound on any connection's send queue (the broker applies its own, lower one to
  /// events); beyond it the connection is aborted with 1008.
  std::size_t maxQueuedBytes = 16 * 1024 * 1024;
  TransportLimits limits;
};

class Transport {
 public:
  Transport(asio::io_context& io, TransportListener& listener, TransportOptions options);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  /// Binds and starts accepting. Throws std::runtime_error naming host:port on failure, or
  /// when a TLS listener has no context.
  void listen();
  /// The port actually bound by the first listener (useful with port 0).
  std::uint16_t boundPort() const;
  /// The port actually bound by listener `index` (in TransportOptions::listeners order).
  std::uint16_t boundPort(std::size_t index) const;
  /// The context TLS connections accepted from now on use; those already open keep theirs.
  void setTlsContext(std::shared_ptr<const TlsContext> context) noexcept;
  /// Starts the drain: the listening sockets stay open (handshakes are the listener's to
  /// refuse; plain HTTP is answered, each response closing its connection) and become shared
  /// (SO_REUSEPORT), so that a wampd started meanwhile binds the same port beside them; idle
  /// kept-alive HTTP connections end. stopListening() ends the drain.
  void drain() noexcept;
  /// Stops accepting new connections, and ends those whose opening handshake is not complete
  /// (no response: their clients retry as after a failed connect).
  void stopListening() noexcept;
  /// Replaces the limits (a reload): see TransportLimits.
  void setLimits(const TransportLimits& limits) noexcept;
  const TransportCounters& counters() const noexcept;
  /// Connections held, handshakes and closing ones included.
  std::size_t connections() const noexcept;

  /// Frames a text message once for any number of sends.
  static SharedFramePtr prepareText(std::string_view payload);
  /// Frames a binary message once for any number of sends.
  static SharedFramePtr prepareBinary(std::string_view payload);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace wampd::core
