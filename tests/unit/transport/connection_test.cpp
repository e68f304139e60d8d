// Connection on a real socket pair, driven by the test as the client: the send queue's
// bookkeeping under a reader that stays behind, and hanging up without a close frame.
#include "transport/connection.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "transport/shared_frame.h"
#include "transport/transport.h"

namespace {

using namespace wampd::core;

struct RecordingListener final : TransportListener {
  HandshakeAnswer onHandshake(const HandshakeRequest& request) override {
    ++handshakes;
    if (defer) {
      pending = request.pending;
      return HandshakeAnswer::later();
    }
    HandshakeAnswer answer;
    answer.token = 7;
    return answer;
  }
  void onOpen(Link& opened, std::uint64_t token) override {
    link = &opened;
    openedToken = token;
  }
  void onAbandoned(std::uint64_t) override { ++abandoned; }
  void onMessage(Link&, std::string_view payload, bool) override { messages.emplace_back(payload); }
  void onClose(Link&, std::uint16_t code, std::string_view) override {
    closeCode = code;
    link = nullptr;
  }

  Link* link = nullptr;
  int closeCode = -1;
  bool defer = false;
  int handshakes = 0, abandoned = 0;
  std::uint64_t openedToken = 0;
  std::weak_ptr<PendingHandshake> pending;
  std::vector<std::string> messages;
};

class TestHost final : public ws::ConnectionHost {
 public:
  explicit TestHost(asio::io_context& io) : io_(io), buffer_(64 * 1024) {}

  TransportListener& listener() noexcept override { return listener_; }
  HandshakeAnswer onHandshake(const HandshakeRequest& request) override {
    return listener_.onHandshake(request);
  }
  std::uint32_t tick() const noexcept override { return now; }
  const TransportOptions& options() const noexcept override { return options_; }
  char* readBuffer(std::size_t& size) noexcept override {
    size = buffer_.size();
    return buffer_.data();
  }
  void scheduleFlush(std::shared_ptr<ws::Connection> connection) override {
    asio::post(io_, [connection] { connection->flush(); });
  }
  void release(ws::Connection& connection) noexcept override { live.erase(&connection); }
  TransportCounters& counters() noexcept override { return counters_; }
  bool draining() const noexcept override { return false; }

  RecordingListener listener_;
  TransportCounters counters_;
  TransportOptions options_;
  std::uint32_t now = 1;  // the liveness clock, advanced by the test
  std::map<ws::Connection*, std::shared_ptr<ws::Connection>> live;

 private:
  asio::io_context& io_;
  std::vector<char> buffer_;
};

const std::string kRequest =
    "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

// A masked text frame from the client (payload under 126 bytes).
std::string clientText(const std::string& payload) {
  std::string frame{'\x81', static_cast<char>(0x80 | payload.size()), 0, 0, 0, 0};
  return frame + payload;  // mask 0: the payload is its own masked form
}

// Everything readable on `fd` right now.
std::string readAvailable(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT)) > 0) out.append(buffer, n);
  return out;
}

template <typename Done>
void runUntil(asio::io_context& io, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
  REQUIRE(done());
}

// A Connection serving fds[0] of a new socket pair; the test is the peer at fds[1]. With
// `bufferBytes`, both ends' kernel buffers are that small.
std::shared_ptr<ws::Connection> serveSocketPair(asio::io_context& io, TestHost& host, int fds[2],
                                                int bufferBytes = 0) {
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  if (bufferBytes > 0) {
    ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &bufferBytes, sizeof bufferBytes);
    ::setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &bufferBytes, sizeof bufferBytes);
  }
  asio::ip::tcp::socket socket(io);
  socket.assign(asio::ip::tcp::v4(), fds[0]);
  socket.non_blocking(true);
  auto connection = std::make_shared<ws::Connection>(host, std::move(socket), "test");
  host.live[connection.get()] = connection;
  connection->start();
  return connection;
}

// The peer's opening handshake on `fd`; the listener's Link once the connection is open.
Link& openLink(asio::io_context& io, TestHost& host, int fd) {
  REQUIRE(::write(fd, kRequest.data(), kRequest.size()) == static_cast<ssize_t>(kRequest.size()));
  runUntil(io, [&] { return host.listener_.link != nullptr; });
  return *host.listener_.link;
}

}  // namespace

