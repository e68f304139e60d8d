// The broker: topics, their subscribers and periodic timers, publication through the topic
// handlers that routes name, and the migration of live subscriptions when a reload swaps the
// generation. Subscribers are Peers: the broker hands them events and never asks which WAMP
// version they speak.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/metrics_text.h"
#include "reload/generation.h"
#include "router/cluster_port.h"
#include "router/peer.h"
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
    /// SUBSCRIBE: the subscription id (one per topic); PUBLISH: the publication id.
    std::uint64_t id = 0;
  };

  /// What a generation swap did to the live topics.
  struct Migration {
    std::size_t kept = 0;     // same handler instance: untouched
    std::size_t moved = 0;    // another handler took the subscribers (it saw onSubscribe)
    std::size_t dropped = 0;  // no route or handler any more: subscribers unsubscribed
  };
  Broker(asio::io_context& io, BrokerLimits limits);
  ~Broker();

  /// Serves `generation` from now on, carrying every live topic over (see Migration); a
  /// subscriber whose subscription ends is told (Peer::subscriptionRevoked).
  /// noexcept: it runs inside the reload's swap (Server::swap), which may not fail halfway;
  /// handlers report through Status, so only an allocation failure could throw here.
  Migration setGeneration(std::shared_ptr<const Generation> generation) noexcept;

  /// What a WAMP v2 PUBLISH adds to a publication (advanced profile options).
  struct PublishOptions {
    bool discloseMe = false;
    std::vector<std::string> eligibleAuthid, excludeAuthid, eligibleAuthrole, excludeAuthrole;
    /// The publisher's own payload: v2 subscribers get it as sent when the handler
    /// broadcasts the event unchanged.
    const Array* args = nullptr;
    const Object* kwargs = nullptr;
  };

  /// Serves a cluster from now on (core/cluster): the events handlers broadcast for
  /// publications go to the other nodes too, and topics with subscribers are announced.
  /// Null: this node alone. Set before the first subscription.
  void setCluster(ClusterPort* cluster) noexcept { cluster_ = cluster; }
  ClusterPort* cluster() const noexcept { return cluster_; }

  /// An event another node's handler broadcast, as that node's ClusterPort::forward sent it.
  struct RemoteEvent {
    std::string topic;
    Value payload;
    std::uint64_t publication = 0;
    SessionIds exclude, eligible;
    /// Identity filters and disclosure; args/kwargs are set by deliverRemote.
    PublishOptions options;
    SessionId publisher = 0;  // disclosed publisher, or 0
    std::string publisherAuthid, publisherAuthrole;
    bool hasArgs = false, hasKwargs = false;
    Array args;
    Object kwargs;
  };
  /// Delivers another node's event to this node's subscribers of its topic (exact, and
  /// pattern subscribers the topic's handler admitted) without calling the handler.
  void deliverRemote(RemoteEvent& event) noexcept;

  Result subscribe(Peer& session, const std::string& uri);
  /// WAMP v2 SUBSCRIBE with match "prefix" or "wildcard". A pattern subscriber receives a
  /// concrete topic's events once the topic's handler admitted it (onSubscribe said ok).
  Result subscribePattern(Peer& session, const std::string& match, const std::string& pattern);
  static bool patternMatches(const std::string& match, const std::string& pattern,
                             std::string_view uri);
  Result unsubscribe(Peer& session, const std::string& uri);
  /// WAMP v2 UNSUBSCRIBE names the subscription id.
  Result unsubscribeById(Peer& session, std::uint64_t subscriptionId);
  Result publish(Peer& session, const std::string& uri, const Value& event,
                 const SessionIds& exclude, const SessionIds& eligible,
                 const PublishOptions* options = nullptr);
  /// Leaves every topic of a closing session (handlers see onUnSubscribe).
  void disconnect(Peer& session);

  /// Subscribers per route name, for `wampctl topics`.
  struct RouteCounts {
    std::size_t total = 0, v1 = 0, v2 = 0;
  };
  std::map<std::string, RouteCounts> subscribersByRoute() const;

  /// Totals since the server started, for `wampctl stats`.
  struct Counters {
    std::uint64_t publications = 0;         // PUBLISH received (v1, v2, wampctl)
    std::uint64_t publicationsRefused = 0;  // of those: no route, no handler, or refused
    std::uint64_t events = 0;               // events handlers broadcast
    std::uint64_t deliveries = 0;           // EVENT frames queued for subscribers
    std::uint64_t slowSubscribersDisconnected = 0;
    std::uint64_t notForwarded = 0;  // events the cluster could not take (Redis away)
    std::uint64_t remoteEvents = 0;  // events from other nodes delivered here
  };
  const Counters& counters() const noexcept { return counters_; }
  std::size_t topicCount() const noexcept { return topics_.size(); }
  /// Exact subscriptions plus pattern subscriptions, over all sessions.
  std::size_t subscriptionCount() const noexcept;

  /// Seconds from a publication's arrival to the end of the write pass that sent its events
  /// (Transport: everything queued in one turn leaves in one write per socket).
  const Histogram& publishToWrite() const noexcept { return publishToWrite_; }
  /// The write pass after the publications since the last call is done.
  void writesDone() noexcept;

 private:
  friend class TopicState;
  /// Existing topic state, or a new one (not yet stored) when `uri` routes to a handler.
  std::shared_ptr<TopicState> resolve(const std::string& uri, Result& result);
  void removeSubscriber(TopicState& topic, Peer& session);
  void store(const std::shared_ptr<TopicState>& topic);
  void forget(TopicState& topic);
  Result publishUncounted(Peer& session, const std::string& uri, const Value& event,
                          const SessionIds& exclude, const SessionIds& eligible,
                          const PublishOptions* options);
  /// A random id in [1, 2^53] (the spec's "global scope").
  std::uint64_t newId();

  asio::io_context& io_;
  BrokerLimits limits_;
  std::shared_ptr<const Generation> generation_;
  std::unordered_map<std::string, std::shared_ptr<TopicState>> topics_;
  std::unordered_map<std::uint64_t, TopicState*> bySubscriptionId_;
  struct PatternSubscription {
    std::uint64_t id = 0;
    std::string match, pattern;
    std::vector<Peer*> sessions;
  };
  std::map<std::pair<std::string, std::string>, PatternSubscription> patterns_;  // stable nodes
  std::unordered_map<std::uint64_t, PatternSubscription*> patternsById_;
  /// Asks the topic's handler about every matching pattern subscriber it has no verdict on.
  void admitPatternSubscribers(TopicState& topic);
  /// Tells the handler about every admission to `topic` and drops its verdicts.
  void endPatternAdmissions(TopicState& topic);
  /// Drops the session's verdict on `topic` (told when it was an admission), forgetting a
  /// topic nothing else keeps.
  void endPatternAdmission(TopicState& topic, Peer& session);
  void tellUnSubscribed(TopicState& topic, Peer& session);
  bool matchesPatternOf(const Peer& session, std::string_view uri) const;
  void leavePattern(Peer& session, std::uint64_t id);
  Counters counters_;
  // Arrival times of publications whose events wait for the next write pass; bounded, as a
  // pass may not come while every subscriber's socket is full.
  std::vector<std::chrono::steady_clock::time_point> unwritten_;
  Histogram publishToWrite_{{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                             0.05, 0.1, 0.25, 0.5, 1}};
  std::mt19937_64 random_{std::random_device{}()};
  ClusterPort* cluster_ = nullptr;
};

}  // namespace wampd::core
