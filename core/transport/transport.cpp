#include "transport/transport.h"

#include <spdlog/spdlog.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include "transport/connection.h"
#include "transport/frame_codec.h"
#include "transport/shared_frame.h"

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
        acceptor_(io),
        acceptRetry_(io),
        readBuffer_(new char[kReadBufferSize]) {}

  ~Impl() {
    for (auto& [raw, connection] : connections_) connection->drop();
  }

  void listen() {
    try {
      asio::ip::tcp::resolver resolver(io_);
      const auto results = resolver.resolve(options_.host, std::to_string(options_.port),
                                            asio::ip::resolver_base::passive);
      const asio::ip::tcp::endpoint endpoint = results.begin()->endpoint();
      acceptor_.open(endpoint.protocol());
      acceptor_.set_option(asio::socket_base::reuse_address(true));
      acceptor_.bind(endpoint);
      acceptor_.listen(1024);
    } catch (const std::system_error& e) {
      asio::error_code ignored;
      acceptor_.close(ignored);
      throw std::runtime_error("cannot listen on " + options_.host + ":" +
                               std::to_string(options_.port) + ": " + e.code().message());
    }
    accept();
  }

  std::uint16_t boundPort() const {
    asio::error_code ec;
    const auto endpoint = acceptor_.local_endpoint(ec);
    return ec ? 0 : endpoint.port();
  }

  void stopListening() noexcept {
    asio::error_code ignored;
    acceptRetry_.cancel();
    acceptor_.close(ignored);
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
  Transport::Counters& counters() noexcept override { return counters_; }
  const Transport::Counters& counters() const noexcept { return counters_; }

 private:
  void accept() {
    acceptor_.async_accept([this](const asio::error_code& ec, asio::ip::tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec) {
        spdlog::warn("accepting a connection failed: {}", ec.message());
        acceptRetry_.expires_after(kAcceptRetry);
        acceptRetry_.async_wait([this](const asio::error_code& e) {
          if (!e && acceptor_.is_open()) accept();
        });
        return;
      }
      adopt(std::move(socket));
      accept();
    });
  }

  void adopt(asio::ip::tcp::socket socket) {
    asio::error_code ec;
    socket.non_blocking(true, ec);
    if (ec) return;
    // Without TCP_NODELAY a write behind an unacknowledged one waits for the peer's delayed
    // ACK, up to 40 ms.
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    std::string remote = peerAddress(socket);
    auto connection = std::make_shared<ws::Connection>(*this, std::move(socket), std::move(remote));
    ++counters_.connectionsAccepted;
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
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer acceptRetry_;
  std::unique_ptr<char[]> readBuffer_;
  std::unordered_map<ws::Connection*, std::shared_ptr<ws::Connection>> connections_;
  std::vector<std::shared_ptr<ws::Connection>> dirty_, flushing_;
  bool flushPosted_ = false;
  Transport::Counters counters_;
};

Transport::Transport(asio::io_context& io, TransportListener& listener, TransportOptions options)
    : impl_(std::make_unique<Impl>(io, listener, std::move(options))) {}
Transport::~Transport() = default;
void Transport::listen() {
  impl_->listen();
}
std::uint16_t Transport::boundPort() const {
  return impl_->boundPort();
}
void Transport::stopListening() noexcept {
  impl_->stopListening();
}
const Transport::Counters& Transport::counters() const noexcept {
  return std::as_const(*impl_).counters();
}

SharedFramePtr Transport::prepareText(std::string_view payload) {
  return std::make_shared<const SharedFrame>(ws::encodeFrame(ws::Opcode::Text, payload));
}

SharedFramePtr Transport::prepareBinary(std::string_view payload) {
  return std::make_shared<const SharedFrame>(ws::encodeFrame(ws::Opcode::Binary, payload));
}

}  // namespace wampd::core
