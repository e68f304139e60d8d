#include "client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "clock.h"
#include "transport/tls.h"
#include "ws_frame.h"
#include "ws_handshake.h"

namespace wampd::bench {
namespace {

constexpr std::size_t kScratchBytes = 256 * 1024;
constexpr int kMaxEvents = 1024;

std::string closeDescription(std::string_view payload, int& code) {
  if (payload.size() < 2) {
    code = 1005;
    return "closed by the server without a code";
  }
  code = (static_cast<std::uint8_t>(payload[0]) << 8) | static_cast<std::uint8_t>(payload[1]);
  return "closed by the server with " + std::to_string(code) + " " + std::string(payload.substr(2));
}

}  // namespace

Conn::Conn() = default;
Conn::~Conn() = default;

Client::Client(Target target) : target_(std::move(target)), scratch_(kScratchBytes) {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (target_.tls) {
    tlsContext_ = core::TlsContext::client();
    plain_.resize(kScratchBytes);
  }
}

Client::~Client() {
  for (auto& c : conns_)
    if (c->fd >= 0) ::close(c->fd);
  if (epoll_ >= 0) ::close(epoll_);
}

OpenResult Client::open(std::size_t count, std::size_t concurrency, double timeoutS,
                        int receiveBuffer) {
  OpenResult result;
  const std::size_t first = conns_.size();
  const std::int64_t start = nowNs();
  const std::int64_t deadline = start + secondsToNs(timeoutS);
  std::size_t started = 0;
  while (true) {
    while (started < count && handshaking_ < concurrency) {
      ++started;
      if (!startConnect(receiveBuffer)) break;
    }
    if (started == count && handshaking_ == 0) break;
    if (nowNs() > deadline) break;
    poll(10'000'000);
  }
  result.seconds = static_cast<double>(nowNs() - start) / 1e9;
  for (std::size_t i = first; i < conns_.size(); ++i) {
    Conn& c = *conns_[i];
    if (c.state == ConnState::Open) {
      ++result.opened;
    } else {
      ++result.failed;
      if (result.firstFailure.empty())
        result.firstFailure = c.failure.empty() ? "handshake timed out" : c.failure;
    }
  }
  result.failed += count - (conns_.size() - first);
  return result;
}

bool Client::startConnect(int receiveBuffer) {
  auto conn = std::make_unique<Conn>();
  conn->index = conns_.size();
  nextMask_ = nextMask_ * 1664525u + 1013904223u;
  conn->mask = nextMask_;
  Conn& c = *conn;
  conns_.push_back(std::move(conn));

  c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c.fd < 0) {
    c.state = ConnState::Closed;
    c.failure = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  // Closing with a reset leaves no TIME_WAIT behind: runs of 10,000 connections follow
  // each other on the same ports.
  linger reset{1, 0};
  setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (receiveBuffer > 0)
    setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof receiveBuffer);

