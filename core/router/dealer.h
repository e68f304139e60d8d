// The dealer: procedure calls, served by plugin RPC handlers (through routes) or by WAMP v2
// callee clients (through registrations), for callers of either WAMP version. In cluster
// mode (setCluster) registrations are claimed cluster-wide before REGISTERED, and a v2 call
// that nothing on this node serves goes to the procedure's owner node.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "reload/generation.h"
#include "router/call_port.h"
#include "router/peer.h"
#include "wamp/v2_codec.h"
#include "wampd/status.h"

namespace wampd::core {

class Dealer {
 public:
  enum class Outcome { Done, NoRoute, NoHandler, Failed };
  struct Result {
    Outcome outcome = Outcome::Done;
    Status status;
    Value value;
  };

  using ResultSink = core::ResultSink;
  using ErrorSink = core::ErrorSink;
  using CallOptions = core::CallOptions;

  struct Registered {
    Status status;  // not ok: the ERROR to send
    std::uint64_t id = 0;
  };

  /// How calls ended since the server started, for metrics.
  struct Counters {
    std::uint64_t results = 0;  // a final result reached the caller
    std::uint64_t errors = 0;   // the handler or callee answered an error
    std::uint64_t noSuchProcedure = 0;
    std::uint64_t timeouts = 0;
    std::uint64_t canceled = 0;  // by the caller, or the callee left
  };
  const Counters& counters() const noexcept { return counters_; }

  explicit Dealer(asio::io_context& io) : io_(io) {}

  void setGeneration(std::shared_ptr<const Generation> generation) noexcept {
    generation_ = std::move(generation);
  }
  /// Serves a cluster from now on (core/cluster): registrations are claimed cluster-wide and
  /// calls nothing here serves go to their owner node.
  void setCluster(CallPort* cluster) noexcept { cluster_ = cluster; }

  /// A call served by a plugin RPC handler through a route (synchronous).
  Result call(Peer& session, const std::string& uri, const Array& args);

  /// REGISTER: `invoke` is single, roundrobin, random, first or last; callees sharing a
  /// procedure must all use the same policy other than single.
  Registered registerProcedure(Callee& callee, const std::string& uri, const std::string& invoke);
  /// REGISTER as a session makes it: in cluster mode `done` runs once the cluster agreed
  /// (or refused), possibly after `callee` left (the callback must find its session again).
  void registerProcedure(Callee& callee, const std::string& uri, const std::string& invoke,
                         std::function<void(const Registered&)> done);
  bool unregister(Callee& callee, std::uint64_t registrationId);
  /// A callee of this node serves `uri` (a registration still being claimed does not).
  bool hasCallee(const std::string& uri) const;
  /// A v2 CALL of `uri` goes through invoke(): a callee here, or, in cluster mode, nothing
  /// here (no plugin procedure) serves it and its owner node may.
  bool invokes(const std::string& uri) const;

  /// Sends INVOCATION to a callee of `uri`; its answer reaches the sinks exactly once
  /// (progressive results before), or an error if the callee leaves, the call times out or
  /// is canceled.
  void invoke(Peer& caller, const std::string& uri, const Array& args, const CallOptions& options,
              ResultSink onResult, ErrorSink onError);
  /// invoke() for a call another node sent: this node's callees only.
  void invokeLocal(const CallerInfo& caller, const std::string& uri, const Array& args,
                   const CallOptions& options, ResultSink onResult, ErrorSink onError);
  void yield(Callee& callee, std::uint64_t invocation, bool progress, const Array* args,
             const Object* kwargs);
  void calleeError(Callee& callee, std::uint64_t invocation, const std::string& uri,
                   const Array* args, const Object* kwargs);
  /// CANCEL with mode skip, kill or killnowait (default killnowait).
  void cancel(Peer& caller, std::uint64_t request, const std::string& mode);
  /// cancel() by the caller's session id; `remote`: a CANCEL another node sent (for this
  /// node's callees only).
  void cancel(SessionId caller, std::uint64_t request, const std::string& mode,
              bool remote = false);
  /// A session left: its registrations go (`callee`: the session as a callee, if it can be
  /// one), calls it serves fail, calls it made are interrupted.
  void disconnect(Peer& session, Callee* callee);
  /// A callee stops serving: its registrations go and the calls it serves fail; the calls it
  /// made carry on.
  void withdraw(Callee& callee);

 private:
  struct Registration {
    std::uint64_t id = 0;
    std::string uri;
    std::string invoke;
    std::vector<Callee*> callees;
    std::size_t next = 0;  // roundrobin position
    // Cluster mode: false until the cluster agreed this node owns the URI; meanwhile the
    // callees that asked wait here, unreachable.
    bool claimed = true;
    // An older registration's claim of the URI succeeded after its callees left, while this
    // one's was asked: Redis holds the URI for this node whatever this claim's answer, so
    // this registration releases it if it ends unclaimed.
    bool heldClaim = false;
    std::vector<std::pair<Callee*, std::function<void(const Registered&)>>> waiting;
  };
  struct Invocation {
    std::uint64_t id = 0;
    Callee* callee = nullptr;
    SessionId caller = 0;
    std::uint64_t request = 0;
    bool progress = false;
    ResultSink onResult;
    ErrorSink onError;
    std::unique_ptr<asio::steady_timer> timer;
  };

  /// Why `callee` may not register `uri` with `invoke` (ok: it may).
  Status refusal(Callee& callee, const std::string& uri, const std::string& invoke) const;
  void claimed(const std::string& uri, std::uint64_t registrationId, const Status& status);
  /// Drops an emptied registration (and its cluster claim).
  void erase(std::map<std::string, Registration>::iterator it);
  Callee* pickCallee(Registration& registration);
  void interrupt(Invocation& invocation, const char* mode);
  /// Ends an invocation with an error to its caller.
  void fail(std::uint64_t invocation, const std::string& uri, const std::string& message);
  std::uint64_t newId() { return (random_() & (wamp2::kMaxId - 1)) + 1; }

  asio::io_context& io_;
  std::shared_ptr<const Generation> generation_;
  CallPort* cluster_ = nullptr;
  std::map<std::string, Registration> registrations_;  // by URI; nodes are stable
  std::unordered_map<std::uint64_t, Registration*> registrationsById_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Invocation>> invocations_;
  std::map<std::pair<SessionId, std::uint64_t>, std::uint64_t> invocationOfCall_;
  std::mt19937_64 random_{std::random_device{}()};
  Counters counters_;
};

}  // namespace wampd::core
