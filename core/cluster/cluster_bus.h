// A wampd node's part in a cluster on Redis: one Redis channel per topic (PREFIX:TOPIC) that
// this node's handlers' events go out on and that this node subscribes to while it has
// subscribers for the topic; a Redis glob (PSUBSCRIBE) per WAMP v2 pattern its sessions hold;
// a node channel (PREFIX!nodes) where every node reports its figures each second for the
// cluster view of wampd.stats and wampd.topics; a node number (INCR PREFIX!node-number) that
// keeps session ids apart. Two Redis connections: commands (PUBLISH, pipelined: everything
// of one loop turn in one write) and subscriptions.
//
// Guarantees: an event reaches each other node once (a node skips its own, and drops a
// sequence number it saw) and, from one node, in the order that node sent it (one
// connection, Redis keeps order per connection). While Redis is away, events reach this
// node's subscribers only (at most once elsewhere).
//
// Constraint: runs on the I/O thread only; no thread of its own.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "cluster/redis_link.h"
#include "router/broker.h"
#include "router/cluster_port.h"

namespace wampd::core::cluster {

struct ClusterSettings {
  RedisAddress redis;
  std::string prefix = "wampd";
  /// For logs and stats; empty: this start's node id.
  std::string node;
};

/// The message on a topic's channel: msgpack of [1, origin node id, sequence, topic, event
/// fields...]. `sequence` counts the origin's messages from 1.
std::string encodeEvent(const ClusterEvent& event, const std::string& origin,
                        std::uint64_t sequence);
/// False (with `error`) for a message no node of this version wrote.
bool decodeEvent(std::string_view bytes, Broker::RemoteEvent& event, std::string& origin,
                 std::uint64_t& sequence, std::string& error);

/// The Redis glob (PSUBSCRIBE) that covers every channel of the topics a WAMP v2 pattern
/// matches: `channelPrefix` and the pattern with Redis's glob metacharacters (* ? [ ] \\)
/// escaped, then "*" for a prefix match; for a wildcard match each empty component becomes
/// "*". Redis's "*" also spans dots, so a wildcard's glob is wider than the pattern: the
/// receiver filters precisely (Broker::patternMatches).
std::string redisGlob(std::string_view channelPrefix, std::string_view match,
                      std::string_view pattern);

/// Session ids of a cluster: the node's number (from Redis INCR, once per start) in the top
/// 16 of the 53 bits WAMP allows, 37 random bits below it. Two nodes with different numbers
/// never issue the same id; number 0 (not yet known) keeps ids below 2^37. In [1, 2^53).
constexpr int kSessionNodeShift = 37;
constexpr std::uint32_t kMaxNodeNumber = 65535;
SessionId clusterSessionId(std::uint32_t nodeNumber, std::uint64_t random) noexcept;

class ClusterBus final : public ClusterPort {
 public:
  /// What this node reports; called each second.
  using Report = std::function<Value()>;

  ClusterBus(asio::io_context& io, ClusterSettings settings, Broker& broker, Report report);
  ~ClusterBus();

  void start();
  /// Closes both connections (shutdown): the I/O loop may end.
  void stop();

  bool forward(const ClusterEvent& event) noexcept override;
  void topicWanted(std::string_view topic) noexcept override;
  void topicUnwanted(std::string_view topic) noexcept override;
  void whenReceiving(std::string_view topic, std::function<void()> ready) override;
  void patternWanted(std::string_view match, std::string_view pattern) noexcept override;
  void patternUnwanted(std::string_view match, std::string_view pattern) noexcept override;
  void whenReceivingPattern(std::string_view match, std::string_view pattern,
                            std::function<void()> ready) override;

  const std::string& nodeId() const noexcept { return nodeId_; }
  const std::string& nodeName() const noexcept { return name_; }
  /// This start's number in [1, kMaxNodeNumber] (INCR of PREFIX!node-number, wrapped), 0
  /// until Redis answered it.
  std::uint32_t nodeNumber() const noexcept { return nodeNumber_; }
  bool connected() const noexcept { return pub_->up() && sub_->up(); }

  struct Counters {
    std::uint64_t forwarded = 0, notForwarded = 0, received = 0, duplicates = 0, malformed = 0,
                  redisWrites = 0, redisReconnects = 0;
  };
  Counters counters() const noexcept;

  /// The nodes that reported, this one included: name, seconds since the last report,
  /// stale (no report for 3 s), and the report.
  Value nodes() const;

 private:
  struct Channel {
    bool wanted = false;
    int pending = 0;  // SUBSCRIBEs sent and not yet confirmed
    std::vector<std::function<void()>> waiters;
    int users = 0;  // globs: the broker's patterns that share it (wildcard "a." is prefix "a.")
  };
  void onSubscriberUp();
  void onSubscriberDown(const std::string& why);
  /// A connection that was not up failed (Redis unreachable, or refused the handshake).
  void cannotConnect(const std::string& why);
  void takeNodeNumber(const RedisReply& reply);
  void onPush(RedisReply& reply);
  /// An event from `channelName` (a topic's channel, or one a glob matched: `viaGlob`).
  void onEvent(std::string_view channelName, const std::string& payload, bool viaGlob);
  void ready(Channel& channel);
  void report();
  std::string channelOf(std::string_view topic) const { return std::string(prefix_).append(topic); }

  asio::io_context& io_;
  ClusterSettings settings_;
  Broker& broker_;
  Report report_;
  std::string nodeId_, name_, prefix_, nodesChannel_;
  std::shared_ptr<RedisLink> pub_, sub_;
  std::unordered_map<std::string, Channel> channels_;  // by topic
  // Pattern subscriptions by Redis glob. A topic both subscribed here and matched by a glob
  // arrives twice (message and pmessage, in that order): the sequence check drops the second.
  std::unordered_map<std::string, Channel> globs_;
  std::uint64_t sequence_ = 0;
  // The last sequence seen from each origin: a message at or below it is a duplicate.
  std::unordered_map<std::string, std::uint64_t> seen_;
  struct NodeReport {
    std::string name;
    std::chrono::steady_clock::time_point at;
    Value figures;
  };
  std::map<std::string, NodeReport> reports_;  // by node id
  asio::steady_timer reportTimer_;
  Counters counters_;
  bool pubWasUp_ = false, subWasUp_ = false;
  std::string lastTrouble_;  // the last reason logged by cannotConnect
  std::uint32_t nodeNumber_ = 0;
  // The INCR for nodeNumber_ is the first command on a new publish connection, so its reply
  // is the first one that connection hands back.
  bool numberAsked_ = false;
};

}  // namespace wampd::core::cluster
