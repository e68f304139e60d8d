// WAMP v1 sessions (subprotocol "wamp", or none): decodes each client message, drives the
// broker and dealer, and answers on the wire exactly as Ratchet/Gos do.
#pragma once

#include <string>
#include <string_view>

#include "session/session.h"
#include "wamp/v1_codec.h"

namespace wampd::core {

class Wamp1Session final : public Session {
 public:
  using Session::Session;

  int wampVersion() const noexcept override { return 1; }
  std::string_view protocol() const noexcept override { return "v1"; }
  void onMessage(std::string_view payload, bool binary) override;
  void shutdown() noexcept override;

  bool receivesEvents() const noexcept override { return !closing(); }
  bool deliver(Event& event) noexcept override;
  /// Tells the client its subscription ended without its asking (reload), in the
  /// CALLERROR shape Gos uses for topic errors.
  void subscriptionRevoked(const std::string& topic, std::uint64_t subscriptionId,
                           const Status& why) noexcept override;

  /// Per-connection bounds: a client may not grow the server without limit.
  static constexpr std::size_t kMaxPrefixes = 256;
  static constexpr std::size_t kMaxUriLength = 2048;

 private:
  void prefix(wamp1::Prefix& m);
  void call(wamp1::Call& m);
  void subscribe(wamp1::Subscribe& m);
  void unsubscribe(wamp1::Unsubscribe& m);
  void publish(wamp1::Publish& m);

  /// Answers a broker outcome: closes on a missing route, sends Gos's CALLERROR-shaped
  /// error for a failed handler, ignores the rest.
  void answerTopic(const std::string& topic, const Broker::Result& result, const char* event);
  void fail(Fault fault, const std::string& detail);
  void answerCall(const Value& callId, const std::string& uri, const Array& args,
                  const Status& status, const Value& result, bool fromHandler);

  /// Which of an Event's frames is WAMP v1's.
  static constexpr std::size_t kFrameSlot = 0;

  wamp1::PrefixMap prefixes_;
};

}  // namespace wampd::core
