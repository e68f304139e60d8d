// Loading plugin libraries: ABI check, class registration, service creation.
#include "plugins/plugin_host.h"

#include <elf.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/dll/shared_library.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "wampd/plugin.h"

namespace wampd::core {
namespace {

namespace fs = std::filesystem;
using Library = boost::dll::shared_library;
using LibraryPtr = std::shared_ptr<Library>;

constexpr const char* kLibraryExtension = ".so";
constexpr const char* kManifestExtension = ".yml";
// A version or signature longer than this is not one the SDK wrote.
constexpr std::size_t kMaxSymbolTextLength = 512;

struct PluginFiles {
  std::string library;
  std::string manifest;
};

/// NAME.so + NAME.yml pairs of `directory`, sorted by file name.
std::vector<PluginFiles> findPlugins(const std::string& directory) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec))
    throw ConfigError({directory}, "plugin directory does not exist or is not a directory");

  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(directory, ec)) {
    std::string extension = entry.path().extension().string();
    if ((extension == kLibraryExtension || extension == kManifestExtension) &&
        entry.is_regular_file(ec))
      files.push_back(entry.path());
  }
  if (ec) throw ConfigError({directory}, "cannot list plugin directory: " + ec.message());
  std::sort(files.begin(), files.end(),
            [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });

  std::vector<PluginFiles> plugins;
  for (const fs::path& file : files) {
    fs::path library = fs::path(file).replace_extension(kLibraryExtension);
    fs::path manifest = fs::path(file).replace_extension(kManifestExtension);
    if (file.extension() == kManifestExtension) {
      if (!fs::is_regular_file(library, ec))
        throw ConfigError({file.string()}, "plugin manifest without its library " +
                                               library.filename().string() + " beside it");
      continue;
    }
    if (!fs::is_regular_file(manifest, ec))
      throw ConfigError({file.string()}, "plugin library without its manifest " +
                                             manifest.filename().string() + " beside it");
    plugins.push_back({file.string(), manifest.string()});
  }
  return plugins;
}

/// A directory of this process for private copies of plugin libraries.
const fs::path& privateCopyDirectory() {
  static const fs::path dir = [] {
    std::string pattern = (fs::temp_directory_path() / "wampd-plugins-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) return fs::path();
    return fs::path(pattern);
  }();
  return dir;
}

/// Refuses a library that does not hold every segment its program headers describe (a copy
/// still being written, a truncated download): the dynamic loader maps such segments past
/// the end of the file and the first access to them kills the process with SIGBUS instead of
/// failing. What is not a complete 64-bit ELF header is left to the loader to refuse.
void checkComplete(const fs::path& copy, const std::string& path) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(copy, ec);
  std::ifstream in(copy, std::ios::binary);
  Elf64_Ehdr header{};
  if (ec || !in.read(reinterpret_cast<char*>(&header), sizeof header)) return;
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0 || header.e_ident[EI_CLASS] != ELFCLASS64 ||
      header.e_phentsize != sizeof(Elf64_Phdr))
    return;
  const auto truncated = [&] {
    return ConfigError({path}, "cannot load plugin library: the file is truncated (" +
                                   std::to_string(size) +
                                   " bytes; still being written? write it elsewhere and rename "
                                   "it into place)");
  };
  if (header.e_phoff + std::uint64_t{header.e_phnum} * sizeof(Elf64_Phdr) > size) throw truncated();
  in.seekg(static_cast<std::streamoff>(header.e_phoff));
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr segment{};
    if (!in.read(reinterpret_cast<char*>(&segment), sizeof segment)) throw truncated();
    if (segment.p_type == PT_LOAD && segment.p_offset + segment.p_filesz > size) throw truncated();
  }
}