TEST_CASE("a reader that stays behind does not make the send queue grow beyond its backlog") {
  asio::io_context io;
  TestHost host(io);
  int fds[2];
  // Small buffers: the server side fills at once, so most writes meet EAGAIN.
  auto connection = serveSocketPair(io, host, fds, 4096);
  Link& link = openLink(io, host, fds[1]);

  // Each turn queues 8 frames of ~1 KiB; the reader reads a little while fewer than 50 wait
  // and a lot beyond, so the queue hovers around 50 frames and never drains: the case where
  // the slots of written frames would pile up in front of the unwritten ones.
  const SharedFramePtr frame = Transport::prepareText(std::string(1024, 'x'));
  std::vector<char> sink(64 * 1024);
  std::size_t maxSlots = 0, maxFrames = 0, drained = 0;
  for (int turn = 0; turn < 3000; ++turn) {
    for (int i = 0; i < 8; ++i) link.send(frame);
    io.restart();
    io.poll();
    const std::size_t want = connection->queuedFrames() > 50 ? sink.size() : 1024;
    const ssize_t n = ::recv(fds[1], sink.data(), want, MSG_DONTWAIT);
    REQUIRE((n > 0 || errno == EAGAIN));
    io.restart();
    io.poll();
    if (turn > 100 && connection->queuedFrames() == 0) ++drained;
    maxSlots = std::max(maxSlots, connection->queueSlots());
    maxFrames = std::max(maxFrames, connection->queuedFrames());
    // Slots of frames already written are given back once they are half the queue.
    REQUIRE(connection->queueSlots() <= 2 * connection->queuedFrames() + 64 + 8);
  }
  CAPTURE(maxSlots);
  CAPTURE(maxFrames);
  CHECK(drained < 10);      // the queue really stayed non-empty
  CHECK(maxFrames < 2000);  // and small against the 24,000 sent: the bound above is tight
  CHECK(host.listener_.closeCode == -1);

  connection->drop();
  ::close(fds[1]);
}

namespace {

void checkHangUp(bool discardQueued) {
  CAPTURE(discardQueued);
  asio::io_context io;
  TestHost host(io);
  int fds[2];
  auto connection = serveSocketPair(io, host, fds);
  Link& link = openLink(io, host, fds[1]);

  const SharedFramePtr frame = Transport::prepareText("[8,\"oro/ping\",{}]");
  link.send(frame);
  link.hangUp(discardQueued);
  link.send(frame);  // nothing may follow the hang-up

  std::string received;
  bool eof = false;
  char chunk[4096];
  runUntil(io, [&] {
    for (;;) {
      const ssize_t n = ::recv(fds[1], chunk, sizeof chunk, MSG_DONTWAIT);
      if (n <= 0) {
        eof = n == 0;
        return eof;
      }
      received.append(chunk, static_cast<std::size_t>(n));
    }
  });
  const std::size_t body = received.find("\r\n\r\n");
  REQUIRE(body != std::string::npos);
  const std::string frames = received.substr(body + 4);
  // No close frame: the browser's close is not clean (1006), and Oro's page reconnects.
  CHECK(frames == (discardQueued ? std::string() : frame->bytes()));
  CHECK(host.listener_.closeCode == -1);  // still waiting for the peer to close its end

  ::close(fds[1]);
  runUntil(io, [&] { return host.listener_.closeCode != -1; });
  CHECK(host.listener_.closeCode == wireCode(CloseCode::Abnormal));
}

}  // namespace

TEST_CASE("a hang-up writes what is queued, then ends the stream with no close frame") {
  checkHangUp(false);
}

TEST_CASE("a hang-up that discards the queue ends the stream at once") {
  checkHangUp(true);
}

namespace {

struct DeferredFixture {
  asio::io_context io;
  TestHost host{io};
  int fds[2] = {-1, -1};
  std::shared_ptr<ws::Connection> connection;

