// The dealer's view of a cluster's RPC (core/cluster/cluster_calls implements it): who owns
// a procedure cluster-wide, and how a call reaches a callee on another node. Without one the
// dealer serves this node's callees alone.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "wampd/connection.h"
#include "wampd/status.h"
#include "wampd/value.h"

namespace wampd::core {

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

/// Who made a call: what a callee may be told about its caller (disclose_me).
struct CallerInfo {
  SessionId session = 0;
  std::string authid, authrole;
};

class CallPort {
 public:
  /// Makes `uri` this node's cluster-wide. `done` gets an ok Status, or the ERROR the
  /// REGISTER gets (another node owns it, Redis away). May answer before returning.
  virtual void claim(const std::string& uri, bool shared, std::function<void(Status)> done) = 0;
  /// This node serves `uri` no longer: the claim goes (if it is still this node's).
  virtual void release(const std::string& uri) noexcept = 0;
  /// A call no callee or handler of this node serves: to the procedure's owner node. Its
  /// answer reaches the sinks exactly once (progressive results before).
  virtual void call(const CallerInfo& caller, const std::string& uri, const Array& args,
                    const CallOptions& options, ResultSink onResult, ErrorSink onError) = 0;
  /// CANCEL of a call sent to another node; false when no such call waits here.
  virtual bool cancel(SessionId caller, std::uint64_t request, const std::string& mode) = 0;
  /// The caller left: its calls on other nodes are canceled (killnowait), unanswered.
  virtual void callerLeft(SessionId caller) noexcept = 0;

 protected:
  ~CallPort() = default;
};

}  // namespace wampd::core
