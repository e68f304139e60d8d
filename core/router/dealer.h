// The dealer: procedure calls, served by plugin RPC handlers (through routes) or by WAMP v2
// callee clients (through registrations), for callers of either WAMP version.
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

  /// Where a callee's answer goes: a (progressive) result, or an error.
  using ResultSink = std::function<void(const Array& args, const Object* kwargs, bool progress)>;
  using ErrorSink =
      std::function<void(const std::string& uri, const Array& args, const Object* kwargs)>;

  struct CallOptions {
    std::uint64_t request = 0;  // the caller's CALL request id (0: a v1 caller, no CANCEL)
    bool receiveProgress = false;
    std::uint64_t timeoutMs = 0;  // 0: none
    bool discloseMe = false;
    const Object* kwargs = nullptr;
  };

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

  /// A call served by a plugin RPC handler through a route (synchronous).
  Result call(Peer& session, const std::string& uri, const Array& args);

  /// REGISTER: `invoke` is single, roundrobin, random, first or last; callees sharing a
  /// procedure must all use the same policy other than single.
  Registered registerProcedure(Callee& callee, const std::string& uri, const std::string& invoke);
  bool unregister(Callee& callee, std::uint64_t registrationId);
  bool hasCallee(const std::string& uri) const { return registrations_.count(uri) != 0; }

  /// Sends INVOCATION to a callee of `uri`; its answer reaches the sinks exactly once
  /// (progressive results before), or an error if the callee leaves, the call times out or
  /// is canceled.
  void invoke(Peer& caller, const std::string& uri, const Array& args, const CallOptions& options,
              ResultSink onResult, ErrorSink onError);
  void yield(Callee& callee, std::uint64_t invocation, bool progress, const Array* args,
             const Object* kwargs);
  void calleeError(Callee& callee, std::uint64_t invocation, const std::string& uri,
                   const Array* args, const Object* kwargs);
  /// CANCEL with mode skip, kill or killnowait (default killnowait).
  void cancel(Peer& caller, std::uint64_t request, const std::string& mode);
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

  Callee* pickCallee(Registration& registration);
  void interrupt(Invocation& invocation, const char* mode);
  /// Ends an invocation with an error to its caller.
  void fail(std::uint64_t invocation, const std::string& uri, const std::string& message);
  std::uint64_t newId() { return (random_() & (wamp2::kMaxId - 1)) + 1; }

  asio::io_context& io_;
  std::shared_ptr<const Generation> generation_;
  std::map<std::string, Registration> registrations_;  // by URI; nodes are stable
  std::unordered_map<std::uint64_t, Registration*> registrationsById_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Invocation>> invocations_;
  std::map<std::pair<SessionId, std::uint64_t>, std::uint64_t> invocationOfCall_;
  std::mt19937_64 random_{std::random_device{}()};
  Counters counters_;
};

}  // namespace wampd::core
