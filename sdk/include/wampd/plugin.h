// Registering a plugin's classes: the one place where a plugin library meets the host.
//
//   #include <wampd/plugin.h>
//   WAMPD_PLUGIN(registry) {
//     registry.topic<MyTopic>("MyTopic");     // the `class:` a manifest names
//     registry.rpc<MyProcedures>("MyProcedures");
//     registry.userProvider<MyUsers>("MyUsers");
//   }
//
// Each registered class must have a constructor taking `const wampd::Arguments&`.
#pragma once

#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include "wampd/abi.h"
#include "wampd/arguments.h"
#include "wampd/boundary.h"
#include "wampd/rpc_handler.h"
#include "wampd/status.h"
#include "wampd/topic_handler.h"
#include "wampd/user_provider.h"

namespace wampd {

namespace detail {

/// Runs `f` and turns any exception into a Status; instantiated inside the plugin.
template <class F>
Status guard(F&& f) noexcept {
  try {
    return f();
  } catch (const std::exception& e) {
    return Status::error(errors::kHandlerFailed, e.what());
  } catch (...) {
    return Status::error(errors::kHandlerFailed, "unknown exception");
  }
}

}  // namespace detail

/// The author's T behind the host-facing interface: what the host holds for each object a
/// plugin creates. Instantiated by Registry::topic<T>/rpc<T>/userProvider<T> inside the
/// plugin library; also how a plugin's own tests drive a handler as the host does.
///
/// Constraint: T is a member, not a base, so T cannot reach the host functions (the author
/// writes none, and can override none), and the host cannot call T's hooks except through the
/// guarded functions here. T may itself be final.
template <class T, class = void>
class Hosted;

namespace detail {

/// Holds T by value: the host's one delete, through the endpoint, ends both.
template <class T, class Endpoint>
class HostedBase : public Endpoint {
 public:
  template <class... Args, class = std::enable_if_t<std::is_constructible_v<T, Args&&...>>>
  explicit HostedBase(Args&&... args) : handler_(std::forward<Args>(args)...) {}
  HostedBase(const HostedBase&) = delete;
  HostedBase& operator=(const HostedBase&) = delete;

  /// For a plugin's own tests; the host, holding only the endpoint, cannot call this.
  T& handler() noexcept { return handler_; }
  const T& handler() const noexcept { return handler_; }

