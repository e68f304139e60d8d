// The broker's view of a cluster (core/cluster implements it): where the events a handler
// broadcasts for a publication go beyond this node, and which topics this node needs the
// other nodes' events for. Without one the broker serves this node alone.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "wampd/connection.h"
#include "wampd/value.h"

namespace wampd::core {

/// One event a handler broadcast because of a publication: what another node needs to
/// deliver it to its own subscribers exactly as this node does (filters and disclosure
/// included) without calling the handler again.
struct ClusterEvent {
  std::string_view topic;
  const Value* payload = nullptr;
  std::uint64_t publication = 0;
  const SessionIds* exclude = nullptr;
  const SessionIds* eligible = nullptr;
  const std::vector<std::string>* eligibleAuthid = nullptr;
  const std::vector<std::string>* excludeAuthid = nullptr;
  const std::vector<std::string>* eligibleAuthrole = nullptr;
  const std::vector<std::string>* excludeAuthrole = nullptr;
  /// Set when the publisher asked to be disclosed.
  SessionId publisher = 0;
  std::string publisherAuthid, publisherAuthrole;
  /// The publisher's own v2 arguments, when the handler passed its event on unchanged.
  const Array* args = nullptr;
  const Object* kwargs = nullptr;
};

class ClusterPort {
 public:
  /// Sends `event` to the other nodes. False when it cannot (Redis away, buffer full): the
  /// caller delivered locally and answers an acknowledged publication with an error.
  virtual bool forward(const ClusterEvent& event) noexcept = 0;
  /// This node has subscribers for `topic` from now on / no longer.
  virtual void topicWanted(std::string_view topic) noexcept = 0;
  virtual void topicUnwanted(std::string_view topic) noexcept = 0;
  /// Calls `ready` once this node receives `topic`'s events from the other nodes (at once
  /// when it already does, or when the cluster is unreachable and waiting would not help).
  virtual void whenReceiving(std::string_view topic, std::function<void()> ready) = 0;
  /// This node has WAMP v2 pattern subscribers (`match` "prefix" or "wildcard") for `pattern`
  /// from now on / no longer: it needs every node's events on the topics the pattern matches,
  /// including topics no one here subscribed to exactly (Broker::deliverRemote then filters
  /// precisely). Called once per (match, pattern).
  virtual void patternWanted(std::string_view match, std::string_view pattern) noexcept = 0;
  virtual void patternUnwanted(std::string_view match, std::string_view pattern) noexcept = 0;
  /// As whenReceiving, for a pattern.
  virtual void whenReceivingPattern(std::string_view match, std::string_view pattern,
                                    std::function<void()> ready) = 0;

 protected:
  ~ClusterPort() = default;
};

}  // namespace wampd::core
