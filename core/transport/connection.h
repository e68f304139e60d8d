// One WebSocket connection on a non-blocking socket: the opening handshake, reading frames,
// and a send queue of shared frames written with one sendmsg per socket per flush.
//
// Constraints: one I/O thread. Link methods never call back into the listener (a close started
// inside onMessage must not destroy the session that is handling it); onOpen, onMessage and
// onClose are called only from I/O completions and timers, and from complete() (a deferred
// handshake's answer, which the listener gives on the I/O thread).
#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/errors.h"
#include "transport/frame_codec.h"
#include "transport/handshake.h"
#include "transport/liveness.h"
#include "transport/transport.h"

namespace wampd::core {
class TlsEngine;
}

namespace wampd::core::ws {

class Connection;

/// What a connection needs of the transport that owns it.
class ConnectionHost {
 public:
  virtual TransportListener& listener() noexcept = 0;
  /// Answers a handshake request: the transport's admission limits, then the listener's.
  virtual HandshakeAnswer onHandshake(const HandshakeRequest& request) = 0;
  /// The liveness clock (LivenessClock::now()), for this connection's stamps.
  virtual std::uint32_t tick() const noexcept = 0;
  virtual const TransportOptions& options() const noexcept = 0;
  /// Scratch space every connection reads into (one I/O thread: never in use twice).
  virtual char* readBuffer(std::size_t& size) noexcept = 0;
  /// Asks for one flush of this connection after the current handler returns.
  virtual void scheduleFlush(std::shared_ptr<Connection> connection) = 0;
  virtual TransportCounters& counters() noexcept = 0;
  /// The server is draining: plain HTTP responses close their connections.
  virtual bool draining() const noexcept = 0;
  /// The connection is closed and wants to be forgotten.
  virtual void release(Connection& connection) noexcept = 0;

