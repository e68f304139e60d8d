#include "transport/transport.h"

#include <spdlog/spdlog.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "common/errors.h"
#include "common/log_fields.h"
#include "transport/admission.h"
#include "transport/connection.h"
#include "transport/frame_codec.h"
#include "transport/liveness.h"
#include "transport/port_sharing.h"
#include "transport/shared_frame.h"
#include "transport/tls.h"

namespace wampd::core {
namespace {

constexpr std::size_t kReadBufferSize = 64 * 1024;
// After accept fails (out of descriptors, mostly), wait before trying again rather than spin:
// the pending connection stays readable and accept would fail at once again. The wait doubles
// up to its bound, and one log line a second at most says how many attempts failed.
constexpr auto kAcceptRetryFirst = std::chrono::milliseconds(100);
constexpr std::chrono::milliseconds kAcceptRetryMax = std::chrono::seconds(1);
constexpr auto kAcceptLogEvery = std::chrono::seconds(1);
// How often addresses with no connection left are looked at (see Admission).
constexpr auto kForgetIdleEvery = std::chrono::seconds(1);

ws::LivenessPolicy livenessPolicy(const TransportLimits& limits) {
  return ws::LivenessPolicy(
      ws::LivenessOptions{limits.pingInterval, limits.pongTimeout, limits.writeTimeout});
}

ws::AdmissionLimits admissionLimits(const TransportLimits& limits) {
  return ws::AdmissionLimits{limits.maxConnections, limits.maxConnectionsPerAddress,
                             limits.handshakesPerSecond};
}

std::string peerAddress(const asio::ip::tcp::socket& socket) {
  asio::error_code ec;
  asio::ip::address address = socket.remote_endpoint(ec).address();
  if (ec) return "unknown";
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

}  // namespace

class Transport::Impl final : public ws::ConnectionHost {
 public:
  Impl(asio::io_context& io, TransportListener& listener, TransportOptions options)
      : io_(io),
        listener_(listener),
        options_(std::move(options)),
        tickTimer_(io),
        readBuffer_(new char[kReadBufferSize]),
        pingFrame_(std::make_shared<const SharedFrame>(ws::encodeFrame(ws::Opcode::Ping, {}))) {
    setLimits(options_.limits);
    if (options_.listeners.empty()) options_.listeners.push_back({options_.host, options_.port});
    for (const ListenAddress& address : options_.listeners)
      acceptors_.push_back(std::make_unique<Acceptor>(io, address));
  }

  ~Impl() {
    for (auto& [raw, connection] : connections_) connection->drop();
  }

