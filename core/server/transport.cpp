// The only server translation unit that includes websocketpp.
#include "server/transport.h"

#include <asio/io_context.hpp>
#include <map>
#include <stdexcept>
#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

namespace wampd::core {
namespace {

// One I/O thread: no locks anywhere in websocketpp. A 4 KiB read buffer instead of 16 KiB
// keeps idle connections small; WAMP messages are short.
struct WsConfig : public websocketpp::config::asio {
  using type = WsConfig;
  using base = websocketpp::config::asio;
  using concurrency_type = websocketpp::concurrency::none;
  using alog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::alevel>;
  using elog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::elevel>;

  struct transport_config : public base::transport_config {
    using concurrency_type = type::concurrency_type;
    using alog_type = type::alog_type;
    using elog_type = type::elog_type;
    using request_type = type::request_type;
    using response_type = type::response_type;
    using socket_type = websocketpp::transport::asio::basic_socket::endpoint;
    static const bool enable_multithreading = false;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;

  static const bool enable_multithreading = false;
  static const size_t connection_read_buffer_size = 4096;
};

using WsServer = websocketpp::server<WsConfig>;
using ConnectionPtr = WsServer::connection_ptr;
using MessagePtr = WsConfig::message_type::ptr;

// RFC 6455 header of an unmasked, final server frame.
std::string frameHeader(websocketpp::frame::opcode::value opcode, std::size_t length) {
  std::string h;
  h.push_back(static_cast<char>(0x80 | opcode));
  if (length < 126) {
    h.push_back(static_cast<char>(length));
  } else if (length <= 0xFFFF) {
    h.push_back(static_cast<char>(126));
    h.push_back(static_cast<char>((length >> 8) & 0xFF));
    h.push_back(static_cast<char>(length & 0xFF));
  } else {
    h.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      h.push_back(static_cast<char>((length >> shift) & 0xFF));
  }
  return h;
}

std::string peerAddress(const ConnectionPtr& con) {
  asio::error_code ec;
  asio::ip::address address = con->get_socket().remote_endpoint(ec).address();
  if (ec) return "unknown";
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

}  // namespace

class SharedFrame {
 public:
  explicit SharedFrame(MessagePtr m) : message(std::move(m)) {}
  MessagePtr message;
};

namespace {

class WsLink final : public Link {
 public:
  WsLink(ConnectionPtr con, std::string remote)
      : con_(std::move(con)), remote_(std::move(remote)) {}

  void send(const SharedFramePtr& frame) noexcept override {
    websocketpp::lib::error_code ec = con_->send(frame->message);
    (void)ec;  // a closing connection refuses sends; its close handler cleans up
  }
  void sendText(std::string text) noexcept override {
    websocketpp::lib::error_code ec = con_->send(text, websocketpp::frame::opcode::text);
    (void)ec;
  }
  void sendBinary(std::string bytes) noexcept override {
    websocketpp::lib::error_code ec = con_->send(bytes, websocketpp::frame::opcode::binary);
    (void)ec;
  }
  // The close frame goes out as a queued *terminal* frame: websocketpp writes it after what
  // is already queued, then ends the TCP connection. websocketpp's own close() would take a
  // client CLOSE already waiting in the same read as the acknowledgement and shut the socket
  // before our frame (say 1007) is written; here that CLOSE's acknowledgement is queued
  // behind the terminal frame and never sent, so the client sees exactly one close frame.
  void close(std::uint16_t code, std::string_view reason) noexcept override {
    if (closing_) return;
    closing_ = true;
    try {
      std::string payload;
      payload.push_back(static_cast<char>(code >> 8));
      payload.push_back(static_cast<char>(code & 0xFF));
      payload.append(reason.substr(0, 123));  // control frames carry at most 125 bytes
      auto message = websocketpp::lib::make_shared<WsConfig::message_type>(
          WsConfig::con_msg_manager_type::ptr(), websocketpp::frame::opcode::close, 0);
      message->set_header(frameHeader(websocketpp::frame::opcode::close, payload.size()));
      message->set_payload(payload);
      message->set_prepared(true);
      message->set_terminal(true);
      websocketpp::lib::error_code ec = con_->send(message);
      if (!ec) return;
    } catch (const std::exception&) {
    }
    websocketpp::lib::error_code ignored;
    con_->close(code, std::string(reason), ignored);
  }

  std::size_t bufferedAmount() const noexcept override { return con_->get_buffered_amount(); }
  const std::string& remoteAddress() const noexcept override { return remote_; }

