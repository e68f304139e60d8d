// The host-facing side of what a plugin creates: the only functions the host calls on it.
//
// Constraints:
// - Kept apart from the classes authors derive (TopicHandler, RpcHandler, UserProvider) so
//   that an author has no host function to override: Hosted<T> (plugin.h) implements these
//   interfaces `final` around the author's object, inside the plugin library.
// - Every function is noexcept and reports failure as a Status: an exception thrown across
//   the library boundary would unwind through code built separately from the host.
// - The destructor is virtual so that the host's delete runs the plugin's own code.
//
// Plugin authors never include this header; <wampd/plugin.h> does.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "wampd/connection.h"
#include "wampd/request.h"
#include "wampd/status.h"
#include "wampd/topic.h"
#include "wampd/topic_handler.h"
#include "wampd/user_provider.h"
#include "wampd/value.h"

namespace wampd::boundary {

/// What the host learns about a topic handler once, when it is created.
struct TopicHandlerDescription {
  std::string name;
  std::vector<PeriodicTimer> timers;
};

class TopicEndpoint {
 public:
  virtual ~TopicEndpoint() = default;

  virtual Status hostDescribe(TopicHandlerDescription& out) noexcept = 0;
  virtual Status hostSubscribe(Connection& c, Topic& t, const Request& r) noexcept = 0;
  virtual Status hostUnSubscribe(Connection& c, Topic& t, const Request& r) noexcept = 0;
  virtual Status hostPublish(Connection& c, Topic& t, const Request& r, const Value& event,
                             const SessionIds& exclude, const SessionIds& eligible) noexcept = 0;
  virtual Status hostTimer(Topic& t, const PeriodicTimer& timer) noexcept = 0;
};

class RpcEndpoint {
 public:
  virtual ~RpcEndpoint() = default;

  virtual Status hostDescribe(std::string& name) noexcept = 0;
  virtual Status hostCall(Connection& c, const Request& r, const Array& args,
                          Value& result) noexcept = 0;
};

class UserProviderEndpoint {
 public:
  virtual ~UserProviderEndpoint() = default;

  virtual Status hostLoadUser(std::string_view username, User& out, bool& found) noexcept = 0;
};

}  // namespace wampd::boundary