 protected:
  T handler_;
};

}  // namespace detail

template <class T>
class Hosted<T, std::enable_if_t<std::is_base_of_v<TopicHandler, T>>> final
    : public detail::HostedBase<T, boundary::TopicEndpoint> {
 public:
  using detail::HostedBase<T, boundary::TopicEndpoint>::HostedBase;
  using Endpoint = boundary::TopicEndpoint;

  Status hostDescribe(boundary::TopicHandlerDescription& out) noexcept override {
    return detail::guard([&] {
      out.name = author().getName();
      out.timers = author().periodicTimers();
      return Status();
    });
  }
  Status hostSubscribe(Connection& c, Topic& t, const Request& r) noexcept override {
    return detail::guard([&] { return author().onSubscribe(c, t, r); });
  }
  Status hostUnSubscribe(Connection& c, Topic& t, const Request& r) noexcept override {
    return detail::guard([&] {
      author().onUnSubscribe(c, t, r);
      return Status();
    });
  }
  Status hostPublish(Connection& c, Topic& t, const Request& r, const Value& event,
                     const SessionIds& exclude, const SessionIds& eligible) noexcept override {
    return detail::guard([&] { return author().onPublish(c, t, r, event, exclude, eligible); });
  }
  Status hostTimer(Topic& t, const PeriodicTimer& timer) noexcept override {
    return detail::guard([&] {
      author().onTimer(t, timer);
      return Status();
    });
  }

 private:
  // Through the base class: the hooks are public there whatever access T gives its overrides.
  TopicHandler& author() noexcept { return this->handler_; }
};

template <class T>
class Hosted<T, std::enable_if_t<std::is_base_of_v<RpcHandler, T>>> final
    : public detail::HostedBase<T, boundary::RpcEndpoint> {
 public:
  using detail::HostedBase<T, boundary::RpcEndpoint>::HostedBase;
  using Endpoint = boundary::RpcEndpoint;

  Status hostDescribe(std::string& name) noexcept override {
    return detail::guard([&] {
      name = author().getName();
      return Status();
    });
  }
  Status hostCall(Connection& c, const Request& r, const Array& args,
                  Value& result) noexcept override {
    return detail::guard([&] { return author().onCall(c, r, args, result); });
  }

 private:
  RpcHandler& author() noexcept { return this->handler_; }
};

template <class T>
class Hosted<T, std::enable_if_t<std::is_base_of_v<UserProvider, T>>> final
    : public detail::HostedBase<T, boundary::UserProviderEndpoint> {
 public:
  using detail::HostedBase<T, boundary::UserProviderEndpoint>::HostedBase;
  using Endpoint = boundary::UserProviderEndpoint;

  Status hostLoadUser(std::string_view username, User& out, bool& found) noexcept override {
    return detail::guard([&] {
      found = author().loadUserByUsername(username, out);
      return Status();
    });
  }

 private:
  UserProvider& author() noexcept { return this->handler_; }
};

/// Creates a handler; on failure returns nullptr and sets `error`. Never throws.
using TopicFactory = boundary::TopicEndpoint* (*)(const Arguments& args,
                                                  std::string& error) noexcept;
using RpcFactory = boundary::RpcEndpoint* (*)(const Arguments& args, std::string& error) noexcept;
using UserProviderFactory = boundary::UserProviderEndpoint* (*)(const Arguments& args,
                                                                std::string& error) noexcept;

namespace detail {
template <class T>
typename Hosted<T>::Endpoint* create(const Arguments& args, std::string& error) noexcept {
  try {
    return new Hosted<T>(args);
  } catch (const std::exception& e) {
    error = e.what();
  } catch (...) {
    error = "unknown exception";
  }
  return nullptr;
}
}  // namespace detail

/// Implemented by the host; a plugin adds the classes its manifests may name.
class Registry {
 public:
  virtual void addTopicClass(const char* className, TopicFactory factory) noexcept = 0;
  virtual void addRpcClass(const char* className, RpcFactory factory) noexcept = 0;
  virtual void addUserProviderClass(const char* className,
                                    UserProviderFactory factory) noexcept = 0;

  template <class T>
  void topic(const char* className) noexcept {
    static_assert(std::is_base_of_v<TopicHandler, T>, "T must derive from wampd::TopicHandler");
    addTopicClass(className, &detail::create<T>);
  }
  template <class T>
  void rpc(const char* className) noexcept {
    static_assert(std::is_base_of_v<RpcHandler, T>, "T must derive from wampd::RpcHandler");
    addRpcClass(className, &detail::create<T>);
  }
  /// A UserProvider, for services tagged `wampd.user_provider`.
  template <class T>
  void userProvider(const char* className) noexcept {
    static_assert(std::is_base_of_v<UserProvider, T>, "T must derive from wampd::UserProvider");
    addUserProviderClass(className, &detail::create<T>);
  }

 protected:
  ~Registry() = default;
};

}  // namespace wampd

/// Defines the plugin's exported symbols and its one registration function.
#define WAMPD_PLUGIN(registry)                                                               \
  static void wampdRegisterClasses(::wampd::Registry& registry);                             \
  extern "C" WAMPD_EXPORT const char wampd_plugin_abi_version[] = WAMPD_ABI_VERSION;         \
  extern "C" WAMPD_EXPORT const char wampd_plugin_build_signature[] = WAMPD_BUILD_SIGNATURE; \
  extern "C" WAMPD_EXPORT int wampd_plugin_register(::wampd::Registry* r) noexcept {         \
    try {                                                                                    \
      wampdRegisterClasses(*r);                                                              \
      return 0;                                                                              \
    } catch (...) {                                                                          \
      return 1;                                                                              \
    }                                                                                        \
  }                                                                                          \
  static void wampdRegisterClasses(::wampd::Registry& registry)
