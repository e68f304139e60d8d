// The plugin host: finds plugin libraries with their manifests, checks their ABI, and
// creates the services the manifests declare.
//
// A plugin directory holds NAME.so beside NAME.yml, its manifest. The manifest mirrors
// Symfony service definitions tagged for GosWebSocketBundle:
//
//   services:
//     oro_sync.topic.websocket_ping:            # service id
//       class: WebsocketPingTopic               # a class the library registers
//       arguments: ['oro_sync.ping', '%oro_sync.websocket_ping.interval%']
//       tags: [{ name: gos_web_socket.topic }]  # or gos_web_socket.rpc
//
// Constraint: every handler keeps its library loaded (its deleter holds the library), so a
// library is unloaded only after the last object it made is gone, whatever order the host
// drops things in.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config_error.h"
#include "common/parameters.h"
#include "wampd/arguments.h"
#include "wampd/boundary.h"

namespace wampd::core {

inline constexpr std::string_view kTopicTag = "gos_web_socket.topic";
inline constexpr std::string_view kRpcTag = "gos_web_socket.rpc";
inline constexpr std::string_view kUserProviderTag = "wampd.user_provider";

struct ManifestService {
  std::string id;
  std::string className;
  /// The arguments as written; scalars are strings, `%param%` not yet substituted.
  std::vector<Value> arguments;
  std::vector<std::string> tags;
  SourceLocation where;

  bool hasTag(std::string_view tag) const;
};

struct Manifest {
  std::string file;
  /// The manifest's `parameters:` section: defaults that the server's parameters override.
  Parameters defaults;
  std::vector<ManifestService> services;
};

/// Parses a manifest. Throws ConfigError naming file and line.
Manifest loadManifest(const std::string& path);
/// The same over text already read; errors name `file`.
Manifest parseManifest(const std::string& text, const std::string& file);

/// Substitutes `%name%` in every string of the service's arguments, nested ones included
/// (`%%` is a literal %; a `%` that does not open a `%name%` stays as written, as in
/// Symfony). Throws ConfigError at the service for an unknown parameter.
Arguments resolveArguments(const ManifestService& service, const Parameters& parameters);

struct TopicHandlerEntry {
  std::shared_ptr<boundary::TopicEndpoint> handler;
  boundary::TopicHandlerDescription description;  // name, periodic timers
  std::string serviceId;
  std::string library;  // path of the .so
};

struct RpcHandlerEntry {
  std::shared_ptr<boundary::RpcEndpoint> handler;
  std::string name;
  std::string serviceId;
  std::string library;
};

/// Identifies a file's content cheaply: replacing a file (rename into place) or rewriting it
/// changes the stamp.
struct FileStamp {
  std::uint64_t device = 0, inode = 0, size = 0;
  std::int64_t modifiedNs = 0;
  bool operator==(const FileStamp& o) const {
    return device == o.device && inode == o.inode && size == o.size && modifiedNs == o.modifiedNs;
  }
  bool operator!=(const FileStamp& o) const { return !(*this == o); }
};
FileStamp stampOf(const std::string& path);

/// One loaded plugin library and what it made, so that a reload can keep it as it is when
/// neither its files nor the parameters changed.
struct LoadedLibrary {
  std::string path;
  FileStamp library, manifest;
  Parameters parameters;         // the server parameters it was created with
  std::shared_ptr<void> handle;  // the library; what it made also holds it
  std::vector<std::string> topicNames, rpcNames;
  std::vector<std::shared_ptr<boundary::UserProviderEndpoint>> userProviders;
};

/// Everything the plugin directories provide, keyed by handler name (getName()).
class PluginSet {
 public:
  const TopicHandlerEntry* topicHandler(std::string_view name) const;
  const RpcHandlerEntry* rpcHandler(std::string_view name) const;
  const std::map<std::string, TopicHandlerEntry, std::less<>>& topicHandlers() const noexcept {
    return topics_;
  }
  const std::map<std::string, RpcHandlerEntry, std::less<>>& rpcHandlers() const noexcept {
    return rpcs_;
  }
  /// User providers (services tagged wampd.user_provider), in load order.
  const std::vector<std::shared_ptr<boundary::UserProviderEndpoint>>& userProviders()
      const noexcept {
    return users_;
  }
  /// The libraries loaded, in load order.
  const std::vector<std::string>& libraries() const noexcept { return libraries_; }
  const std::vector<LoadedLibrary>& loaded() const noexcept { return loaded_; }
  /// Libraries kept from the previous set by the reload that built this one.
  std::size_t reusedCount() const noexcept { return reused_; }

  /// Serves a handler made in this process rather than by a plugin library (the router
  /// roles' unit tests drive the broker and dealer this way). The entry's name must be
  /// filled in; false when a handler of that name is already there.
  bool addInProcess(TopicHandlerEntry entry);
  bool addInProcess(RpcHandlerEntry entry);

 private:
  friend class PluginLoader;
  std::map<std::string, TopicHandlerEntry, std::less<>> topics_;
  std::map<std::string, RpcHandlerEntry, std::less<>> rpcs_;
  std::vector<std::shared_ptr<boundary::UserProviderEndpoint>> users_;
  std::vector<std::string> libraries_;
  std::vector<LoadedLibrary> loaded_;
  std::size_t reused_ = 0;
};

/// Loads every NAME.so with its NAME.yml from `directories` (sorted by file name). Refuses,
/// with a ConfigError naming the file: a library that does not load, lacks the wampd
/// symbols, has another ABI version or build signature, or fails to register; a manifest
/// that does not parse, names a class the library does not register, or an unknown
/// parameter; a service whose constructor throws; two handlers with the same name; a
/// `.so` without a manifest.
///
/// With `previous` (a reload), a library whose file, manifest and parameters are unchanged is
/// kept with the very handler instances it made; any other is loaded from a private copy of
/// its file, because the dynamic loader would hand back the old image for a path it has open.
PluginSet loadPlugins(const std::vector<std::string>& directories, const Parameters& parameters,
                      const PluginSet* previous = nullptr);

}  // namespace wampd::core
