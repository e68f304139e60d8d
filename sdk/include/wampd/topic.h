// wampd::Topic: one concrete topic URI with its subscribers, as a handler sees it.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <type_traits>

#include "wampd/connection.h"
#include "wampd/value.h"

namespace wampd {

/// Implemented by the host. Valid only for the duration of the handler call it is passed to.
class Topic {
 public:
  /// The full topic URI, e.g. "oro/email_event/5/1".
  virtual std::string_view uri() const noexcept = 0;
  virtual std::size_t subscriberCount() const noexcept = 0;
  /// Calls `visit(connection)` for each current subscriber.
  virtual void forEachSubscriber(void (*visit)(const Connection&, void*),
                                 void* context) const noexcept = 0;
  /// Sends `event` to every subscriber except those in `exclude`; when `eligible` is not
  /// empty, only to those in it (an empty list means no restriction, as Ratchet does).
  /// The event is serialized once per wire format, whatever the number of subscribers.
  /// In a cluster (wampd's `cluster:` section) what a handler broadcasts while handling a
  /// publication (onPublish) reaches every node's subscribers, with the same filters; what it
  /// broadcasts at any other time (a timer, onSubscribe, onUnSubscribe) reaches this node's
  /// subscribers only, so a periodic event is sent once by each node to its own.
  virtual void broadcast(const Value& event, const SessionIds& exclude = {},
                         const SessionIds& eligible = {}) noexcept = 0;

  /// Convenience over forEachSubscriber for lambdas.
  template <class F>
  void forEach(F&& f) const noexcept {
    // F is a reference type for lvalue callables, and may be const.
    using Callable = std::remove_reference_t<F>;
    forEachSubscriber([](const Connection& c, void* ctx) { (*static_cast<Callable*>(ctx))(c); },
                      const_cast<void*>(static_cast<const void*>(std::addressof(f))));
  }

 protected:
  ~Topic() = default;
};

}  // namespace wampd