  if (!target_.source.empty()) {
    // The port is chosen at connect(), per destination, not at bind(): without this every
    // bound socket would take a port of its own from the whole range.
    setsockopt(c.fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, target_.source.c_str(), &local.sin_addr);
    if (::bind(c.fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      c.failure = "bind " + target_.source + ": " + std::strerror(errno);
      ::close(c.fd);
      c.fd = -1;
      c.state = ConnState::Closed;
      return false;
    }
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(target_.port));
  inet_pton(AF_INET, target_.host.c_str(), &address.sin_addr);
  if (::connect(c.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 &&
      errno != EINPROGRESS) {
    c.failure = std::string("connect: ") + std::strerror(errno);
    ::close(c.fd);
    c.fd = -1;
    c.state = ConnState::Closed;
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT;
  ev.data.ptr = &c;
  epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
  ++handshaking_;
  return true;
}

void Client::send(Conn& conn, std::string_view message) {
  if (conn.state == ConnState::Closed) return;
  appendClientFrame(conn.out, Opcode::Text, message, conn.mask);
  if (!conn.dirty) {
    conn.dirty = true;
    dirty_.push_back(&conn);
  }
}

void Client::flush() {
  for (Conn* c : dirty_) {
    c->dirty = false;
    if (c->state != ConnState::Closed && !c->wantsWrite) writeOut(*c);
  }
  dirty_.clear();
}

void Client::poll(std::int64_t timeoutNs) {
  epoll_event events[kMaxEvents];
  timespec timeout{static_cast<time_t>(timeoutNs / 1000000000),
                   static_cast<long>(timeoutNs % 1000000000)};
  const std::int64_t before = nowNs();
  const int n = epoll_pwait2(epoll_, events, kMaxEvents, &timeout, nullptr);
  if (n <= 0) idleNs_ += nowNs() - before;
  for (int i = 0; i < n; ++i) {
    Conn& c = *static_cast<Conn*>(events[i].data.ptr);
    if (c.state == ConnState::Closed) continue;
    const std::uint32_t e = events[i].events;
    if (c.state == ConnState::Connecting) {
      int error = 0;
      socklen_t length = sizeof error;
      getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) {
        fail(c, std::string("connect: ") + std::strerror(error));
        continue;
      }
      if (!(e & EPOLLOUT)) continue;
      c.state = ConnState::Upgrading;
      if (tlsContext_) {
        c.tls = core::TlsEngine::client(tlsContext_, target_.host);
        if (!c.tls) {
          fail(c, "no memory for TLS");
          continue;
        }
      }
      c.out = upgradeRequest(target_.host, target_.port, target_.path, subprotocolOf(target_.wamp));
      writeOut(c);
      updateInterest(c);
      continue;
    }
    if (!c.reading && (e & (EPOLLHUP | EPOLLERR))) {
      // A paused connection is read later; stop hearing about its hang-up until then.
      epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
      continue;
    }
    if (e & EPOLLOUT) onWritable(c);
    if (c.state != ConnState::Closed && (e & (EPOLLIN | EPOLLHUP | EPOLLERR))) onReadable(c);
  }
}

void Client::onWritable(Conn& conn) {
  writeOut(conn);
}

void Client::onReadable(Conn& conn) {
  while (conn.state != ConnState::Closed) {
    const ssize_t n = ::read(conn.fd, scratch_.data(), scratch_.size());
    if (n > 0) {
      conn.bytesRead += static_cast<std::uint64_t>(n);
      if (conn.tls)
        readTls(conn, std::string_view(scratch_.data(), static_cast<std::size_t>(n)), nowNs());
      else
        consume(conn, std::string_view(scratch_.data(), static_cast<std::size_t>(n)), nowNs());
      if (static_cast<std::size_t>(n) < scratch_.size()) return;
      continue;
    }
    if (n == 0) return fail(conn, "connection closed by the server");
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (errno == EINTR) continue;
    return fail(conn, std::string("read: ") + std::strerror(errno));
  }
}

void Client::consume(Conn& conn, std::string_view data, std::int64_t readAt) {
  if (conn.state == ConnState::Upgrading) {
    conn.in.append(data);
    UpgradeResponse response;
    if (!parseUpgradeResponse(conn.in, response)) return;
    if (response.status != 101)
      return fail(conn, "upgrade refused with HTTP " + std::to_string(response.status));
    if (target_.wamp == Wamp::V2 && response.subprotocol != subprotocolOf(Wamp::V2))
      return fail(conn, "the server did not select wamp.2.json (it selected '" +
                            response.subprotocol + "')");
    std::string rest = conn.in.substr(response.length);
    conn.in.clear();
    conn.state = ConnState::Welcoming;
    if (target_.wamp == Wamp::V2) {
      send(conn, helloMessage(target_.realm));
      flush();
    }
    if (!rest.empty()) consume(conn, rest, readAt);
    return;
  }
  if (conn.in.empty()) {
    const std::size_t used = consumeFrames(conn, data, readAt);
    if (conn.state != ConnState::Closed && used < data.size()) conn.in.assign(data.substr(used));
    return;
  }
  conn.in.append(data);
  const std::size_t used = consumeFrames(conn, conn.in, readAt);
  if (conn.state != ConnState::Closed) conn.in.erase(0, used);
}

std::size_t Client::consumeFrames(Conn& conn, std::string_view data, std::int64_t readAt) {
  std::size_t used = 0;
  while (conn.state != ConnState::Closed) {
    ServerFrame frame;
    const std::size_t n = parseServerFrame(data.substr(used), frame);
    if (n == kIncompleteFrame) break;
    if (n == kBadFrame) {
      fail(conn, "the server sent a masked frame");
      break;
    }
    used += n;
    switch (frame.opcode) {
      case Opcode::Text:
      case Opcode::Binary:
        if (frame.fin) onFrameMessage(conn, frame.payload, readAt);
        break;
      case Opcode::Close: {
        int code = 0;
        std::string why = closeDescription(frame.payload, code);
        conn.closeCode = code;
        fail(conn, why);
        break;
      }
      case Opcode::Ping:
        appendClientFrame(conn.out, Opcode::Pong, frame.payload, conn.mask);
        writeOut(conn);
        break;
      default:
        break;  // no server here fragments messages
    }
  }
  return used;
}

void Client::onFrameMessage(Conn& conn, std::string_view message, std::int64_t readAt) {
  ++conn.messages;
  if (conn.state == ConnState::Open) {
    if (handler_) handler_->onMessage(conn, message, readAt);
    return;
  }
  if (conn.state != ConnState::Welcoming) return;
  const Kind kind = classify(target_.wamp, message);
  if (kind == Kind::Welcome) {
    conn.state = ConnState::Open;
    --handshaking_;
    ++openCount_;
    return;
  }
  const std::string text(message.substr(0, 200));
  fail(conn, (kind == Kind::Abort ? "ABORT: " : "unexpected first message: ") + text);
}

void Client::readTls(Conn& conn, std::string_view cipher, std::int64_t readAt) {
  core::TlsEngine& tls = *conn.tls;
  const bool wasDone = tls.handshakeDone();
  if (!tls.feed(cipher.data(), cipher.size())) return fail(conn, "TLS: " + tls.error());
  while (conn.state != ConnState::Closed) {
    const core::TlsEngine::Read r = tls.read(plain_.data(), plain_.size());
    if (r.status == core::TlsEngine::Status::Data) {
      consume(conn, std::string_view(plain_.data(), r.bytes), readAt);
    } else if (r.status == core::TlsEngine::Status::NeedMore) {
      break;
    } else {
      return fail(conn, r.status == core::TlsEngine::Status::Closed ? "TLS closed by the server"
                                                                    : "TLS: " + tls.error());
    }
  }
  // The handshake's last flight, or the upgrade request that waited for it.
  if (conn.state != ConnState::Closed &&
      (tls.outputSize() > 0 || (!wasDone && tls.handshakeDone() && !conn.out.empty())))
    writeOut(conn);
}

void Client::writeTls(Conn& conn) {
  core::TlsEngine& tls = *conn.tls;
  if (!conn.out.empty() && tls.handshakeDone()) {
    if (!tls.write(conn.out.data(), conn.out.size())) return fail(conn, "TLS: " + tls.error());
    conn.out.clear();
  }
  while (tls.outputSize() > 0) {
    const ssize_t n = ::write(conn.fd, tls.output(), tls.outputSize());
    if (n > 0) {
      tls.consumeOutput(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return fail(conn, std::string("write: ") + std::strerror(errno));
  }
  const bool wants = tls.outputSize() > 0;
  if (wants != conn.wantsWrite) {
    conn.wantsWrite = wants;
    updateInterest(conn);
  }
}

void Client::writeOut(Conn& conn) {
  if (conn.tls) return writeTls(conn);
  std::size_t written = 0;
  while (written < conn.out.size()) {
    const ssize_t n = ::write(conn.fd, conn.out.data() + written, conn.out.size() - written);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    conn.out.clear();
    return fail(conn, std::string("write: ") + std::strerror(errno));
  }
  conn.out.erase(0, written);
  const bool wants = !conn.out.empty();
  if (wants != conn.wantsWrite) {
    conn.wantsWrite = wants;
    updateInterest(conn);
  }
}

void Client::updateInterest(Conn& conn) {
  if (conn.state == ConnState::Closed) return;
  epoll_event ev{};
  ev.events = (conn.reading ? EPOLLIN : 0u) | (conn.wantsWrite ? EPOLLOUT : 0u);
  ev.data.ptr = &conn;
  if (epoll_ctl(epoll_, EPOLL_CTL_MOD, conn.fd, &ev) != 0 && errno == ENOENT)
    epoll_ctl(epoll_, EPOLL_CTL_ADD, conn.fd, &ev);
}

void Client::pauseReading(Conn& conn) {
  conn.reading = false;
  updateInterest(conn);
}

void Client::resumeReading(Conn& conn) {
  conn.reading = true;
  updateInterest(conn);
}

void Client::fail(Conn& conn, const std::string& why) {
  if (conn.state == ConnState::Closed) return;
  const ConnState was = conn.state;
  conn.state = ConnState::Closed;
  conn.failure = why;
  if (conn.fd >= 0) ::close(conn.fd);
  conn.fd = -1;
  conn.in.clear();
  conn.out.clear();
  if (was == ConnState::Open) {
    --openCount_;
    if (handler_) handler_->onClosed(conn);
  } else {
    --handshaking_;
  }
}

}  // namespace wampd::bench