 protected:
  ~ConnectionHost() = default;
};

class Connection final : public Link,
                         public PendingHandshake,
                         public std::enable_shared_from_this<Connection> {
 public:
  Connection(ConnectionHost& host, asio::ip::tcp::socket socket, std::string remote);
  ~Connection() override;

  /// Makes this a TLS connection (before start()): its bytes go through `engine`, and the
  /// TLS handshake precedes the opening handshake, within the same handshake timeout.
  void useTls(std::unique_ptr<TlsEngine> engine) noexcept;
  /// Reads the opening handshake.
  void start();
  /// Writes what is queued; called by the host once per scheduled flush.
  void flush() noexcept;
  /// Closes the socket without a closing handshake or any callback (the transport is going).
  void drop() noexcept;
  /// True until the opening handshake is answered.
  bool inHandshake() const noexcept { return state_ == State::Handshake; }
  /// Ends a connection whose opening handshake is not answered yet, with no response and no
  /// callback (the server stopped accepting: its client retries as after a failed connect).
  /// A kept-alive HTTP connection still writing a response closes once it is out.
  void endHandshake() noexcept;
  /// True for a kept-alive HTTP connection waiting, with nothing to write, for the start of
  /// its next request.
  bool idleBetweenRequests() const noexcept {
    return state_ == State::Handshake && httpRequests_ > 0 && inbox_.empty() && queue_.empty() &&
           !awaitingAnswer_;
  }
  /// True from the accepted handshake until a close or hang-up starts.
  bool isOpen() const noexcept { return state_ == State::Open; }
  /// When bytes last came and went, and an unanswered ping (see liveness.h).
  LivenessStamps& liveness() noexcept { return liveness_; }
  /// The socket, for what only the kernel knows (TCP_INFO: see millisecondsSinceDataSent).
  int nativeHandle() noexcept { return socket_.native_handle(); }
  /// Drops a peer that no longer takes part (dead, or not reading): resets the socket at once,
  /// with no close frame (its client comes back), and frees its backlog; onClose follows, with
  /// 1006 and the fault's reason, before this returns.
  void cutOff(Fault fault) noexcept;

  void send(const SharedFramePtr& frame) noexcept override;
  void sendText(std::string text) noexcept override;
  void sendBinary(std::string bytes) noexcept override;
  void close(std::uint16_t code, std::string_view reason) noexcept override;
  void abort(std::uint16_t code, std::string_view reason) noexcept override;
  void hangUp(bool discardQueued) noexcept override;
  /// Over TLS, also the ciphertext not yet written (at most about one record's worth: more is
  /// encrypted only once it has gone out).
  std::size_t bufferedAmount() const noexcept override;
  /// Slots the send queue holds, frames already written included (for tests: it must stay
  /// proportional to what is unwritten).
  std::size_t queueSlots() const noexcept { return queue_.size(); }
  /// Frames queued and not yet completely written.
  std::size_t queuedFrames() const noexcept { return queue_.size() - head_; }
  const std::string& remoteAddress() const noexcept override { return remote_; }

  bool complete(const HandshakeAnswer& answer) noexcept override;

 private:
  enum class State : std::uint8_t { Handshake, Open, Closing, Done };

  void waitReadable();
  void onReadable();
  /// Plaintext bytes as read: handshake, frames, or nothing after a failure.
  void consume(char* data, std::size_t size);
  /// TLS: decrypts what the engine holds into `buffer` and consumes it; sends what the engine
  /// wants to say (handshake, alerts). Ends the connection on a TLS failure.
  void pumpTls(char* buffer, std::size_t capacity);
  /// TLS: encrypts the queue a record at a time and writes the ciphertext; false when the
  /// socket is full (a write wait is pending) or the connection ended.
  bool flushTls() noexcept;
  /// Takes `written` bytes off the front of the queue.
  void advanceQueue(std::size_t written) noexcept;
  void readHandshake(std::string_view bytes);
  /// Handles the requests complete at the front of inbox_, in order, until one is incomplete,
  /// ends the connection, is deferred, or the responses queued are too many to take more.
  void handleRequests();
  /// One request at the front of inbox_; false when it is not complete yet, or nothing more
  /// is to be read for now.
  bool handleRequest();
  /// Continues reading requests once the responses that paused it are out (post()ed by flush).
  void resumeRequests();
  void refuse(std::uint16_t status, std::string_view reason, std::uint32_t retryAfter = 0);
  /// Answers a plain HTTP request with `response` and closes.
  void respond(std::string response);
  /// Answers a plain HTTP request whose `consumed` bytes lead inbox_ and keeps the connection
  /// for the next one.
  void respondAndContinue(std::string response, std::size_t consumed);
  /// The listener's answer to a plain HTTP request, if it has one.
  std::optional<std::string> answerPlain(const PlainRequest& request, std::string_view body,
                                         KeepAlive keepAlive);
  /// Sends `answer` to the handshake whose request is the first `requestLength` bytes of inbox_.
  void answer(const std::string& key, std::size_t requestLength, const HandshakeAnswer& answer);
  void accept(const std::string& key, const HandshakeAnswer& answer);
  /// Handles whole frames at the front of [data, data + size); returns the bytes used.
  std::size_t readFrames(char* data, std::size_t size);
  void enqueue(SharedFramePtr frame) noexcept;
  void requestFlush() noexcept;
  /// Waits until the socket takes more; first gives back the slots of frames already written.
  void waitWritable();
  void startClose(std::uint16_t code, std::string_view reason, bool discardQueued) noexcept;
  /// Drops the queued frames not yet begun (a begun one must be finished or the stream would be
  /// corrupt).
  void discardUnbegun() noexcept;
  /// Closes with the fault's code and reason, dropping what is queued; hangs up instead when
  /// the fault wants its client back (FaultInfo::comesBack).
  void abortWith(Fault fault) noexcept;
  void armTimer(std::chrono::milliseconds after);
  /// Ends the connection: closes the socket, tells the listener (once), leaves the host.
  void finish() noexcept;

  ConnectionHost& host_;
  asio::ip::tcp::socket socket_;
  std::string remote_;
  State state_ = State::Handshake;
  bool opened_ = false;  // onOpen was called: onClose is owed
  bool readWaiting_ = false;
  bool writeWaiting_ = false;  // the socket is full; a write wait is pending
  bool flushScheduled_ = false;
  bool closeQueued_ = false;  // our close frame (or hang-up) is queued: nothing may follow it
  bool closeWritten_ = false;
  bool peerClosed_ = false;      // the peer's close frame (or EOF) arrived
  bool discardInput_ = false;    // after a failure, a refusal or the peer's close frame
  bool awaitingAnswer_ = false;  // the listener deferred the handshake; reading is paused
  bool httpPaused_ = false;      // responses queued over kMaxHttpBacklog; reading is paused
  // What the handshake-state timer bounds on a kept-alive HTTP connection: the wait for the
  // next request (idle), or the arrival of a request begun (the handshake timeout).
  enum class HttpTimer : std::uint8_t { None, Idle, Request };
  HttpTimer httpTimer_ = HttpTimer::Request;
  // Beside the flags, where they fill what would be padding (keeps tls_ free of cost).
  std::uint16_t localCode_ = 0, peerCode_ = 0;
  LivenessStamps liveness_;  // beside the codes: 8 of its 12 bytes are new (in their padding)
  std::string key_;          // Sec-WebSocket-Key of a deferred handshake
  std::size_t requestLength_ = 0;
  std::string localReason_, peerReason_;
  std::uint64_t token_ = 0;
  std::uint32_t httpRequests_ = 0;  // plain HTTP requests answered on this connection

  std::string inbox_;  // an incomplete frame (or handshake) carried to the next read
  FrameReader reader_;

  // Frames not yet written; head_ is the first, of which headOffset_ bytes are already out.
  std::vector<SharedFramePtr> queue_;
  std::size_t head_ = 0, headOffset_ = 0;
  std::size_t queuedBytes_ = 0;

  std::unique_ptr<asio::steady_timer> timer_;  // handshake or closing deadline, when one runs
  std::unique_ptr<TlsEngine> tls_;             // null on a plain connection
};

}  // namespace wampd::core::ws
