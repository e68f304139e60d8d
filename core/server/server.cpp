#include "server/server.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <ctime>

#include "auth/backend_cookie.h"
#include "common/errors.h"
#include "wamp/v1_codec.h"

namespace wampd::core {
namespace {

TransportOptions transportOptions(const ServerConfig& config) {
  TransportOptions o;
  o.host = config.host;
  o.port = config.port;
  o.maxMessageSize = config.maxMessageSize;
  o.serverHeader = kServerIdent;
  return o;
}

constexpr auto kShutdownGrace = std::chrono::seconds(3);

std::shared_ptr<auth::UserDirectory> userDirectory(const Generation& generation) {
  auto users = std::make_shared<auth::UserDirectory>(generation.config.auth.usersFile);
  for (const auto& provider : generation.plugins.userProviders()) users->addProvider(provider);
  return users;
}

}  // namespace

Server::Server(asio::io_context& io, std::shared_ptr<const Generation> generation)
    : io_(io),
      generation_(std::move(generation)),
      authenticator_(generation_->config.auth, userDirectory(*generation_)),
      broker_(io, BrokerLimits{}),
      wamp1_(broker_, dealer_,
             [this](Session& s, const std::string& uri, const Array& args, Value& result) {
               return builtin(s, uri, args, result);
             }),
      transport_(io, *this, transportOptions(generation_->config)),
      random_(std::random_device{}()) {
  broker_.setGeneration(generation_);
  dealer_.setGeneration(generation_);
}

void Server::start() {
  transport_.listen();
  cookie_ = auth::cookiePath(transport_.boundPort());
  std::string error;
  if (auth::writeCookie(cookie_, authenticator_.backendToken(), error)) {
    spdlog::info("backend token for wampctl written to {}", cookie_);
  } else {
    spdlog::warn("cannot write the backend cookie ({}); wampctl needs auth.secret or --token",
                 error);
    cookie_.clear();
  }
}

Server::~Server() {
  if (!cookie_.empty()) ::unlink(cookie_.c_str());
}

SessionId Server::newSessionId() {
  // WAMP ids are in [1, 2^53] so that JavaScript clients hold them exactly.
  for (;;) {
    SessionId id = (random_() & ((SessionId{1} << 53) - 1)) + 1;
    if (!sessions_.count(id) && !pending_.count(id)) return id;
  }
}

HandshakeAnswer Server::onHandshake(const HandshakeRequest& request) {
  HandshakeAnswer answer;
  if (shuttingDown_) {
    answer.accept = false;
    answer.httpStatus = 503;
    answer.reason = "Server shutting down";
    return answer;
  }
  // WAMP v1 is subprotocol "wamp"; Oro's clients sometimes offer none, which Ratchet accepts.
  if (!request.subprotocols.empty()) {
    bool offered = false;
    for (const auto& p : request.subprotocols) offered = offered || p == "wamp";
    if (!offered) {
      answer.accept = false;
      answer.httpStatus = 400;
      answer.reason = "Unsupported WebSocket subprotocol; this server speaks: wamp";
      spdlog::info("refused handshake from {}: subprotocols offered were not supported",
                   request.remoteAddress);
      return answer;
    }
    answer.subprotocol = "wamp";
  }
  auth::Decision decision = authenticator_.authenticate(request.resource, request.origin,
                                                        request.remoteAddress, std::time(nullptr));
  if (!decision.accept) {
    spdlog::warn("refused handshake from {}: {}", request.remoteAddress, decision.reason);
    answer.accept = false;
    answer.httpStatus = decision.httpStatus;
    answer.reason = "Forbidden: " + decision.reason;
    return answer;
  }
  const SessionId id = newSessionId();
  spdlog::debug("session {} from {}: {}{}", id, request.remoteAddress,
                decision.identity.anonymous ? std::string("anonymous")
                                            : "user '" + decision.identity.username + "'",
                decision.identity.backend ? " (backend)" : "");
  pending_.emplace(id, std::move(decision.identity));
  answer.token = id;
  answer.openingMessage = wamp1::encodeWelcome(std::to_string(id), kServerIdent);
  return answer;
}

void Server::onOpen(Link& link, std::uint64_t token) {
  Identity identity;
  if (auto it = pending_.find(token); it != pending_.end()) {
    identity = std::move(it->second);
    pending_.erase(it);
  }
  auto session = std::make_unique<Session>(token, link, std::move(identity));
  link.context = session.get();
  spdlog::debug("session {} opened from {}", session->idText(), link.remoteAddress());
  if (shuttingDown_) {
    session->closing = true;
    const FaultInfo& info = describe(Fault::ServerShutdown);
    link.close(info.closeCode, info.reason);
  }
  sessions_.emplace(token, std::move(session));
}

void Server::onMessage(Link& link, std::string_view payload, bool binary) {
  auto* session = static_cast<Session*>(link.context);
  if (session) wamp1_.onMessage(*session, payload, binary);
}

void Server::onClose(Link& link, std::uint16_t code, std::string_view reason) {
  auto* session = static_cast<Session*>(link.context);
  if (!session) return;
  spdlog::debug("session {} closed ({} {})", session->idText(), code, reason);
  broker_.disconnect(*session);
  link.context = nullptr;
  sessions_.erase(session->sessionId());
  if (shuttingDown_ && sessions_.empty() && shutdownDeadline_) shutdownDeadline_->cancel();
}

void Server::shutdown() {
  if (shuttingDown_) return;
  shuttingDown_ = true;
  spdlog::info("shutting down: closing {} connections", sessions_.size());
  transport_.stopListening();
  const FaultInfo& info = describe(Fault::ServerShutdown);
  for (auto& [id, session] : sessions_) {
    session->closing = true;
    session->link().close(info.closeCode, info.reason);
  }
  if (sessions_.empty()) return;
  shutdownDeadline_ = std::make_unique<asio::steady_timer>(io_, kShutdownGrace);
  shutdownDeadline_->async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    spdlog::warn("shutdown: {} connections did not close in time", sessions_.size());
    io_.stop();
  });
}

bool Server::builtin(Session&, const std::string& uri, const Array&, Value& result) {
  if (uri != "wampd.topics") return false;
  const auto counts = broker_.subscribersByRoute();
  Array routes;
  for (const auto& route : generation_->router.routes()) {
    const std::string& callback = route->callback();
    const bool loaded =
        generation_->plugins.topicHandler(callback) || generation_->plugins.rpcHandler(callback);
    auto it = counts.find(route->name());
    routes.push_back(
        Object{{"name", Value(route->name())},
               {"channel", Value(route->spec().channel)},
               {"callback", Value(callback)},
               {"handler_loaded", Value(loaded)},
               {"subscribers", Value(it == counts.end() ? std::size_t{0} : it->second)},
               {"generation", Value(generation_->number)}});
  }
  result = Value(std::move(routes));
  return true;
}

}  // namespace wampd::core
