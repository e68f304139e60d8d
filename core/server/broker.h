// The broker: topics, their subscribers and periodic timers, and publication through the
// topic handlers that routes name.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>

#include "config/generation.h"
#include "server/session.h"
#include "wampd/status.h"

namespace asio {
class io_context;
}

namespace wampd::core {

struct BrokerLimits {
  /// Subscriptions one session may hold.
  std::size_t maxSubscriptionsPerSession = 10000;
  /// Bytes queued for one subscriber beyond which it is disconnected (1008) rather than
  /// allowed to grow the server's memory.
  std::size_t maxSendQueueBytes = 4 * 1024 * 1024;
};

class Broker {
 public:
  enum class Outcome {
    Done,       // subscribed / unsubscribed / handed to the handler
    Duplicate,  // already subscribed: ignored, as Ratchet does
    NotSubscribed,
    NoRoute,    // no route matches the topic
    NoHandler,  // the route's handler is not loaded: logged and ignored
    Failed,     // the handler refused or failed: see status
    LimitReached,
  };
  struct Result {
    Outcome outcome = Outcome::Done;
    Status status;
  };

  /// What a generation swap did to the live topics.
  struct Migration {
    std::size_t kept = 0;     // same handler instance: untouched
    std::size_t moved = 0;    // another handler took the subscribers (it saw onSubscribe)
    std::size_t dropped = 0;  // no route or handler any more: subscribers unsubscribed
  };
  /// Told when a swap ends a subscription (route gone, or the new handler refused it).
  using RevokedCallback =
      std::function<void(Session&, const std::string& topic, const Status& why)>;

  Broker(asio::io_context& io, BrokerLimits limits);
  ~Broker();

  void setRevokedCallback(RevokedCallback callback) { revoked_ = std::move(callback); }
  /// Serves `generation` from now on, carrying every live topic over (see Migration).
  Migration setGeneration(std::shared_ptr<const Generation> generation);

  Result subscribe(Session& session, const std::string& uri);
  Result unsubscribe(Session& session, const std::string& uri);
  Result publish(Session& session, const std::string& uri, const Value& event,
                 const SessionIds& exclude, const SessionIds& eligible);
  /// Leaves every topic of a closing session (handlers see onUnSubscribe).
  void disconnect(Session& session);

  /// Subscribers per route name, for `wampctl topics`.
  std::map<std::string, std::size_t> subscribersByRoute() const;
  std::size_t topicCount() const noexcept { return topics_.size(); }

 private:
  friend class TopicState;
  /// Existing topic state, or a new one (not yet stored) when `uri` routes to a handler.
  std::shared_ptr<TopicState> resolve(const std::string& uri, Result& result);
  void removeSubscriber(TopicState& topic, Session& session);

  asio::io_context& io_;
  BrokerLimits limits_;
  std::shared_ptr<const Generation> generation_;
  std::unordered_map<std::string, std::shared_ptr<TopicState>> topics_;
  RevokedCallback revoked_;
};

}  // namespace wampd::core
