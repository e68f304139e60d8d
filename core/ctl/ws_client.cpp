#include "ctl/ws_client.h"

#include <openssl/x509.h>

#include <asio/ssl/host_name_verification.hpp>
#include <deque>
#include <websocketpp/client.hpp>
#include <websocketpp/config/asio_client.hpp>

#include "common/errors.h"
#include "ctl/server_url.h"

namespace wampd::ctl {
namespace {

using PlainEndpoint = websocketpp::client<websocketpp::config::asio_client>;
using TlsEndpoint = websocketpp::client<websocketpp::config::asio_tls_client>;

enum class State { Idle, Connecting, Open, Closing, Closed, Failed };

WsClient::Trust trust;

}  // namespace

void WsClient::setTrust(Trust how) {
  trust = std::move(how);
}

// What the calls below need of either endpoint (ws:// or wss://).
struct WsClient::Impl {
  virtual ~Impl() = default;
  virtual bool connect(const std::string& url, const std::string& shownUrl,
                       const std::string& subprotocol, std::string& error) = 0;
  virtual bool send(const std::string& text, std::string& error) = 0;
  virtual bool receive(std::string& message, std::string& error) = 0;
  virtual bool close(std::uint16_t code, std::string& error) = 0;
  std::optional<CloseFrame> peerClose;
};

namespace {

// Single-threaded: the caller's thread runs the io_context only inside runUntil(), so the
// handlers and the blocking calls never race.
template <class Endpoint>
struct Client final : WsClient::Impl {
  using Clock = WsClient::Clock;
  explicit Client(Clock::time_point until, const std::string& host) : deadline(until) {
    if constexpr (std::is_same_v<Endpoint, TlsEndpoint>) {
      endpoint.set_tls_init_handler(
          [this, host](websocketpp::connection_hdl) { return tlsContext(host); });
    }
    endpoint.clear_access_channels(websocketpp::log::alevel::all);
    endpoint.clear_error_channels(websocketpp::log::elevel::all);
    endpoint.init_asio();
    endpoint.set_open_handler([this](websocketpp::connection_hdl) { state = State::Open; });
    endpoint.set_fail_handler([this](websocketpp::connection_hdl) {
      state = State::Failed;
      failure = describeFailure();
    });
    endpoint.set_message_handler(
        [this](websocketpp::connection_hdl, typename Endpoint::message_ptr msg) {
          inbox.push_back(msg->get_payload());
        });
    endpoint.set_close_handler([this](websocketpp::connection_hdl) {
      state = State::Closed;
      peerClose = CloseFrame{static_cast<std::uint16_t>(connection->get_remote_close_code()),
                             connection->get_remote_close_reason()};
    });
  }

  // Verifies the chain against --ca (else the system's CAs) and the URL's host name, unless
  // --insecure; says why a certificate was refused.
  std::shared_ptr<asio::ssl::context> tlsContext(const std::string& host) {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    asio::error_code ec;
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    if (trust.insecure) {
      context->set_verify_mode(asio::ssl::verify_none, ec);
      return context;
    }
    if (trust.caFile.empty())
      context->set_default_verify_paths(ec);
    else
      context->load_verify_file(trust.caFile, ec);
    if (ec) {
      tlsFailure = "cannot load the CA file " + trust.caFile + ": " + ec.message();
      return nullptr;
    }
    context->set_verify_mode(asio::ssl::verify_peer, ec);
    std::string bare = host;  // an IPv6 literal without its brackets
    if (bare.size() > 2 && bare.front() == '[') bare = bare.substr(1, bare.size() - 2);
    context->set_verify_callback(
        [this, verify = asio::ssl::host_name_verification(bare), bare](
            bool preverified, asio::ssl::verify_context& store) mutable {
          const bool ok = verify(preverified, store);
          if (!ok && tlsFailure.empty()) {
            const int code = X509_STORE_CTX_get_error(store.native_handle());
            tlsFailure = code != X509_V_OK
                             ? std::string("certificate refused: ") +
                                   X509_verify_cert_error_string(code) +
                                   " (trust it with --ca FILE, or skip checks with --insecure)"
                             : "certificate refused: it is not for host '" + bare + "'";
          }
          return ok;
        },
        ec);
    return context;
  }

