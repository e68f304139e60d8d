#include "transport/transport.h"

#include <spdlog/spdlog.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <stdexcept>
#include <unordered_map>

#include "transport/connection.h"
#include "transport/frame_codec.h"
#include "transport/shared_frame.h"
#include "transport/tls.h"

namespace wampd::core {
namespace {

constexpr std::size_t kReadBufferSize = 64 * 1024;
// After accept fails for lack of descriptors, wait before trying again rather than spin.
constexpr auto kAcceptRetry = std::chrono::milliseconds(100);

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
        readBuffer_(new char[kReadBufferSize]) {
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
        acceptor.bind(endpoint);
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
  }

  std::uint16_t boundPort(std::size_t index) const {
    return index < acceptors_.size() ? boundPort(*acceptors_[index]) : 0;
  }

  void setTlsContext(std::shared_ptr<const TlsContext> context) noexcept {
    tlsContext_ = std::move(context);
  }

  void stopListening() noexcept {
    for (auto& listener : acceptors_) {
      asio::error_code ignored;
      listener->retry.cancel();
      listener->acceptor.close(ignored);
    }
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

  // ConnectionHost
  TransportListener& listener() noexcept override { return listener_; }
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
  void release(ws::Connection& connection) noexcept override { connections_.erase(&connection); }

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
          if (ec) {
            spdlog::warn("accepting a connection failed: {}", ec.message());
            listener.retry.expires_after(kAcceptRetry);
            listener.retry.async_wait([this, &listener](const asio::error_code& e) {
              if (!e && listener.acceptor.is_open()) accept(listener);
            });
            return;
          }
          adopt(std::move(socket), listener.address.tls);
          accept(listener);
        });
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
    connections_.emplace(connection.get(), connection);
    connection->start();
  }

  void flushAll() {
    flushPosted_ = false;
    flushing_.swap(dirty_);
    for (const auto& connection : flushing_) connection->flush();
    flushing_.clear();
  }

  asio::io_context& io_;
  TransportListener& listener_;
  TransportOptions options_;
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  std::shared_ptr<const TlsContext> tlsContext_;  // for connections accepted from now on
  std::unique_ptr<char[]> readBuffer_;
  std::unordered_map<ws::Connection*, std::shared_ptr<ws::Connection>> connections_;
  std::vector<std::shared_ptr<ws::Connection>> dirty_, flushing_;
  bool flushPosted_ = false;
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
void Transport::stopListening() noexcept {
  impl_->stopListening();
}

SharedFramePtr Transport::prepareText(std::string_view payload) {
  return std::make_shared<const SharedFrame>(ws::encodeFrame(ws::Opcode::Text, payload));
}

SharedFramePtr Transport::prepareBinary(std::string_view payload) {
  return std::make_shared<const SharedFrame>(ws::encodeFrame(ws::Opcode::Binary, payload));
}

}  // namespace wampd::core
