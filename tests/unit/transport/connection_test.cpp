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
  HandshakeAnswer onHandshake(const HandshakeRequest&) override {
    HandshakeAnswer answer;
    answer.token = 7;
    return answer;
  }
  void onOpen(Link& opened, std::uint64_t) override { link = &opened; }
  void onAbandoned(std::uint64_t) override {}
  void onMessage(Link&, std::string_view, bool) override {}
  void onClose(Link&, std::uint16_t code, std::string_view) override {
    closeCode = code;
    link = nullptr;
  }

  Link* link = nullptr;
  int closeCode = -1;
};

class TestHost final : public ws::ConnectionHost {
 public:
  explicit TestHost(asio::io_context& io) : io_(io), buffer_(64 * 1024) {}

  TransportListener& listener() noexcept override { return listener_; }
  const TransportOptions& options() const noexcept override { return options_; }
  char* readBuffer(std::size_t& size) noexcept override {
    size = buffer_.size();
    return buffer_.data();
  }
  void scheduleFlush(std::shared_ptr<ws::Connection> connection) override {
    asio::post(io_, [connection] { connection->flush(); });
  }
  void release(ws::Connection& connection) noexcept override { live.erase(&connection); }

  RecordingListener listener_;
  TransportOptions options_;
  std::map<ws::Connection*, std::shared_ptr<ws::Connection>> live;

 private:
  asio::io_context& io_;
  std::vector<char> buffer_;
};

template <typename Done>
void runUntil(asio::io_context& io, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
  REQUIRE(done());
}

}  // namespace

TEST_CASE("a reader that stays behind does not make the send queue grow beyond its backlog") {
  asio::io_context io;
  TestHost host(io);
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  const int small = 4096;  // the server side fills at once, so most writes meet EAGAIN
  ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  ::setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);

  asio::ip::tcp::socket socket(io);
  socket.assign(asio::ip::tcp::v4(), fds[0]);
  socket.non_blocking(true);
  auto connection = std::make_shared<ws::Connection>(host, std::move(socket), "test");
  host.live[connection.get()] = connection;
  connection->start();

  const std::string request =
      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  REQUIRE(::write(fds[1], request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  runUntil(io, [&] { return host.listener_.link != nullptr; });
  Link& link = *host.listener_.link;

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
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  asio::ip::tcp::socket socket(io);
  socket.assign(asio::ip::tcp::v4(), fds[0]);
  socket.non_blocking(true);
  auto connection = std::make_shared<ws::Connection>(host, std::move(socket), "test");
  host.live[connection.get()] = connection;
  connection->start();
  const std::string request =
      "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  REQUIRE(::write(fds[1], request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  runUntil(io, [&] { return host.listener_.link != nullptr; });
  Link& link = *host.listener_.link;

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
