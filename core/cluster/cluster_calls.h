// RPC across a cluster's nodes (WAMP v2): registrations are claimed cluster-wide in Redis
// (key PREFIX@proc:URI holds the owner node's id, PX 3 s, refreshed each second, so a dead
// node's registrations lapse), and a call nothing on its node serves goes to the owner on
// the owner's node channel (PREFIX!node:ID, which every node subscribes to before it claims
// anything); results, errors and cancels travel the same way, msgpack like events.
//
// Guarantees: a procedure has one owner node at a time while Redis is up (Redis serializes
// the claims); a call reaches its callee at most once; each call's caller gets exactly one
// final answer: the callee's, or an error when the owner node stops reporting (3 s), Redis
// goes away, the call times out (on the caller's node) or too many calls wait already.
// Shared registrations (roundrobin, random, first, last) live on one node: another node's
// shared REGISTER of the same procedure is refused (ClusterSharedRegistration).
//
// Two Redis connections of its own (commands with replies in order, and the node channel's
// subscription), apart from the bus's, so that replies pair with commands.
//
// Constraint: runs on the I/O thread only; no thread of its own.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "cluster/redis_link.h"
#include "common/errors.h"
#include "router/call_port.h"
#include "router/dealer.h"

namespace wampd::core::cluster {

/// What travels on a node channel.
struct CallMessage {
  enum class Kind : std::uint8_t { Call = 1, Cancel, Result, Error };
  Kind kind = Kind::Call;
  std::string node;              // the sender's node id: a call's answers go to its channel
  std::uint64_t call = 0;        // the caller node's id of the call
  SessionId caller = 0;          // the caller's session (cluster-unique)
  std::string uri;               // Call: the procedure; Error: the error URI; Cancel: the mode
  bool progress = false;         // Call: receive_progress; Result: a progressive result
  bool discloseMe = false;       // Call
  std::string authid, authrole;  // Call, with disclose_me
  std::uint64_t timeoutMs = 0;   // Call: the caller's timeout (0: none), run by both nodes
  bool hasArgs = false, hasKwargs = false;
  Array args;
  Object kwargs;
};

/// msgpack of [2, kind, node, call, caller, uri, progress, disclose_me, authid, authrole,
/// args or nil, kwargs or nil, timeout_ms].
std::string encodeCallMessage(const CallMessage& message);
/// False (with `error`) for a message no node of this version wrote.
bool decodeCallMessage(std::string_view bytes, CallMessage& message, std::string& error);

class ClusterCalls final : public CallPort {
 public:
  struct Settings {
    RedisAddress redis;
    std::string prefix = "wampd";
    std::string nodeId, nodeName;
    /// Calls this node sent to other nodes and that wait for their answer; beyond, a CALL is
    /// refused (ClusterUnavailable) and counted.
    std::size_t maxPending = 10000;
  };
  /// Whether node `id` reports: true, false (it stopped: stale), or nothing (never heard).
  using NodeState = std::function<std::optional<bool>(const std::string& id)>;

  ClusterCalls(asio::io_context& io, Settings settings, Dealer& dealer, NodeState nodeState);
  ~ClusterCalls();

  void start();
  /// Fails the calls waiting, releases this node's claims, then closes (within 0.5 s).
  void stop();

  void claim(const std::string& uri, bool shared, std::function<void(Status)> done) override;
  void release(const std::string& uri) noexcept override;
  void call(const CallerInfo& caller, const std::string& uri, const Array& args,
            const CallOptions& options, ResultSink onResult, ErrorSink onError) override;
  bool cancel(SessionId caller, std::uint64_t request, const std::string& mode) override;
  void callerLeft(SessionId caller) noexcept override;

  struct Counters {
    std::uint64_t sent = 0;           // calls sent to an owner node
    std::uint64_t served = 0;         // calls other nodes sent here
    std::uint64_t failed = 0;         // calls answered with an error of the cluster's
    std::uint64_t refused = 0;        // of those: more than maxPending waited
    std::uint64_t conflicts = 0;      // a claim of this node's found taken when refreshed
    std::uint64_t unsentDropped = 0;  // answers or cancels no buffer could keep
  };
  const Counters& counters() const noexcept { return counters_; }
  std::size_t pending() const noexcept { return pending_.size(); }
  std::size_t owned() const noexcept { return owned_.size(); }

 private:
  struct Pending {
    std::string owner;  // empty until Redis said who owns the procedure
    SessionId caller = 0;
    std::uint64_t request = 0;
    bool progress = false;
    // Canceled before its owner was known: the owner gets `abandoned` ("skip": nothing) once
    // known, and the answer goes nowhere.
    const char* abandoned = nullptr;
    ResultSink onResult;
    ErrorSink onError;
    std::unique_ptr<asio::steady_timer> timer;
    std::chrono::steady_clock::time_point started;
  };
  using Reply = std::function<void(RedisReply&)>;

  // After stop() nothing new is taken: no calls sent, no claims made.
  bool ready() const noexcept { return !stopping_ && commands_->up() && receiving_; }
  /// False (after `then` got an error reply) when the connection refused the command.
  bool command(const std::vector<std::string_view>& args, Reply then);
  void onCommandsDown(const std::string& why);
  void onReply(RedisReply& reply);
  void onSubscriberUp();
  void onSubscriberDown(const std::string& why);
  void onPush(RedisReply& reply);
  void onMessage(CallMessage& message);
  void serve(CallMessage& call);
  void answer(const std::string& node, CallMessage& message);
  void routed(std::uint64_t id, RedisReply& reply);
  /// Ends a waiting call with an error of the cluster's (counted as failed).
  void fail(std::uint64_t id, Fault fault, const std::string& message);
  /// Drops a waiting call without answering it; the owner node gets `mode` (skip: nothing).
  void abandon(std::uint64_t id, const char* mode);
  void sendCancel(const std::string& owner, SessionId caller, std::uint64_t call,
                  const std::string& mode);
  void publish(const std::string& node, const CallMessage& message);
  void flushUnsent();
  /// Lost Redis: every waiting call fails, every call served for another node is canceled.
  void lost(const std::string& why);
  void tick();
  void refresh();
  void closeLinks();
  std::string keyOf(std::string_view uri) const { return keyPrefix_ + std::string(uri); }
  std::string channelOf(std::string_view node) const { return channelPrefix_ + std::string(node); }

  asio::io_context& io_;
  Settings settings_;
  Dealer& dealer_;
  NodeState nodeState_;
  std::string keyPrefix_, channelPrefix_, channel_;
  std::shared_ptr<RedisLink> commands_, subscriber_;
  std::deque<Reply> replies_;  // one per command sent, in order
  // Final answers and cancels for other nodes the command connection did not take (down or
  // full; at most maxPending, kMaxUnsentBytes): sent in order when it takes them again.
  std::deque<std::pair<std::string, std::string>> unsent_;
  std::size_t unsentBytes_ = 0;
  bool receiving_ = false, stopping_ = false, closed_ = false, commandsWereUp_ = false,
       subWasUp_ = false;
  std::set<std::string> owned_;       // URIs this node claimed
  std::set<std::string> conflicted_;  // of those, found taken by another node (logged once)
  std::uint64_t nextCall_ = 0;
  std::unordered_map<std::uint64_t, Pending> pending_;                      // by call id
  std::map<std::pair<SessionId, std::uint64_t>, std::uint64_t> byRequest_;  // caller, request
  std::map<std::pair<SessionId, std::uint64_t>, std::string> served_;       // caller, call -> node
  asio::steady_timer tick_, closing_;
  Counters counters_;
};

}  // namespace wampd::core::cluster
