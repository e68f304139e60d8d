// wampd::TopicHandler: the class a plugin derives to serve PubSub topics, the C++ twin of
// Gos's TopicInterface (+ TopicPeriodicTimerInterface).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "wampd/connection.h"
#include "wampd/request.h"
#include "wampd/status.h"
#include "wampd/topic.h"
#include "wampd/value.h"

namespace wampd {

/// A timer the host runs for each topic of a handler, only while that topic has
/// subscribers: it starts with the first subscriber and stops when the last one leaves
/// (by unsubscribing or disconnecting).
struct PeriodicTimer {
  std::string name;
  std::chrono::milliseconds interval{0};
};

/// Serves the topics of every route whose `handler.callback` equals getName().
///
/// The host calls a handler from its one I/O thread, never concurrently. Handlers may throw:
/// Hosted<T> (plugin.h), through which the host calls, turns that into a Status; the client
/// gets an error and everyone else is unaffected.
class TopicHandler {
 public:
  virtual ~TopicHandler() = default;

  /// The callback name routes refer to (`handler: { callback: NAME }`).
  virtual std::string getName() const = 0;

  /// A connection asks to subscribe to `topic`. Returning a non-ok Status refuses it: the
  /// subscription is not registered and the client is told why.
  virtual Status onSubscribe(Connection& connection, Topic& topic, const Request& request);
  /// A connection left `topic`, by unsubscribing or by disconnecting.
  virtual void onUnSubscribe(Connection& connection, Topic& topic, const Request& request);
  /// A connection published `event`. `exclude` and `eligible` are session ids as the
  /// publisher sent them (`exclude: true` arrives as the publisher's own id). Nothing is
  /// delivered unless the handler broadcasts.
  virtual Status onPublish(Connection& connection, Topic& topic, const Request& request,
                           const Value& event, const SessionIds& exclude,
                           const SessionIds& eligible) = 0;

  /// The periodic timers to run per subscribed topic; called once, after construction.
  virtual std::vector<PeriodicTimer> periodicTimers() const { return {}; }
  /// One of periodicTimers() fired for `topic`.
  virtual void onTimer(Topic& topic, const PeriodicTimer& timer);
};

inline Status TopicHandler::onSubscribe(Connection&, Topic&, const Request&) {
  return {};
}
inline void TopicHandler::onUnSubscribe(Connection&, Topic&, const Request&) {}
inline void TopicHandler::onTimer(Topic&, const PeriodicTimer&) {}

}  // namespace wampd
