// A session as the router roles see it. The broker and the dealer deliver through this
// interface and never ask which WAMP version a session speaks: each session class
// (core/session) encodes its own frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_set>

#include "router/event.h"
#include "wampd/connection.h"
#include "wampd/status.h"

namespace wampd::core {

class TopicState;

class Peer : public wampd::Connection {
 public:
  /// WAMP v2 authid and authrole (identity filters, disclosure).
  virtual std::string authid() const = 0;
  virtual std::string authrole() const = 0;

  /// False while the session cannot take events (not yet established, or closing).
  virtual bool receivesEvents() const noexcept = 0;
  /// Bytes queued for this session and not yet written.
  virtual std::size_t queuedBytes() const noexcept = 0;
  /// Queues `event` in the session's wire format, reusing the frame another recipient of
  /// the same format already made. False when the event cannot be encoded.
  virtual bool deliver(Event& event) noexcept = 0;
  /// The session fell too far behind: its backlog is dropped and it ends so that its client
  /// comes back by itself.
  virtual void fellBehind() noexcept = 0;
  /// A reload ended a subscription the client did not end itself.
  virtual void subscriptionRevoked(const std::string& topic, std::uint64_t subscriptionId,
                                   const Status& why) noexcept = 0;

  /// The broker's bookkeeping for this session; nothing else touches it.
  std::unordered_set<TopicState*> topics;
  std::unordered_set<std::uint64_t> patterns;

 protected:
  ~Peer() = default;
};

/// A session that registered procedures (only WAMP v2 clients can): how the dealer reaches
/// it.
class Callee {
 public:
  /// INVOCATION of `registration` for the dealer's `invocation`.
  virtual void invoke(std::uint64_t invocation, std::uint64_t registration, Object details,
                      const Array& args, const Object* kwargs) noexcept = 0;
  /// The callee announced call canceling (it understands INTERRUPT).
  virtual bool understandsInterrupt() const noexcept = 0;
  /// INTERRUPT with `mode`; a callee that does not understand it, or is closing, gets
  /// nothing.
  virtual void interrupt(std::uint64_t invocation, const char* mode) noexcept = 0;

 protected:
  ~Callee() = default;
};

}  // namespace wampd::core
