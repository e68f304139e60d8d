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

#include "wampd/abi.h"
#include "wampd/arguments.h"
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

/// T with the boundary implemented. Instantiated by Registry::topic<T>/rpc<T> inside the
/// plugin library; also how a plugin's own tests instantiate a handler.
template <class T, class = void>
class Hosted;

template <class T>
class Hosted<T, std::enable_if_t<std::is_base_of_v<TopicHandler, T>>> final : public T {
 public:
  using T::T;

  Status hostDescribe(TopicHandlerDescription& out) noexcept override {
    return detail::guard([&] {
      out.name = this->getName();
      out.timers = this->periodicTimers();
      return Status();
    });
  }
  Status hostSubscribe(Connection& c, Topic& t, const Request& r) noexcept override {
    return detail::guard([&] { return this->onSubscribe(c, t, r); });
  }
  Status hostUnSubscribe(Connection& c, Topic& t, const Request& r) noexcept override {
    return detail::guard([&] {
      this->onUnSubscribe(c, t, r);
      return Status();
    });
  }
  Status hostPublish(Connection& c, Topic& t, const Request& r, const Value& event,
                     const SessionIds& exclude, const SessionIds& eligible) noexcept override {
    return detail::guard([&] { return this->onPublish(c, t, r, event, exclude, eligible); });
  }
  Status hostTimer(Topic& t, const PeriodicTimer& timer) noexcept override {
    return detail::guard([&] {
      this->onTimer(t, timer);
      return Status();
    });
  }
};

template <class T>
class Hosted<T, std::enable_if_t<std::is_base_of_v<RpcHandler, T>>> final : public T {
 public:
  using T::T;

  Status hostDescribe(std::string& name) noexcept override {
    return detail::guard([&] {
      name = this->getName();
      return Status();
    });
  }
  Status hostCall(Connection& c, const Request& r, const Array& args,
                  Value& result) noexcept override {
    return detail::guard([&] { return this->onCall(c, r, args, result); });
  }
};

template <class T>
class Hosted<T, std::enable_if_t<std::is_base_of_v<UserProvider, T>>> final : public T {
 public:
  using T::T;

  Status hostLoadUser(std::string_view username, User& out, bool& found) noexcept override {
    return detail::guard([&] {
      found = this->loadUserByUsername(username, out);
      return Status();
    });
  }
};

/// Creates a handler; on failure returns nullptr and sets `error`. Never throws.
using TopicFactory = TopicHandler* (*)(const Arguments& args, std::string& error) noexcept;
using RpcFactory = RpcHandler* (*)(const Arguments& args, std::string& error) noexcept;
using UserProviderFactory = UserProvider* (*)(const Arguments& args, std::string& error) noexcept;

namespace detail {
template <class Handler, class T>
Handler* create(const Arguments& args, std::string& error) noexcept {
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
    addTopicClass(className, &detail::create<TopicHandler, T>);
  }
  template <class T>
  void rpc(const char* className) noexcept {
    static_assert(std::is_base_of_v<RpcHandler, T>, "T must derive from wampd::RpcHandler");
    addRpcClass(className, &detail::create<RpcHandler, T>);
  }
  /// A UserProvider, for services tagged `wampd.user_provider`.
  template <class T>
  void userProvider(const char* className) noexcept {
    static_assert(std::is_base_of_v<UserProvider, T>, "T must derive from wampd::UserProvider");
    addUserProviderClass(className, &detail::create<UserProvider, T>);
  }

 protected:
  ~Registry() = default;
};

}  // namespace wampd

/// Defines the plugin's exported symbols and its one registration function.
#define WAMPD_PLUGIN(registry)                                                               \
  static void wampdRegisterClasses(::wampd::Registry& registry);                             \
  extern "C" WAMPD_EXPORT const std::uint32_t wampd_plugin_abi_version = WAMPD_ABI_VERSION;  \
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
