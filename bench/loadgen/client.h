// The load client's connections: one epoll loop, non-blocking sockets, WebSocket upgrade and
// the WAMP opening (v1 WELCOME, or v2 HELLO/WELCOME), then messages handed to a handler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "wamp_dialect.h"

namespace wampd::core {
class TlsContext;
class TlsEngine;
}  // namespace wampd::core

namespace wampd::bench {

struct Target {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string path = "/";
  Wamp wamp = Wamp::V1;
  std::string realm = "realm1";
  /// Local address to connect from (IPv4); empty: the kernel's choice. The kernel has about
  /// 28,000 ephemeral ports per source and destination pair; more sources, more connections.
  std::string source;
  /// wss: every connection speaks TLS (the server's transport engine, client side; the
  /// certificate is not verified).
  bool tls = false;
};

enum class ConnState { Connecting, Upgrading, Welcoming, Open, Closed };

struct Conn {
  Conn();
  ~Conn();
  int fd = -1;
  ConnState state = ConnState::Connecting;
  std::size_t index = 0;  // position in Client::conns()
  std::uint32_t mask = 0;
  bool reading = true;
  bool wantsWrite = false;
  bool dirty = false;
  std::string in;   // a partial frame (or the HTTP response head) carried to the next read
  std::string out;  // bytes not yet written (plaintext: over TLS, encrypted when written)
  std::unique_ptr<core::TlsEngine> tls;
  std::uint64_t messages = 0;
  std::uint64_t bytesRead = 0;
  int closeCode = 0;  // from the server's close frame; 0 when none arrived
  std::string failure;
};

class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  /// A whole text or binary message on an open connection; `readAt` is when its bytes were
  /// read (one clock reading per read() call).
  virtual void onMessage(Conn& conn, std::string_view message, std::int64_t readAt) = 0;
  virtual void onClosed(Conn&) {}
};

struct OpenResult {
  std::size_t opened = 0;
  std::size_t failed = 0;
  double seconds = 0;
  std::string firstFailure;
};

class Client {
 public:
  explicit Client(Target target);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  /// Opens `count` more connections with at most `concurrency` handshakes under way, until
  /// all are open or failed or `timeoutS` passed. `receiveBuffer` > 0 sets SO_RCVBUF.
  OpenResult open(std::size_t count, std::size_t concurrency, double timeoutS,
                  int receiveBuffer = 0);

  std::vector<std::unique_ptr<Conn>>& conns() { return conns_; }
  const Target& target() const { return target_; }
  /// Connections opened from now on go to `port` (the nodes of a cluster, in turn); those
  /// already open stay where they are.
  void setPort(int port) { target_.port = port; }
  void setHandler(MessageHandler* handler) { handler_ = handler; }

  /// Frames `message` as text and queues it; it leaves at the next flush().
  void send(Conn& conn, std::string_view message);
  /// One write() per connection with queued bytes.
  void flush();
  /// Waits at most `timeoutNs` (0: do not wait) for sockets, then reads and writes them.
  void poll(std::int64_t timeoutNs);

  void pauseReading(Conn& conn);
  void resumeReading(Conn& conn);
  std::size_t openCount() const { return openCount_; }
  /// Nanoseconds spent in poll() calls that found nothing to do: with the client spinning,
  /// wall time minus this is the time it was busy (its CPU time would always read ~100%).
  std::int64_t idleNs() const { return idleNs_; }

 private:
  bool startConnect(int receiveBuffer);
  void onReadable(Conn& conn);
  void onWritable(Conn& conn);
  void consume(Conn& conn, std::string_view data, std::int64_t readAt);
  std::size_t consumeFrames(Conn& conn, std::string_view data, std::int64_t readAt);
  void onFrameMessage(Conn& conn, std::string_view message, std::int64_t readAt);
  void writeOut(Conn& conn);
  void writeTls(Conn& conn);
  /// Ciphertext read: decrypted and consumed; what the engine answers is written.
  void readTls(Conn& conn, std::string_view cipher, std::int64_t readAt);
  void updateInterest(Conn& conn);
  void fail(Conn& conn, const std::string& why);

  Target target_;
  int epoll_ = -1;
  MessageHandler* handler_ = nullptr;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::vector<Conn*> dirty_;
  std::vector<char> scratch_;
  std::vector<char> plain_;  // TLS: plaintext decrypted from scratch_
  std::shared_ptr<const core::TlsContext> tlsContext_;
  std::size_t openCount_ = 0;
  std::size_t handshaking_ = 0;
  std::int64_t idleNs_ = 0;
  std::uint32_t nextMask_ = 0x9e3779b9;
};

}  // namespace wampd::bench
