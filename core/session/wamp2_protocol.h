// WAMP v2 sessions (wamp.2.json, wamp.2.msgpack): session life (HELLO, CHALLENGE/AUTHENTICATE,
// WELCOME, GOODBYE, ABORT), the broker and dealer roles, and protocol violations.
// Topics, routes and plugin handlers are the same as for WAMP v1: a handler never knows
// which version its subscribers speak.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "auth/authenticator.h"
#include "router/broker.h"
#include "router/dealer.h"
#include "session/session.h"
#include "session/wamp1_protocol.h"

namespace wampd::core {

class Wamp2Protocol {
 public:
  using AuthenticatorLookup = std::function<const auth::Authenticator&()>;
  using RealmLookup = std::function<const std::vector<std::string>&()>;

  Wamp2Protocol(Broker& broker, Dealer& dealer, BuiltinProcedure builtins, SessionLookup sessions,
                AuthenticatorLookup authenticator, RealmLookup realms)
      : broker_(broker),
        dealer_(dealer),
        builtins_(std::move(builtins)),
        sessions_(std::move(sessions)),
        authenticator_(std::move(authenticator)),
        realms_(std::move(realms)) {}

  void onMessage(Session& session, std::string_view payload, bool binary);
  /// Tells a subscriber its subscription ended (reload), when it announced that it
  /// understands subscription revocation.
  void revoked(Session& session, std::uint64_t subscriptionId, const Status& why);
  /// ABORT with `reason` and close; for protocol violations and refused sessions.
  void abort(Session& session, const std::string& reason, const std::string& message);

  /// Largest request id gap tolerated: ids must grow, by at most this much.
  static constexpr std::uint64_t kMaxRequestIdStep = std::uint64_t{1} << 32;

 private:
  void hello(Session& s, const Array& m);
  void authenticate(Session& s, const Array& m);
  void welcome(Session& s, const std::string& authmethod);
  void goodbye(Session& s);
  void publish(Session& s, const Array& m);
  void subscribe(Session& s, const Array& m);
  void unsubscribe(Session& s, const Array& m);
  void call(Session& s, const Array& m);
  void cancel(Session& s, const Array& m);
  void registerProcedure(Session& s, const Array& m);
  void unregister(Session& s, const Array& m);
  void yield(Session& s, const Array& m);
  void error(Session& s, const Array& m);
  /// Session-scope request ids must be increasing (the spec: sequential from 1).
  bool checkRequestId(Session& s, std::uint64_t id);
  void sendError(Session& s, int requestType, std::uint64_t request, const std::string& uri,
                 const std::string& message);

  Broker& broker_;
  Dealer& dealer_;
  BuiltinProcedure builtins_;
  SessionLookup sessions_;
  AuthenticatorLookup authenticator_;
  RealmLookup realms_;
};

}  // namespace wampd::core