  void listen() {
    for (auto& listener : acceptors_) {
      const ListenAddress& address = listener->address;
      if (address.tls && !tlsContext_)
        throw std::runtime_error("cannot listen on " + address.host + ":" +
                                 std::to_string(address.port) + " with TLS: no server.tls");
      asio::ip::tcp::acceptor& acceptor = listener->acceptor;
      try {
        asio::ip::tcp::resolver resolver(io_);
        const auto results = resolver.resolve(address.host, std::to_string(address.port),
                                              asio::ip::resolver_base::passive);
        const asio::ip::tcp::endpoint endpoint = results.begin()->endpoint();
        acceptor.open(endpoint.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        asio::error_code busy;
        acceptor.bind(endpoint, busy);
        if (busy == asio::error::address_in_use && heldByDrainingServer(address, endpoint)) {
          // The wampd before this one is draining and shares its port (see drain()): take the
          // port beside it, and the kernel hands new connections to both until it exits.
          acceptor.close();
          acceptor.open(endpoint.protocol());
          acceptor.set_option(asio::socket_base::reuse_address(true));
          ws::shareListeningPort(acceptor.native_handle());
          acceptor.bind(endpoint);
          spdlog::info("{}:{} is held by a wampd that is draining: sharing the port until it exits",
                       address.host, address.port);
        } else if (busy) {
          throw std::system_error(busy);
        }
        acceptor.listen(1024);
      } catch (const std::system_error& e) {
        for (auto& other : acceptors_) {
          asio::error_code ignored;
          other->acceptor.close(ignored);
        }
        throw std::runtime_error("cannot listen on " + address.host + ":" +
                                 std::to_string(address.port) + ": " + e.code().message());
      }
    }
    for (auto& listener : acceptors_) {
      if (acceptors_.size() > 1 || listener->address.tls)
        spdlog::info("listening on {}:{} ({})", listener->address.host, boundPort(*listener),
                     listener->address.tls ? "wss" : "ws");
      accept(*listener);
    }
    tick();
  }

  // Whether the wampd holding `address` is draining. A TLS port is not asked (the probe
  // speaks plain HTTP): the answer of this config's plain listeners, held by the same old
  // wampd, stands for it; with none, the port is free once the old wampd exits.
  bool heldByDrainingServer(const ListenAddress& address, const asio::ip::tcp::endpoint& endpoint) {
    if (!address.tls) {
      const bool draining = ws::heldByDrainingServer(endpoint);
      drainingHolderSeen_ = drainingHolderSeen_ || draining;
      return draining;
    }
    if (drainingHolderSeen_) return true;
    for (const auto& other : acceptors_) {
      // One this wampd has bound already would be asked in part of itself (SO_REUSEPORT).
      if (other->address.tls || other->acceptor.is_open()) continue;
      asio::error_code ec;
      asio::ip::tcp::resolver resolver(io_);
      const auto results =
          resolver.resolve(other->address.host, std::to_string(other->address.port),
                           asio::ip::resolver_base::passive, ec);
      if (!ec && !results.empty() && ws::heldByDrainingServer(results.begin()->endpoint()))
        return true;
    }
    return false;
  }

  std::uint16_t boundPort(std::size_t index) const {
    return index < acceptors_.size() ? boundPort(*acceptors_[index]) : 0;
  }

  void setTlsContext(std::shared_ptr<const TlsContext> context) noexcept {
    tlsContext_ = std::move(context);
  }

  void drain() noexcept {
    if (draining_) return;
    draining_ = true;
    // The port stays open, answering /health 503 and refusing handshakes 503, so a balancer
    // sees the drain rather than a refused connection; shared, so that the next wampd can
    // bind it meanwhile (see heldByDrainingServer).
    for (auto& listener : acceptors_)
      if (listener->acceptor.is_open()) ws::shareListeningPort(listener->acceptor.native_handle());
    // Kept-alive HTTP connections waiting for a next request are ended at once; those with a
    // request under way get its answer, with Connection: close.
    std::vector<std::shared_ptr<ws::Connection>> idle;
    try {
      for (auto& [raw, connection] : connections_)
        if (connection->idleBetweenRequests()) idle.push_back(connection);
    } catch (const std::bad_alloc&) {
      return;  // their keep-alive timeout ends them
    }
    for (auto& connection : idle) connection->endHandshake();
  }

  void stopListening() noexcept {
    draining_ = true;
    for (auto& listener : acceptors_) {
      asio::error_code ignored;
      listener->retry.cancel();
      listener->acceptor.close(ignored);
    }
    // The connections left are being drained: shutdown_timeout bounds them.
    tickTimer_.cancel();
    // Collected first: ending one releases it from connections_.
    std::vector<std::shared_ptr<ws::Connection>> unopened;
    try {
      for (auto& [raw, connection] : connections_)
        if (connection->inHandshake()) unopened.push_back(connection);
    } catch (const std::bad_alloc&) {
      return;  // their handshake timeout ends them
    }
    for (auto& connection : unopened) connection->endHandshake();
  }

  void setLimits(const TransportLimits& limits) noexcept {
    options_.limits = limits;
    liveness_ = livenessPolicy(limits);
    admission_.setLimits(admissionLimits(limits));
  }

  const TransportCounters& counters() const noexcept { return counters_; }
  std::size_t connections() const noexcept { return connections_.size(); }

  // ConnectionHost
  TransportListener& listener() noexcept override { return listener_; }
  std::uint32_t tick() const noexcept override { return clock_.now(); }

  HandshakeAnswer onHandshake(const HandshakeRequest& request) override {
    HandshakeAnswer refusal;
    refusal.accept = false;
    refusal.httpStatus = 503;
    switch (admission_.admit(request.remoteAddress, connections_.size(),
                             ws::Admission::Clock::now(), refusal.retryAfter)) {
      case ws::Admission::Verdict::Admitted:
        return listener_.onHandshake(request);
      case ws::Admission::Verdict::ServerFull:
        ++counters_.refusedMaxConnections;
        refusal.reason =
            "Too many connections to this server (server.max_connections); "
            "try again later";
        break;
      case ws::Admission::Verdict::AddressFull:
        ++counters_.refusedMaxConnectionsPerAddress;
        refusal.reason =
            "Too many connections from your address "
            "(server.max_connections_per_ip)";
        break;
      case ws::Admission::Verdict::TooFast:
        ++counters_.refusedHandshakeRate;
        refusal.httpStatus = 429;
        refusal.reason =
            "Too many handshakes from your address (server.handshake_rate_per_ip); "
            "try again after Retry-After seconds";
        break;
    }
    const LogFields about{LogFields::text("remote", request.remoteAddress)};
    spdlog::debug("refused handshake from {}: HTTP {} {}", request.remoteAddress,
                  refusal.httpStatus, refusal.reason);
    return refusal;
  }
  const TransportOptions& options() const noexcept override { return options_; }
  char* readBuffer(std::size_t& size) noexcept override {
    size = kReadBufferSize;
    return readBuffer_.get();
  }
  void scheduleFlush(std::shared_ptr<ws::Connection> connection) override {
    dirty_.push_back(std::move(connection));
    if (flushPosted_) return;
    flushPosted_ = true;
    // Everything sent while handling this turn's input leaves in one write per socket.
    asio::post(io_, [this] { flushAll(); });
  }
  void release(ws::Connection& connection) noexcept override {
    admission_.closed(connection.remoteAddress(), ws::Admission::Clock::now());
    connections_.erase(&connection);
  }
  TransportCounters& counters() noexcept override { return counters_; }
  bool draining() const noexcept override { return draining_; }

 private:
  struct Acceptor {
    Acceptor(asio::io_context& io, ListenAddress where)
        : address(std::move(where)), acceptor(io), retry(io) {}
    ListenAddress address;
    asio::ip::tcp::acceptor acceptor;
    asio::steady_timer retry;
  };

  static std::uint16_t boundPort(const Acceptor& listener) {
    asio::error_code ec;
    const auto endpoint = listener.acceptor.local_endpoint(ec);
    return ec ? 0 : endpoint.port();
  }

  // `listener` lives as long as the transport; its handlers end with it (operation_aborted).
  void accept(Acceptor& listener) {
    listener.acceptor.async_accept(
        [this, &listener](const asio::error_code& ec, asio::ip::tcp::socket socket) {
          if (ec == asio::error::operation_aborted || !listener.acceptor.is_open()) return;
          if (ec == asio::error::connection_aborted) {
            accept(listener);  // that client left before it was accepted; the next may wait
            return;
          }
          if (ec) {
            acceptFailed(listener, ec);
            return;
          }
          if (acceptFailures_ != 0) {
            spdlog::info("accepting connections again after {} failed attempts", acceptFailures_);
            acceptFailures_ = acceptFailuresLogged_ = 0;
            acceptBackoff_ = kAcceptRetryFirst;
          }
          adopt(std::move(socket), listener.address.tls);
          accept(listener);
        });
  }

  // The back-off and its log are the transport's: descriptors run out for every listener.
  void acceptFailed(Acceptor& listener, const asio::error_code& ec) {
    ++counters_.acceptFailures;
    ++acceptFailures_;
    const auto now = std::chrono::steady_clock::now();
    if (acceptFailuresLogged_ == 0 || now - acceptLoggedAt_ >= kAcceptLogEvery) {
      spdlog::warn(
          "accepting a connection failed: {} ({} failed attempts since the last "
          "report; retrying in {} ms)",
          ec.message(), acceptFailures_ - acceptFailuresLogged_, acceptBackoff_.count());
      acceptFailuresLogged_ = acceptFailures_;
      acceptLoggedAt_ = now;
    }
    listener.retry.expires_after(acceptBackoff_);
    acceptBackoff_ = std::min(acceptBackoff_ * 2, kAcceptRetryMax);
    listener.retry.async_wait([this, &listener](const asio::error_code& e) {
      if (!e && listener.acceptor.is_open()) accept(listener);
    });
  }

  // The transport-wide tick: advances the liveness clock, pings the quiet connections, drops
  // the dead and the stalled ones (no timer per connection: see liveness.h).
  void tick() {
    tickTimer_.expires_after(liveness_.tickPeriod());
    tickTimer_.async_wait([this](const asio::error_code& ec) {
      if (ec) return;
      clock_.advance();
      sweep();
      const auto now = ws::Admission::Clock::now();
      if (now - forgotAt_ >= kForgetIdleEvery) {
        admission_.forgetIdle(now);
        forgotAt_ = now;
      }
      tick();
    });
  }

  void doom(const std::shared_ptr<ws::Connection>& connection, Fault fault) noexcept {
    try {
      doomed_.emplace_back(connection, fault);
    } catch (const std::bad_alloc&) {
      // The next tick finds it again.
    }
  }

  void sweep() noexcept {
    if (!liveness_.enabled()) return;
    const std::uint32_t now = clock_.now();
    // This tick's share of the buckets (see LivenessPolicy::sweepTicks). A rehash in between
    // may skip a connection for one round, or check it twice.
    const std::size_t buckets = connections_.bucket_count();
    const std::size_t share = (buckets + liveness_.sweepTicks() - 1) / liveness_.sweepTicks();
    if (sweepCursor_ >= buckets) sweepCursor_ = 0;
    const std::size_t first = sweepCursor_, last = std::min(buckets, first + share);
    sweepCursor_ = last;
    // Dropped after the walk: a dropped connection leaves connections_.
    for (std::size_t bucket = first; bucket < last; ++bucket)
      for (auto it = connections_.begin(bucket); it != connections_.end(bucket); ++it)
        check(it->second, now);
    for (const auto& [connection, fault] : doomed_) {
      const LogFields about{LogFields::text("remote", connection->remoteAddress())};
      if (fault == Fault::WriteStalled) {
        ++counters_.droppedWriteStalled;
        spdlog::info("dropped the connection from {}: {} bytes queued have not moved for {} ms",
                     connection->remoteAddress(), connection->bufferedAmount(),
                     options_.limits.writeTimeout.count());
      } else {
        ++counters_.droppedUnresponsive;
        spdlog::info("dropped the connection from {}: nothing received within {} ms of a ping",
                     connection->remoteAddress(), options_.limits.pongTimeout.count());
      }
      connection->cutOff(fault);
    }
    doomed_.clear();
  }

  void check(const std::shared_ptr<ws::Connection>& connection, std::uint32_t now) noexcept {
    if (!connection->isOpen()) return;  // handshake and closing timers bound those
    switch (liveness_.check(connection->liveness(), connection->bufferedAmount() > 0, now)) {
      case ws::LivenessPolicy::Action::None:
        break;
      case ws::LivenessPolicy::Action::Ping:
        connection->send(pingFrame_);
        connection->liveness().pinged = now;
        break;
      case ws::LivenessPolicy::Action::DropUnresponsive:
        doom(connection, Fault::PeerUnresponsive);
        break;
      case ws::LivenessPolicy::Action::DropWriteStalled: {
        // Stalled for us, but is the kernel still sending (the peer reading, slowly)? Then
        // the write timeout starts again.
        const std::int64_t idle = ws::millisecondsSinceDataSent(connection->nativeHandle());
        if (idle >= 0 && idle < options_.limits.writeTimeout.count())
          connection->liveness().moved = now;
        else
          doom(connection, Fault::WriteStalled);
        break;
      }
    }
  }

  void adopt(asio::ip::tcp::socket socket, bool tls) {
    asio::error_code ec;
    socket.non_blocking(true, ec);
    if (ec) return;
    // Without TCP_NODELAY a write behind an unacknowledged one waits for the peer's delayed
    // ACK, up to 40 ms.
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    std::string remote = peerAddress(socket);
    auto connection = std::make_shared<ws::Connection>(*this, std::move(socket), std::move(remote));
    if (tls) {
      std::unique_ptr<TlsEngine> engine = TlsEngine::server(tlsContext_);
      if (!engine) return;  // no memory: the client sees its connection close
      connection->useTls(std::move(engine));
    }
    ++counters_.connectionsAccepted;
    admission_.opened(connection->remoteAddress());
    connections_.emplace(connection.get(), connection);
    connection->start();
  }

  void flushAll() {
    flushPosted_ = false;
    flushing_.swap(dirty_);
    for (const auto& connection : flushing_) connection->flush();
    flushing_.clear();
    listener_.onWritten();
  }

  asio::io_context& io_;
  TransportListener& listener_;
  TransportOptions options_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::shared_ptr<const TlsContext> tlsContext_;  // for connections accepted from now on
  std::chrono::milliseconds acceptBackoff_ = kAcceptRetryFirst;
  std::uint64_t acceptFailures_ = 0;        // since the last success
  std::uint64_t acceptFailuresLogged_ = 0;  // of which the log has told
  std::chrono::steady_clock::time_point acceptLoggedAt_;
  asio::steady_timer tickTimer_;
  ws::LivenessClock clock_;
  ws::LivenessPolicy liveness_;
  ws::Admission admission_;
  std::chrono::steady_clock::time_point forgotAt_;
  TransportCounters counters_;
  std::unique_ptr<char[]> readBuffer_;
  SharedFramePtr pingFrame_;  // one empty ping shared by every connection
  std::vector<std::pair<std::shared_ptr<ws::Connection>, Fault>> doomed_;
  std::size_t sweepCursor_ = 0;  // the first bucket the next tick checks
  std::unordered_map<ws::Connection*, std::shared_ptr<ws::Connection>> connections_;
  std::vector<std::shared_ptr<ws::Connection>> dirty_, flushing_;
  bool flushPosted_ = false;
  bool draining_ = false;            // drain() or stopListening() was called
  bool drainingHolderSeen_ = false;  // listen(): a port was held by a draining wampd
};

Transport::Transport(asio::io_context& io, TransportListener& listener, TransportOptions options)
    : impl_(std::make_unique<Impl>(io, listener, std::move(options))) {}
Transport::~Transport() = default;
void Transport::listen() {
  impl_->listen();
}
std::uint16_t Transport::boundPort() const {
  return impl_->boundPort(0);
}
std::uint16_t Transport::boundPort(std::size_t index) const {
  return impl_->boundPort(index);
}
void Transport::setTlsContext(std::shared_ptr<const TlsContext> context) noexcept {
  impl_->setTlsContext(std::move(context));
}
void Transport::drain() noexcept {
  impl_->drain();
}
void Transport::stopListening() noexcept {
  impl_->stopListening();
}
void Transport::setLimits(const TransportLimits& limits) noexcept {
  impl_->setLimits(limits);
}
const TransportCounters& Transport::counters() const noexcept {
  return std::as_const(*impl_).counters();
}
std::size_t Transport::connections() const noexcept {
  return impl_->connections();
}

SharedFramePtr Transport::prepareText(std::string_view payload) {
  return std::make_shared<const SharedFrame>(ws::encodeFrame(ws::Opcode::Text, payload));
}

SharedFramePtr Transport::prepareBinary(std::string_view payload) {
  return std::make_shared<const SharedFrame>(ws::encodeFrame(ws::Opcode::Binary, payload));
}

}  // namespace wampd::core