/// Opens a private copy of `path` (then unlinks it: the mapping outlives the name), so that
/// a library replaced on disk is loaded as a new image even while the old one is in use.
LibraryPtr openLibrary(const std::string& path) {
  static std::uint64_t copies = 0;
  const fs::path& dir = privateCopyDirectory();
  if (dir.empty()) throw ConfigError({path}, "cannot create a private directory for plugin copies");
  const fs::path copy = dir / (std::to_string(++copies) + "-" + fs::path(path).filename().string());
  std::error_code ec;
  fs::copy_file(path, copy, fs::copy_options::overwrite_existing, ec);
  if (ec) throw ConfigError({path}, "cannot copy plugin library: " + ec.message());
  try {
    checkComplete(copy, path);
  } catch (const ConfigError&) {
    fs::remove(copy, ec);
    throw;
  }
  try {
    auto library = std::make_shared<Library>(
        copy, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    fs::remove(copy, ec);
    return library;
  } catch (const std::exception& e) {
    fs::remove(copy, ec);
    std::string why = e.what();
    // dlerror() names the private copy; the user knows the file by its own name.
    for (std::size_t at; (at = why.find(copy.string())) != std::string::npos;)
      why.replace(at, copy.string().size(), path);
    throw ConfigError({path}, "cannot load plugin library: " + why);
  }
}

/// The text a `const char[]` data symbol holds, at most kMaxSymbolTextLength bytes of it.
std::string symbolText(const Library& library, const char* symbol) {
  const char* text = &library.get<const char>(symbol);
  return std::string(text, strnlen(text, kMaxSymbolTextLength));
}

/// `text` as a message may show it. A plugin built by an SDK whose ABI version was an integer
/// exports bytes, not text.
std::string printable(const std::string& text) {
  const bool isText = !text.empty() && std::all_of(text.begin(), text.end(),
                                                   [](char c) { return c >= 0x20 && c < 0x7f; });
  return isText ? text : "(not text: an SDK older than this one?)";
}

/// Refuses a library built against another SDK before any of its functions runs: the
/// two symbols are data, so reading them executes nothing of the plugin.
void checkAbi(const Library& library, const std::string& path) {
  for (const char* symbol :
       {abi::kAbiVersionSymbol, abi::kBuildSignatureSymbol, abi::kRegisterSymbol}) {
    if (!library.has(symbol))
      throw ConfigError({path}, std::string("not a wampd plugin: it lacks the symbol ") + symbol +
                                    " (define the plugin with WAMPD_PLUGIN from <wampd/plugin.h>)");
  }
  const std::string version = symbolText(library, abi::kAbiVersionSymbol);
  if (version != WAMPD_ABI_VERSION)
    throw ConfigError({path}, "plugin ABI version " + printable(version) +
                                  " does not match this wampd's ABI version " WAMPD_ABI_VERSION
                                  "; rebuild the plugin against this wampd's SDK");
  const std::string pluginSignature = symbolText(library, abi::kBuildSignatureSymbol);
  if (pluginSignature != WAMPD_BUILD_SIGNATURE)
    throw ConfigError({path}, "plugin build signature '" + pluginSignature +
                                  "' does not match this wampd's '" WAMPD_BUILD_SIGNATURE
                                  "'; rebuild the plugin with the same compiler, standard "
                                  "library, library mode and C++ standard");
}

struct ClassFactories {
  TopicFactory topic = nullptr;
  RpcFactory rpc = nullptr;
  UserProviderFactory users = nullptr;
};

/// What a library registers. Its methods are called from plugin code, so they never throw;
/// the first problem is kept and reported once registration returns.
class HostRegistry final : public Registry {
 public:
  void addTopicClass(const char* className, TopicFactory factory) noexcept override {
    add(className, ClassFactories{factory, nullptr}, factory != nullptr);
  }
  void addRpcClass(const char* className, RpcFactory factory) noexcept override {
    add(className, ClassFactories{nullptr, factory}, factory != nullptr);
  }
  void addUserProviderClass(const char* className, UserProviderFactory factory) noexcept override {
    add(className, ClassFactories{nullptr, nullptr, factory}, factory != nullptr);
  }

  const std::string& error() const noexcept { return error_; }
  const ClassFactories* find(const std::string& className) const {
    auto it = classes_.find(className);
    return it == classes_.end() ? nullptr : &it->second;
  }
  std::string classNames() const {
    std::string names;
    for (const auto& entry : classes_) names += (names.empty() ? "" : ", ") + entry.first;
    return names.empty() ? "none" : names;
  }

 private:
  void add(const char* className, ClassFactories factories, bool hasFactory) noexcept {
    try {
      if (!error_.empty()) return;
      if (className == nullptr || *className == '\0') {
        error_ = "registered a class without a name";
      } else if (!hasFactory) {
        error_ = std::string("registered class '") + className + "' without a factory";
      } else if (!classes_.emplace(className, factories).second) {
        error_ = std::string("registered class '") + className + "' twice";
      }
    } catch (...) {
      error_ = "ran out of memory while registering classes";
    }
  }

  std::map<std::string, ClassFactories> classes_;
  std::string error_;
};

/// Owns `raw`, deleting it with the library's own code, and keeps the library loaded until
/// then (Boost.DLL's library_holding_deleter idea).
template <class Handler>
std::shared_ptr<Handler> holdWithLibrary(Handler* raw, LibraryPtr library) {
  return std::shared_ptr<Handler>(raw, [library = std::move(library)](Handler* h) { delete h; });
}

}  // namespace

