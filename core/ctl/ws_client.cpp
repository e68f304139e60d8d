#include "ctl/ws_client.h"

#include <deque>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_no_tls_client.hpp>

#include "common/errors.h"

namespace wampd::ctl {
namespace {

using Endpoint = websocketpp::client<websocketpp::config::asio_client>;

enum class State { Idle, Connecting, Open, Closing, Closed, Failed };

}  // namespace

// Single-threaded: the caller's thread runs the io_context only inside runUntil(), so the
// handlers and the blocking calls never race.
struct WsClient::Impl {
  explicit Impl(Clock::time_point until) : deadline(until) {
    endpoint.clear_access_channels(websocketpp::log::alevel::all);
    endpoint.clear_error_channels(websocketpp::log::elevel::all);
    endpoint.init_asio();
    endpoint.set_open_handler([this](websocketpp::connection_hdl) { state = State::Open; });
    endpoint.set_fail_handler([this](websocketpp::connection_hdl) {
      state = State::Failed;
      failure = describeFailure();
    });
    endpoint.set_message_handler([this](websocketpp::connection_hdl, Endpoint::message_ptr msg) {
      inbox.push_back(msg->get_payload());
    });
    endpoint.set_close_handler([this](websocketpp::connection_hdl) {
      state = State::Closed;
      peerClose = CloseFrame{static_cast<std::uint16_t>(connection->get_remote_close_code()),
                             connection->get_remote_close_reason()};
    });
  }

  ~Impl() {
    // Closing the socket cancels whatever the deadline cut short, so destroying the
    // io_context releases every handler without running it.
    if (connection && state != State::Closed && state != State::Failed) {
      websocketpp::lib::error_code ignored;
      connection->get_raw_socket().close(ignored);
    }
  }

  long remainingMillis() const {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return left.count() > 0 ? static_cast<long>(left.count()) : 1;
  }

  std::string describeFailure() const {
    auto status = connection->get_response_code();
    if (status != websocketpp::http::status_code::uninitialized &&
        status != websocketpp::http::status_code::switching_protocols) {
      // wampd says why in the body (its status line carries nothing a client sent).
      std::string why = connection->get_response().get_body();
      while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
      if (why.size() > 200) why = why.substr(0, 200) + "...";
      return "server refused the WebSocket handshake: HTTP " +
             std::to_string(static_cast<int>(status)) + " " + connection->get_response_msg() +
             (why.empty() ? "" : ": " + why);
    }
    return connection->get_ec().message();
  }

  // Runs handlers until `done()` or the deadline; false when the deadline came first or
  // nothing is left to run.
  template <class Done>
  bool runUntil(Done done) {
    auto& io = endpoint.get_io_service();
    while (!done()) {
      auto now = Clock::now();
      if (now >= deadline) return false;
      if (io.run_one_for(deadline - now) == 0 && io.stopped()) return done();
    }
    return true;
  }

  Clock::time_point deadline;
  Endpoint endpoint;
  Endpoint::connection_ptr connection;
  State state = State::Idle;
  std::string failure;
  std::deque<std::string> inbox;
  std::optional<CloseFrame> peerClose;
};

WsClient::WsClient(Clock::time_point deadline) : impl_(std::make_unique<Impl>(deadline)) {}

WsClient::~WsClient() = default;

bool WsClient::connect(const std::string& url, const std::string& shownUrl,
                       const std::string& subprotocol, std::string& error) {
  Impl& d = *impl_;
  websocketpp::lib::error_code ec;
  d.connection = d.endpoint.get_connection(url, ec);
  if (ec) {
    error = "invalid URL '" + shownUrl + "': " + ec.message();
    return false;
  }
  // A server with auth.allowed_origins checks Origin; Oro's backend sends its server's host.
  d.connection->replace_header("Origin", d.connection->get_uri()->get_host());
  d.connection->add_subprotocol(subprotocol, ec);
  if (ec) {
    error = "invalid subprotocol '" + subprotocol + "': " + ec.message();
    return false;
  }
  d.connection->set_open_handshake_timeout(d.remainingMillis());
  d.connection->set_close_handshake_timeout(d.remainingMillis());
  d.state = State::Connecting;
  d.endpoint.connect(d.connection);
  d.runUntil([&d] { return d.state != State::Connecting; });
  switch (d.state) {
    case State::Open:
      return true;
    case State::Failed:
      error = "cannot connect to " + shownUrl + ": " + d.failure;
      return false;
    case State::Connecting:
      error = "timed out connecting to " + shownUrl;
      return false;
    default:
      error = "connection to " + shownUrl + " ended during the handshake";
      return false;
  }
}

bool WsClient::send(const std::string& text, std::string& error) {
  Impl& d = *impl_;
  if (d.state != State::Open) {
    error = "connection is not open";
    return false;
  }
  websocketpp::lib::error_code ec = d.connection->send(text, websocketpp::frame::opcode::text);
  if (ec) {
    error = "cannot send: " + ec.message();
    return false;
  }
  return true;
}

bool WsClient::receive(std::string& message, std::string& error) {
  Impl& d = *impl_;
  d.runUntil(
      [&d] { return !d.inbox.empty() || d.state == State::Closed || d.state == State::Failed; });
  if (!d.inbox.empty()) {
    message = std::move(d.inbox.front());
    d.inbox.pop_front();
    return true;
  }
  if (d.state == State::Closed || d.state == State::Failed)
    error = "server closed the connection";
  else
    error = "timed out waiting for the server";
  return false;
}

bool WsClient::close(std::uint16_t code, std::string& error) {
  Impl& d = *impl_;
  if (d.state == State::Open) {
    websocketpp::lib::error_code ec;
    d.connection->close(code, "", ec);
    if (ec) {
      error = "cannot close: " + ec.message();
      return false;
    }
    d.state = State::Closing;
  }
  d.runUntil([&d] { return d.state == State::Closed || d.state == State::Failed; });
  if (d.state == State::Closed) return true;
  error = d.state == State::Failed ? "connection failed while closing"
                                   : "timed out waiting for the server to close";
  return false;
}

const std::optional<CloseFrame>& WsClient::peerClose() const {
  return impl_->peerClose;
}

std::string WsClient::describePeerClose() const {
  // 1005 and 1006 are never sent in a frame: websocketpp reports them for a close without
  // a status and for a connection that dropped without a close frame.
  const auto& peer = impl_->peerClose;
  if (!peer || peer->code == core::wireCode(core::CloseCode::NoStatus) ||
      peer->code == core::wireCode(core::CloseCode::Abnormal))
    return "";
  std::string text = " (close code " + std::to_string(peer->code);
  if (!peer->reason.empty()) text += ": " + peer->reason;
  return text + ")";
}

}  // namespace wampd::ctl