 private:
  ConnectionPtr con_;
  std::string remote_;
  bool closing_ = false;
};

}  // namespace

class Transport::Impl {
 public:
  Impl(asio::io_context& io, TransportListener& listener, TransportOptions options)
      : listener_(listener), options_(std::move(options)) {
    server_.clear_access_channels(websocketpp::log::alevel::all);
    server_.clear_error_channels(websocketpp::log::elevel::all);
    server_.init_asio(&io);
    server_.set_reuse_addr(true);
    server_.set_listen_backlog(1024);
    server_.set_user_agent(options_.serverHeader);
    server_.set_max_message_size(options_.maxMessageSize);
    // After accept (websocketpp's socket-init handler runs before it, when the option cannot
    // reach the kernel): without TCP_NODELAY a write behind an unacknowledged one waits for
    // the peer's delayed ACK, up to 40 ms.
    server_.set_tcp_pre_init_handler([this](websocketpp::connection_hdl hdl) {
      asio::error_code ec;
      server_.get_con_from_hdl(hdl)->get_socket().set_option(asio::ip::tcp::no_delay(true), ec);
    });
    server_.set_validate_handler([this](websocketpp::connection_hdl hdl) { return validate(hdl); });
  }

  void listen() {
    websocketpp::lib::error_code ec;
    server_.listen(options_.host, std::to_string(options_.port), ec);
    if (!ec) server_.start_accept(ec);
    if (ec)
      throw std::runtime_error("cannot listen on " + options_.host + ":" +
                               std::to_string(options_.port) + ": " + ec.message());
  }

  std::uint16_t boundPort() const {
    websocketpp::lib::asio::error_code ec;
    auto endpoint = const_cast<WsServer&>(server_).get_local_endpoint(ec);
    return ec ? 0 : endpoint.port();
  }

  void stopListening() noexcept {
    websocketpp::lib::error_code ec;
    if (server_.is_listening()) server_.stop_listening(ec);
  }

 private:
  bool validate(websocketpp::connection_hdl hdl) {
    ConnectionPtr con = server_.get_con_from_hdl(hdl);
    HandshakeRequest request;
    request.resource = con->get_resource();
    request.origin = con->get_request_header("Origin");
    request.remoteAddress = peerAddress(con);
    request.subprotocols = con->get_requested_subprotocols();

    HandshakeAnswer answer = listener_.onHandshake(request);
    if (!answer.accept) {
      // The reason goes in the body only: it may quote what a client sent, and the status
      // line must not carry anything a client controls.
      con->set_status(static_cast<websocketpp::http::status_code::value>(answer.httpStatus));
      con->set_body(answer.reason + "\n");
      return false;
    }
    if (!answer.subprotocol.empty()) con->select_subprotocol(answer.subprotocol);
    if (!answer.openingMessage.empty()) {
      // The body of a 101 response is the first bytes of the WebSocket stream, so a frame
      // placed there leaves in the same write as the handshake. A 1xx has no Content-Length.
      con->set_body(frameHeader(websocketpp::frame::opcode::text, answer.openingMessage.size()) +
                    answer.openingMessage);
      con->remove_header("Content-Length");
    }
    std::string remote = std::move(request.remoteAddress);
    const std::uint64_t token = answer.token;
    con->set_open_handler(
        [this, token, remote](websocketpp::connection_hdl h) { open(h, token, remote); });
    return true;
  }

  void open(websocketpp::connection_hdl hdl, std::uint64_t token, const std::string& remote) {
    ConnectionPtr con = server_.get_con_from_hdl(hdl);
    auto owned = std::make_unique<WsLink>(con, remote);
    WsLink* link = owned.get();
    links_.emplace(link, std::move(owned));
    con->set_message_handler([this, link](websocketpp::connection_hdl, MessagePtr msg) {
      listener_.onMessage(*link, msg->get_payload(),
                          msg->get_opcode() == websocketpp::frame::opcode::binary);
    });
    con->set_close_handler([this, link](websocketpp::connection_hdl h) { closed(h, link); });
    listener_.onOpen(*link, token);
  }

  void closed(websocketpp::connection_hdl hdl, WsLink* link) {
    ConnectionPtr con = server_.get_con_from_hdl(hdl);
    std::uint16_t code = con->get_remote_close_code();
    std::string reason = con->get_remote_close_reason();
    if (code == websocketpp::close::status::blank ||
        code == websocketpp::close::status::no_status) {
      code = con->get_local_close_code();
      reason = con->get_local_close_reason();
    }
    listener_.onClose(*link, code, reason);
    links_.erase(link);
  }

  TransportListener& listener_;
  TransportOptions options_;
  WsServer server_;
  std::map<WsLink*, std::unique_ptr<WsLink>> links_;
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

namespace {
SharedFramePtr prepare(websocketpp::frame::opcode::value opcode, std::string_view payload) {
  auto message = websocketpp::lib::make_shared<WsConfig::message_type>(
      WsConfig::con_msg_manager_type::ptr(), opcode, 0);
  message->set_header(frameHeader(opcode, payload.size()));
  message->set_payload(payload.data(), payload.size());
  message->set_prepared(true);
  return std::make_shared<const SharedFrame>(std::move(message));
}
}  // namespace

SharedFramePtr Transport::prepareText(std::string_view payload) {
  return prepare(websocketpp::frame::opcode::text, payload);
}

SharedFramePtr Transport::prepareBinary(std::string_view payload) {
  return prepare(websocketpp::frame::opcode::binary, payload);
}

}  // namespace wampd::core