/// Builds one PluginSet; friend of PluginSet.
class PluginLoader {
 public:
  PluginLoader(const Parameters& parameters, const PluginSet* previous)
      : parameters_(parameters), previous_(previous) {}

  void loadDirectory(const std::string& directory) {
    for (const PluginFiles& plugin : findPlugins(directory)) load(plugin);
  }

  PluginSet take() { return std::move(set_); }

 private:
  struct Loaded {
    const std::string& path;
    const LibraryPtr& library;
    const HostRegistry& registry;
    const Parameters& parameters;
  };

  /// Where a handler name came from, to name both sides of a clash.
  struct Origin {
    std::string serviceId;
    std::string library;
    SourceLocation where;
  };

  void load(const PluginFiles& plugin) {
    const FileStamp libraryStamp = stampOf(plugin.library);
    const FileStamp manifestStamp = stampOf(plugin.manifest);
    if (reuse(plugin.library, libraryStamp, manifestStamp)) return;
    record_ = LoadedLibrary{};
    record_.path = plugin.library;
    record_.library = libraryStamp;
    record_.manifest = manifestStamp;
    record_.parameters = parameters_;
    // The manifest is read first so that a broken one is reported without running any of
    // the library's code (not even its static initializers).
    Manifest manifest = loadManifest(plugin.manifest);
    LibraryPtr library = openLibrary(plugin.library);
    checkAbi(*library, plugin.library);

    HostRegistry registry;
    auto registerClasses = library->get<int(Registry*)>(abi::kRegisterSymbol);
    if (registerClasses(&registry) != 0)
      throw ConfigError({plugin.library}, "plugin registration failed: " +
                                              std::string(abi::kRegisterSymbol) + " threw");
    if (!registry.error().empty())
      throw ConfigError({plugin.library}, "plugin " + registry.error());

    Parameters parameters = manifest.defaults;
    for (const auto& [name, value] : parameters_) parameters[name] = value;

    Loaded loaded{plugin.library, library, registry, parameters};
    for (const ManifestService& service : manifest.services) create(loaded, service);
    record_.handle = library;
    set_.libraries_.push_back(plugin.library);
    set_.loaded_.push_back(std::move(record_));
  }

  /// Keeps a library of the previous set, with its handler instances, when nothing it
  /// depends on changed.
  bool reuse(const std::string& path, const FileStamp& library, const FileStamp& manifest) {
    if (previous_ == nullptr) return false;
    for (const LoadedLibrary& old : previous_->loaded_) {
      if (old.path != path || old.library != library || old.manifest != manifest ||
          old.parameters != parameters_)
        continue;
      for (const std::string& name : old.topicNames) {
        const TopicHandlerEntry& entry = *previous_->topicHandler(name);
        claimKept(path, name, entry.serviceId);
        set_.topics_.emplace(name, entry);
      }
      for (const std::string& name : old.rpcNames) {
        const RpcHandlerEntry& entry = *previous_->rpcHandler(name);
        claimKept(path, name, entry.serviceId);
        set_.rpcs_.emplace(name, entry);
      }
      for (const auto& provider : old.userProviders) set_.users_.push_back(provider);
      set_.libraries_.push_back(path);
      set_.loaded_.push_back(old);
      ++set_.reused_;
      return true;
    }
    return false;
  }

  void claimKept(const std::string& path, const std::string& name, const std::string& serviceId) {
    auto [it, inserted] = names_.emplace(name, Origin{serviceId, path, {path}});
    if (!inserted)
      throw ConfigError({path}, "handler name '" + name + "' is already served by service '" +
                                    it->second.serviceId + "' from " + it->second.library);
  }

  void create(const Loaded& loaded, const ManifestService& service) {
    const ClassFactories* factories = loaded.registry.find(service.className);
    if (factories == nullptr)
      refuse(service, "class '" + service.className + "' is not registered by " + loaded.path +
                          " (it registers: " + loaded.registry.classNames() + ")");
    Arguments arguments = resolveArguments(service, loaded.parameters);
    if (service.hasTag(kUserProviderTag)) {
      if (factories->users == nullptr)
        refuse(service, "tagged " + std::string(kUserProviderTag) + " but class '" +
                            service.className + "' of " + loaded.path +
                            " is not a user provider class");
      createUserProvider(loaded, service, factories->users, arguments);
    } else if (service.hasTag(kTopicTag)) {
      if (factories->topic == nullptr)
        refuse(service, "tagged " + std::string(kTopicTag) + " but class '" + service.className +
                            "' of " + loaded.path + " is an RPC class");
      createTopic(loaded, service, factories->topic, arguments);
    } else {
      if (factories->rpc == nullptr)
        refuse(service, "tagged " + std::string(kRpcTag) + " but class '" + service.className +
                            "' of " + loaded.path + " is a topic class");
      createRpc(loaded, service, factories->rpc, arguments);
    }
  }