  explicit DeferredFixture(std::chrono::milliseconds handshakeTimeout = std::chrono::seconds(5)) {
    host.listener_.defer = true;
    host.options_.handshakeTimeout = handshakeTimeout;
    connection = serveSocketPair(io, host, fds);
  }
  ~DeferredFixture() {
    if (connection) connection->drop();
    ::close(fds[1]);
  }
  void clientWrites(const std::string& bytes) {
    REQUIRE(::write(fds[1], bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  }
  void turn() {
    io.restart();
    io.poll();
  }
};

}  // namespace

TEST_CASE("a deferred handshake answers later, the 101 and its opening message in one write") {
  DeferredFixture f;
  // A frame right behind the request waits until the handshake is answered.
  f.clientWrites(kRequest + clientText("early"));
  runUntil(f.io, [&] { return f.host.listener_.handshakes == 1; });
  for (int i = 0; i < 5; ++i) f.turn();
  CHECK(readAvailable(f.fds[1]).empty());
  CHECK(f.host.listener_.messages.empty());
  CHECK(f.host.listener_.link == nullptr);

  auto pending = f.host.listener_.pending.lock();
  REQUIRE(pending);
  HandshakeAnswer answer;
  answer.token = 42;
  answer.openingMessage = "[0,\"1\",1,\"x\"]";
  CHECK(pending->complete(answer));
  CHECK(f.host.listener_.openedToken == 42);  // onOpen came from complete() itself
  CHECK_FALSE(pending->complete(answer));     // once only
  const std::string bytes = readAvailable(f.fds[1]);
  CHECK(bytes.rfind("HTTP/1.1 101", 0) == 0);
  CHECK(bytes.find("[0,\"1\",1,\"x\"]") != std::string::npos);
  runUntil(f.io, [&] { return !f.host.listener_.messages.empty(); });
  CHECK(f.host.listener_.messages.front() == "early");
}

TEST_CASE("a deferred handshake can be refused later") {
  DeferredFixture f;
  f.clientWrites(kRequest);
  runUntil(f.io, [&] { return f.host.listener_.handshakes == 1; });
  HandshakeAnswer answer;
  answer.accept = false;
  answer.httpStatus = 503;
  answer.reason = "busy";
  REQUIRE(f.host.listener_.pending.lock()->complete(answer));
  std::string response;
  runUntil(f.io, [&] {
    response += readAvailable(f.fds[1]);
    return !response.empty();
  });
  CHECK(response.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(f.host.listener_.link == nullptr);
  CHECK(f.host.listener_.abandoned == 0);
}

TEST_CASE("a connection that dies while its handshake is deferred takes no answer") {
  SUBCASE("the transport drops it") {
    DeferredFixture f;
    f.clientWrites(kRequest);
    runUntil(f.io, [&] { return f.host.listener_.handshakes == 1; });
    auto pending = f.host.listener_.pending.lock();
    REQUIRE(pending);
    f.connection.reset();                 // only the transport's map and this handle hold it now
    f.host.live.begin()->second->drop();  // the transport stopping
    HandshakeAnswer answer;
    CHECK_FALSE(pending->complete(answer));
    CHECK(f.host.listener_.link == nullptr);
    CHECK(f.host.listener_.abandoned == 0);
  }
  SUBCASE("the handshake timeout still applies") {
    DeferredFixture f(std::chrono::milliseconds(50));
    f.clientWrites(kRequest);
    runUntil(f.io, [&] { return f.host.listener_.handshakes == 1; });
    runUntil(f.io, [&] { return f.host.live.empty(); });  // released: the handle expires
    f.connection.reset();
    CHECK(f.host.listener_.pending.expired());
    CHECK(f.host.listener_.link == nullptr);
  }
}

TEST_CASE("liveness stamps: input stamps received, a write stamps moved") {
  asio::io_context io;
  TestHost host(io);
  int fds[2];
  host.now = 5;
  auto connection = serveSocketPair(io, host, fds);
  openLink(io, host, fds[1]);
  CHECK(connection->liveness().received == 5);
  CHECK(connection->liveness().moved == 5);
  readAvailable(fds[1]);

  host.now = 9;
  const std::string frame = clientText("x");
  REQUIRE(::write(fds[1], frame.data(), frame.size()) == static_cast<ssize_t>(frame.size()));
  runUntil(io, [&] { return host.listener_.messages.size() == 1; });
  CHECK(connection->liveness().received == 9);
  CHECK(connection->liveness().moved == 5);

  host.now = 12;
  host.listener_.link->send(Transport::prepareText("y"));
  runUntil(io, [&] { return connection->bufferedAmount() == 0; });
  CHECK(connection->liveness().moved == 12);
  CHECK(connection->liveness().received == 9);

  connection->drop();
  ::close(fds[1]);
}

TEST_CASE("an empty send queue that gets a frame counts its write timeout from then") {
  asio::io_context io;
  TestHost host(io);
  int fds[2];
  auto connection = serveSocketPair(io, host, fds, 4096);
  Link& link = openLink(io, host, fds[1]);
  readAvailable(fds[1]);
  host.now = 40;
  // The peer never reads: the frames stay queued, and the stamp is when they began to wait.
  const SharedFramePtr big = Transport::prepareText(std::string(64 * 1024, 'z'));
  link.send(big);
  CHECK(connection->liveness().moved == 40);
  io.restart();
  io.poll();
  host.now = 41;
  link.send(big);  // behind bytes that wait already: not a new start
  io.restart();
  io.poll();
  CHECK(connection->bufferedAmount() > 0);
  CHECK(connection->liveness().moved == 40);
  connection->drop();
  ::close(fds[1]);
}

TEST_CASE("cutting a connection off resets it at once with no close frame, onClose 1006") {
  asio::io_context io;
  TestHost host(io);
  int fds[2];
  auto connection = serveSocketPair(io, host, fds, 4096);
  Link& link = openLink(io, host, fds[1]);
  readAvailable(fds[1]);
  link.send(Transport::prepareText(std::string(64 * 1024, 'q')));  // a backlog the peer never read
  io.restart();
  io.poll();
  REQUIRE(connection->bufferedAmount() > 0);

  connection->cutOff(Fault::WriteStalled);
  // Synchronous: the listener has heard before cutOff returns, and the host let go.
  CHECK(host.listener_.closeCode == wireCode(CloseCode::Abnormal));
  CHECK(host.live.empty());
  // The peer sees the stream end; what it reads is the backlog's beginning, never a close frame.
  std::string received;
  char chunk[4096];
  ssize_t n;
  while ((n = ::recv(fds[1], chunk, sizeof chunk, 0)) > 0) received.append(chunk, n);
  CHECK(received.find('\x88') == std::string::npos);
  ::close(fds[1]);
}
