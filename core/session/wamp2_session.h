// WAMP v2 sessions (wamp.2.json, wamp.2.msgpack): session life (HELLO, CHALLENGE/AUTHENTICATE,
// WELCOME, GOODBYE, ABORT), the broker and dealer roles, and protocol violations.
// Topics, routes and plugin handlers are the same as for WAMP v1: a handler never knows
// which version its subscribers speak.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "session/session.h"
#include "wamp/v2_codec.h"

namespace wampd::core {

class Wamp2Session final : public Session, public Callee {
 public:
  /// `mustAuthenticate`: the handshake let this session in only on condition that HELLO
  /// authenticates it (auth.allow_anonymous is off and no ticket came with the upgrade).
  Wamp2Session(SessionId id, Link& link, Identity identity, SessionServices services,
               wamp2::Serializer serializer, bool mustAuthenticate)
      : Session(id, link, std::move(identity), services),
        serializer_(serializer),
        mustAuthenticate_(mustAuthenticate) {}

  int wampVersion() const noexcept override { return 2; }
  std::string_view protocol() const noexcept override {
    return serializer_ == wamp2::Serializer::Json ? "v2_json" : "v2_msgpack";
  }
  void onMessage(std::string_view payload, bool binary) override;
  /// The closing handshake (1001) with no GOODBYE, so that the client reconnects.
  void shutdown() noexcept override;
  Callee* asCallee() noexcept override { return this; }

  bool receivesEvents() const noexcept override {
    return !closing() && phase_ == Phase::Established;
  }
  bool deliver(Event& event) noexcept override;
  /// Tells the subscriber its subscription ended, when it announced that it understands
  /// subscription revocation.
  void subscriptionRevoked(const std::string& topic, std::uint64_t subscriptionId,
                           const Status& why) noexcept override;

  void invoke(std::uint64_t invocation, std::uint64_t registration, Object details,
              const Array& args, const Object* kwargs) noexcept override;
  bool understandsInterrupt() const noexcept override { return calleeCanceling_; }
  void interrupt(std::uint64_t invocation, const char* mode) noexcept override;

  /// Largest request id gap tolerated: ids must grow, by at most this much.
  static constexpr std::uint64_t kMaxRequestIdStep = std::uint64_t{1} << 32;

 private:
  enum class Phase { AwaitingHello, Challenged, Established, Closed };

  void hello(const Array& m);
  void authenticate(const Array& m);
  void welcome(const std::string& authmethod);
  void goodbye();
  void publish(const Array& m);
  void subscribe(const Array& m);
  void unsubscribe(const Array& m);
  void call(const Array& m);
  void cancel(const Array& m);
  void registerProcedure(const Array& m);
  void unregister(const Array& m);
  void yield(const Array& m);
  void error(const Array& m);
  /// Session-scope request ids must be increasing (the spec: sequential from 1).
  bool checkRequestId(std::uint64_t id);
  /// ABORT with the fault's URI, then close; for protocol violations and refused sessions.
  void abort(Fault fault, const std::string& message);
  void sendError(int requestType, std::uint64_t request, const std::string& uri,
                 const std::string& message);
  void sendError(int requestType, std::uint64_t request, Fault fault, const std::string& message);
  /// Sends one message in this session's serializer.
  void send(const Array& message);

  /// Which of an Event's frames is this serializer's.
  std::size_t frameSlot() const noexcept { return serializer_ == wamp2::Serializer::Json ? 1 : 2; }

  wamp2::Serializer serializer_;
  bool mustAuthenticate_;
  Phase phase_ = Phase::AwaitingHello;
  std::string realm_;
  /// The last request id this client used (session scope).
  std::uint64_t lastRequestId_ = 0;
  /// The client announced roles.subscriber.features.subscription_revocation.
  bool revocationSupported_ = false;
  /// The client announced roles.callee.features.call_canceling (it understands INTERRUPT).
  bool calleeCanceling_ = false;
  /// HELLO asked for ticket authentication with this authid (the username).
  std::string pendingAuthid_;
  /// Subscriptions whose SUBSCRIBED waits for the cluster (Broker::cluster): their events
  /// are not delivered before it, as the client does not know their id yet.
  std::vector<std::uint64_t> unconfirmed_;
};

}  // namespace wampd::core