  ~Client() override {
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
    if (!tlsFailure.empty()) return tlsFailure;
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

  bool connect(const std::string& url, const std::string& shownUrl, const std::string& subprotocol,
               std::string& error) override {
    websocketpp::lib::error_code ec;
    connection = endpoint.get_connection(url, ec);
    if (ec) {
      error = "invalid URL '" + shownUrl + "': " + ec.message();
      return false;
    }
    // A server with auth.allowed_origins checks Origin; Oro's backend sends its server's host.
    connection->replace_header("Origin", connection->get_uri()->get_host());
    connection->add_subprotocol(subprotocol, ec);
    if (ec) {
      error = "invalid subprotocol '" + subprotocol + "': " + ec.message();
      return false;
    }
    connection->set_open_handshake_timeout(remainingMillis());
    connection->set_close_handshake_timeout(remainingMillis());
    state = State::Connecting;
    endpoint.connect(connection);
    runUntil([this] { return state != State::Connecting; });
    switch (state) {
      case State::Open:
        return true;
      case State::Failed:
        error = "cannot connect to " + shownUrl + ": " + failure;
        return false;
      case State::Connecting:
        error = "timed out connecting to " + shownUrl;
        return false;
      default:
        error = "connection to " + shownUrl + " ended during the handshake";
        return false;
    }
  }

  bool send(const std::string& text, std::string& error) override {
    if (state != State::Open) {
      error = "connection is not open";
      return false;
    }
    websocketpp::lib::error_code ec = connection->send(text, websocketpp::frame::opcode::text);
    if (ec) {
      error = "cannot send: " + ec.message();
      return false;
    }
    return true;
  }

  bool receive(std::string& message, std::string& error) override {
    runUntil([this] { return !inbox.empty() || state == State::Closed || state == State::Failed; });
    if (!inbox.empty()) {
      message = std::move(inbox.front());
      inbox.pop_front();
      return true;
    }
    if (state == State::Closed || state == State::Failed)
      error = "server closed the connection";
    else
      error = "timed out waiting for the server";
    return false;
  }

  bool close(std::uint16_t code, std::string& error) override {
    if (state == State::Open) {
      websocketpp::lib::error_code ec;
      connection->close(code, "", ec);
      if (ec) {
        error = "cannot close: " + ec.message();
        return false;
      }
      state = State::Closing;
    }
    runUntil([this] { return state == State::Closed || state == State::Failed; });
    if (state == State::Closed) return true;
    error = state == State::Failed ? "connection failed while closing"
                                   : "timed out waiting for the server to close";
    return false;
  }

  Clock::time_point deadline;
  Endpoint endpoint;
  typename Endpoint::connection_ptr connection;
  State state = State::Idle;
  std::string failure;
  std::string tlsFailure;  // why the server's certificate was refused
  std::deque<std::string> inbox;
};

}  // namespace

WsClient::WsClient(Clock::time_point deadline) : deadline_(deadline) {}

WsClient::~WsClient() = default;

bool WsClient::connect(const std::string& url, const std::string& shownUrl,
                       const std::string& subprotocol, std::string& error) {
  WsUrl parsed;
  if (!parseWsUrl(url, parsed, error)) {
    error = "invalid URL '" + shownUrl + "': " + error;
    return false;
  }
  if (parsed.scheme == "wss")
    impl_ = std::make_unique<Client<TlsEndpoint>>(deadline_, parsed.host);
  else
    impl_ = std::make_unique<Client<PlainEndpoint>>(deadline_, parsed.host);
  return impl_->connect(url, shownUrl, subprotocol, error);
}

bool WsClient::send(const std::string& text, std::string& error) {
  if (!impl_) {
    error = "connection is not open";
    return false;
  }
  return impl_->send(text, error);
}

bool WsClient::receive(std::string& message, std::string& error) {
  if (!impl_) {
    error = "connection is not open";
    return false;
  }
  return impl_->receive(message, error);
}

bool WsClient::close(std::uint16_t code, std::string& error) {
  if (!impl_) return true;
  return impl_->close(code, error);
}

const std::optional<CloseFrame>& WsClient::peerClose() const {
  static const std::optional<CloseFrame> none;
  return impl_ ? impl_->peerClose : none;
}

std::string WsClient::describePeerClose() const {
  // 1005 and 1006 are never sent in a frame: websocketpp reports them for a close without
  // a status and for a connection that dropped without a close frame.
  const auto& peer = peerClose();
  if (!peer || peer->code == core::wireCode(core::CloseCode::NoStatus) ||
      peer->code == core::wireCode(core::CloseCode::Abnormal))
    return "";
  std::string text = " (close code " + std::to_string(peer->code);
  if (!peer->reason.empty()) text += ": " + peer->reason;
  return text + ")";
}

}  // namespace wampd::ctl