  void createTopic(const Loaded& loaded, const ManifestService& service, TopicFactory factory,
                   const Arguments& arguments) {
    std::string error;
    boundary::TopicEndpoint* raw = factory(arguments, error);
    if (raw == nullptr) refuseConstruction(loaded, service, error);
    TopicHandlerEntry entry;
    entry.handler = holdWithLibrary(raw, loaded.library);
    Status described = entry.handler->hostDescribe(entry.description);
    if (!described) refuse(service, "describing the handler failed: " + described.message());
    for (const PeriodicTimer& timer : entry.description.timers) {
      if (timer.interval.count() <= 0)
        refuse(service, "periodic timer '" + timer.name + "' of handler '" +
                            entry.description.name + "' has an interval of " +
                            std::to_string(timer.interval.count()) + " ms; it must be positive");
    }
    claimName(loaded, service, entry.description.name);
    entry.serviceId = service.id;
    entry.library = loaded.path;
    record_.topicNames.push_back(entry.description.name);
    std::string name = entry.description.name;
    set_.topics_.emplace(std::move(name), std::move(entry));
  }

  void createRpc(const Loaded& loaded, const ManifestService& service, RpcFactory factory,
                 const Arguments& arguments) {
    std::string error;
    boundary::RpcEndpoint* raw = factory(arguments, error);
    if (raw == nullptr) refuseConstruction(loaded, service, error);
    RpcHandlerEntry entry;
    entry.handler = holdWithLibrary(raw, loaded.library);
    Status described = entry.handler->hostDescribe(entry.name);
    if (!described) refuse(service, "describing the handler failed: " + described.message());
    claimName(loaded, service, entry.name);
    entry.serviceId = service.id;
    entry.library = loaded.path;
    record_.rpcNames.push_back(entry.name);
    std::string name = entry.name;
    set_.rpcs_.emplace(std::move(name), std::move(entry));
  }

  void createUserProvider(const Loaded& loaded, const ManifestService& service,
                          UserProviderFactory factory, const Arguments& arguments) {
    std::string error;
    boundary::UserProviderEndpoint* raw = factory(arguments, error);
    if (raw == nullptr) refuseConstruction(loaded, service, error);
    set_.users_.push_back(holdWithLibrary(raw, loaded.library));
    record_.userProviders.push_back(set_.users_.back());
  }

  /// Handler names are what routes call back, so they are unique across topics and RPC.
  void claimName(const Loaded& loaded, const ManifestService& service, const std::string& name) {
    if (name.empty())
      refuse(service, "class '" + service.className + "' of " + loaded.path +
                          " returned an empty handler name from getName()");
    auto [it, inserted] = names_.emplace(name, Origin{service.id, loaded.path, service.where});
    if (!inserted)
      refuse(service, "handler name '" + name + "' (from " + loaded.path +
                          ") is already served by service '" + it->second.serviceId + "' from " +
                          it->second.library + " (" + it->second.where.str() + ")");
  }

  [[noreturn]] static void refuseConstruction(const Loaded& loaded, const ManifestService& service,
                                              const std::string& error) {
    refuse(service, "constructing class '" + service.className + "' of " + loaded.path +
                        " failed: " + (error.empty() ? "no reason given" : error));
  }

  [[noreturn]] static void refuse(const ManifestService& service, const std::string& what) {
    throw ConfigError(service.where, "service '" + service.id + "': " + what);
  }

  const Parameters& parameters_;
  const PluginSet* previous_;
  std::map<std::string, Origin> names_;
  LoadedLibrary record_;  // the library being loaded
  PluginSet set_;
};

bool PluginSet::addInProcess(TopicHandlerEntry entry) {
  std::string name = entry.description.name;
  return topics_.emplace(std::move(name), std::move(entry)).second;
}

bool PluginSet::addInProcess(RpcHandlerEntry entry) {
  std::string name = entry.name;
  return rpcs_.emplace(std::move(name), std::move(entry)).second;
}

const TopicHandlerEntry* PluginSet::topicHandler(std::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

const RpcHandlerEntry* PluginSet::rpcHandler(std::string_view name) const {
  auto it = rpcs_.find(name);
  return it == rpcs_.end() ? nullptr : &it->second;
}

FileStamp stampOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino),
          static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec};
}

PluginSet loadPlugins(const std::vector<std::string>& directories, const Parameters& parameters,
                      const PluginSet* previous) {
  PluginLoader loader(parameters, previous);
  for (const std::string& directory : directories) loader.loadDirectory(directory);
  return loader.take();
}

}  // namespace wampd::core
