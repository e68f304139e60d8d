#include "config/server_config.h"

#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string_view>
#include <utility>

#include "cluster/redis_url.h"
#include "common/yaml_document.h"

#ifndef WAMPD_BUILD_CONFIG
#error "WAMPD_BUILD_CONFIG must be defined by the build (core/CMakeLists.txt)"
#endif
#ifndef WAMPD_INSTALLED_CONFIG_RELATIVE
#error "WAMPD_INSTALLED_CONFIG_RELATIVE must be defined by the build (core/CMakeLists.txt)"
#endif

namespace wampd::core {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kMinMessageSize = 1024;

// What every field reader needs: the document, for errors, and its directory, for relative
// paths.
class Context {
 public:
  explicit Context(const YamlDocument& doc)
      : doc_(doc), directory_(fs::path(doc.file()).parent_path()) {}

  const YamlDocument& doc() const { return doc_; }

  [[noreturn]] void fail(const YAML::Node& node, const std::string& what) const {
    doc_.fail(node, what);
  }

  std::string string(const YAML::Node& node, const std::string& name) const {
    return doc_.nonEmpty(node, name);
  }

  std::int64_t integer(const YAML::Node& node, const std::string& name, std::int64_t min,
                       std::int64_t max) const {
    return doc_.integer(node, name, min, max);
  }

  // A path as written, made absolute against the config file's directory.
  std::string path(const YAML::Node& node, const std::string& name) const {
    const fs::path written(string(node, name));
    return (written.is_absolute() ? written : directory_ / written).lexically_normal().string();
  }

  std::vector<std::string> paths(const YAML::Node& node, const std::string& name) const {
    std::vector<std::string> out;
    if (node.IsNull()) return out;
    if (!node.IsSequence()) fail(node, name + " must be a list of paths");
    for (const YAML::Node& item : node) out.push_back(path(item, "each entry of " + name));
    return out;
  }

 private:
  const YamlDocument& doc_;
  fs::path directory_;
};

using FieldReader = void (*)(const Context&, const YAML::Node& value, ServerConfig&);

struct Field {
  std::string_view key;
  FieldReader read;
};

// Reads a map whose keys must all be in `fields`; `section` names it in errors ("" = top level).
template <std::size_t N>
void readSection(const Context& ctx, const YAML::Node& node, const std::string& section,
                 const std::array<Field, N>& fields, ServerConfig& config) {
  std::vector<std::string_view> allowed;
  for (const Field& f : fields) allowed.push_back(f.key);
  const YamlMapName name{"", section.empty() ? "the config file" : "'" + section + "'"};
  for (const YamlEntry& entry : ctx.doc().entries(node, name, allowed))
    for (const Field& f : fields)
      if (f.key == entry.key) f.read(ctx, entry.value, config);
}

void readHost(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.host = ctx.string(v, "server.host");
}

void readPort(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.port = static_cast<std::uint16_t>(ctx.integer(v, "server.port", 1, 65535));
}

void readMaxMessageSize(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.maxMessageSize = static_cast<std::size_t>(ctx.integer(
      v, "server.max_message_size", kMinMessageSize, std::numeric_limits<std::int64_t>::max()));
}

void readShutdownTimeout(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.shutdownTimeout = std::chrono::seconds(ctx.integer(v, "server.shutdown_timeout", 1, 3600));
}

// A non-negative number (fractions allowed) up to `max`: seconds, or a rate.
double number(const Context& ctx, const YAML::Node& v, const std::string& name, double max,
              const std::string& unit) {
  const std::string text = ctx.doc().scalar(v, name);
  char* end = nullptr;
  const double value = text.empty() ? -1 : std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value) || value < 0 ||
      value > max)
    ctx.fail(v, name + " must be a number of " + unit + " from 0 to " +
                    std::to_string(static_cast<long long>(max)) + " (0 disables it), found '" +
                    text + "'");
  return value;
}

std::chrono::milliseconds milliseconds(const Context& ctx, const YAML::Node& v,
                                       const std::string& name) {
  const double seconds = number(ctx, v, name, 86400, "seconds");
  const auto ms = static_cast<std::int64_t>(std::llround(seconds * 1e3));
  if (seconds > 0 && ms == 0) ctx.fail(v, name + " must be 0 or at least 0.001 seconds");
  return std::chrono::milliseconds(ms);
}

void readPingInterval(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.pingInterval = milliseconds(ctx, v, "server.ping_interval");
}
void readPongTimeout(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.pongTimeout = milliseconds(ctx, v, "server.pong_timeout");
}
void readWriteTimeout(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.writeTimeout = milliseconds(ctx, v, "server.write_timeout");
}
void readHttpKeepAliveTimeout(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.httpKeepAliveTimeout = milliseconds(ctx, v, "server.http_keepalive_timeout");
}
void readMaxConnections(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.maxConnections =
      static_cast<std::size_t>(ctx.integer(v, "server.max_connections", 0, 100000000));
}
void readMaxConnectionsPerIp(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.maxConnectionsPerIp =
      static_cast<std::size_t>(ctx.integer(v, "server.max_connections_per_ip", 0, 100000000));
}
void readHandshakeRatePerIp(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.handshakeRatePerIp =
      number(ctx, v, "server.handshake_rate_per_ip", 1000000, "handshakes per second");
}

void readRealms(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  if (!v.IsSequence() || v.size() == 0)
    ctx.fail(v, "server.realms must be a non-empty list of realm names");
  c.realms.clear();
  for (const YAML::Node& item : v)
    c.realms.push_back(ctx.string(item, "each entry of server.realms"));
}

void readTls(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  if (!v.IsMap())
    ctx.fail(v, "server.tls must be a map: certificate, private_key, ca, min_version");
  TlsConfig tls;
  for (const YamlEntry& entry : ctx.doc().entries(
           v, {"", "'server.tls'"}, {"certificate", "private_key", "ca", "min_version"})) {
    if (entry.key == "certificate")
      tls.certificate = ctx.path(entry.value, "server.tls.certificate");
    if (entry.key == "private_key")
      tls.privateKey = ctx.path(entry.value, "server.tls.private_key");
    if (entry.key == "ca") tls.ca = ctx.path(entry.value, "server.tls.ca");
    if (entry.key == "min_version") {
      tls.minVersion = ctx.string(entry.value, "server.tls.min_version");
      if (tls.minVersion != "1.2" && tls.minVersion != "1.3")
        ctx.fail(entry.value, "server.tls.min_version must be \"1.2\" or \"1.3\"; found '" +
                                  tls.minVersion + "'");
    }
  }
  if (tls.certificate.empty()) ctx.fail(v, "server.tls needs a certificate");
  if (tls.privateKey.empty()) ctx.fail(v, "server.tls needs a private_key");
  c.tls = std::move(tls);
}

void readListen(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  if (!v.IsSequence() || v.size() == 0)
    ctx.fail(v, "server.listen must be a non-empty list of {host, port, tls} entries");
  c.listen.clear();
  for (const YAML::Node& item : v) {
    if (!item.IsMap()) ctx.fail(item, "each entry of server.listen must be a map: host, port, tls");
    ListenConfig listener;
    bool hasPort = false;
    for (const YamlEntry& entry :
         ctx.doc().entries(item, {"", "an entry of 'server.listen'"}, {"host", "port", "tls"})) {
      if (entry.key == "host") listener.host = ctx.string(entry.value, "server.listen host");
      if (entry.key == "port") {
        listener.port =
            static_cast<std::uint16_t>(ctx.integer(entry.value, "server.listen port", 1, 65535));
        hasPort = true;
      }
      if (entry.key == "tls") listener.tls = ctx.doc().boolean(entry.value, "server.listen tls");
    }
    if (!hasPort) ctx.fail(item, "each entry of server.listen needs a port");
    c.listen.push_back(std::move(listener));
  }
}

void readServer(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  static constexpr std::array<Field, 14> kFields{{
      {"host", readHost},
      {"port", readPort},
      {"listen", readListen},
      {"tls", readTls},
      {"max_message_size", readMaxMessageSize},
      {"realms", readRealms},
      {"shutdown_timeout", readShutdownTimeout},
      {"ping_interval", readPingInterval},
      {"pong_timeout", readPongTimeout},
      {"write_timeout", readWriteTimeout},
      {"http_keepalive_timeout", readHttpKeepAliveTimeout},
      {"max_connections", readMaxConnections},
      {"max_connections_per_ip", readMaxConnectionsPerIp},
      {"handshake_rate_per_ip", readHandshakeRatePerIp},
  }};
  readSection(ctx, v, "server", kFields, c);
  // Checked once the whole section is read: server.tls may come after listen.
  if (!v.IsMap()) return;
  const YAML::Node listen = v["listen"];
  for (std::size_t i = 0; i < c.listen.size(); ++i) {
    if (c.listen[i].host.empty()) c.listen[i].host = c.host;
    if (c.listen[i].tls && !c.tls)
      ctx.fail(listen[i]["tls"],
               "server.listen: tls: true needs a server.tls section "
               "(certificate and private_key)");
  }
}

void readLogLevel(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  static constexpr std::array<std::string_view, 7> kLevels{"trace", "debug",    "info", "warn",
                                                           "error", "critical", "off"};
  const std::string level = ctx.string(v, "log_level");
  for (std::string_view known : kLevels)
    if (known == level) {
      c.logLevel = level;
      return;
    }
  ctx.fail(v, "log_level must be one of trace, debug, info, warn, error, critical, off; found '" +
                  level + "'");
}

void readLogFormat(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  const std::string format = ctx.string(v, "log_format");
  if (format != "text" && format != "json")
    ctx.fail(v, "log_format must be text or json; found '" + format + "'");
  c.logFormat = format;
}

void readPluginDirectories(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.pluginDirectories = ctx.paths(v, "plugins.directories");
}

void readPlugins(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  static constexpr std::array<Field, 1> kFields{{
      {"directories", readPluginDirectories},
  }};
  readSection(ctx, v, "plugins", kFields, c);
}

void readRouting(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.routing = ctx.paths(v, "routing");
}

void readParameters(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  if (!v.IsNull() && !v.IsMap()) ctx.fail(v, "'parameters' must be a map of names to values");
  for (const YamlEntry& entry : ctx.doc().entries(v, {"", "'parameters'"})) {
    const std::string name = ctx.string(entry.keyNode, "a parameter name");
    // As in Symfony, a null parameter substitutes as empty text.
    if (entry.value.IsNull()) {
      c.parameters[name] = "";
      continue;
    }
    if (!entry.value.IsScalar())
      ctx.fail(entry.value,
               "parameter '" + name + "' must be a scalar value (text, number or boolean)");
    c.parameters[name] = entry.value.Scalar();
  }
}

std::vector<std::string> strings(const Context& ctx, const YAML::Node& v, const std::string& name) {
  std::vector<std::string> out;
  if (v.IsNull()) return out;
  if (!v.IsSequence()) ctx.fail(v, name + " must be a list");
  for (const YAML::Node& item : v) out.push_back(ctx.string(item, "each entry of " + name));
  return out;
}

void readSecret(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.auth.secret = ctx.string(v, "auth.secret");
}
void readAllowAnonymous(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.auth.allowAnonymous = ctx.doc().boolean(v, "auth.allow_anonymous");
}
void readUsersFile(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.auth.usersFile = ctx.path(v, "auth.users_file");
}
void readBackendToken(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.auth.backendToken = ctx.string(v, "auth.backend_token");
  if (c.auth.backendToken.size() < 16)
    ctx.fail(v, "auth.backend_token must be at least 16 characters");
  for (char ch : c.auth.backendToken)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.' ||
          ch == '~'))
      ctx.fail(v,
               "auth.backend_token may contain only letters, digits, '-', '_', '.' and '~' "
               "(it is a URL path segment)");
}
void readTrustedAddresses(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.auth.trustedAddresses = strings(ctx, v, "auth.trusted_addresses");
}
void readAllowedOrigins(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.auth.allowedOrigins = strings(ctx, v, "auth.allowed_origins");
}
void readDefaultPublish(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  const std::string policy = ctx.string(v, "auth.default_publish");
  if (policy != "anyone" && policy != "authenticated" && policy != "backend")
    ctx.fail(
        v, "auth.default_publish must be anyone, authenticated or backend; found '" + policy + "'");
  c.auth.defaultPublish = policy;
}
void readTicketMaxAge(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.auth.ticketMaxAge = static_cast<std::int64_t>(ctx.integer(v, "auth.ticket_max_age", 1, 86400));
}
void readTicketMaxFuture(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.auth.ticketMaxFuture =
      static_cast<std::int64_t>(ctx.integer(v, "auth.ticket_max_future", 0, 3600));
}

void readVerifierThreads(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.auth.verifierThreads =
      static_cast<std::size_t>(ctx.integer(v, "auth.verifier_threads", 0, 256));
}
void readVerifierQueue(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.auth.verifierQueue =
      static_cast<std::size_t>(ctx.integer(v, "auth.verifier_queue", 1, 1000000));
}
void readVerifierPerAddress(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.auth.verifierPerAddress =
      static_cast<std::size_t>(ctx.integer(v, "auth.verifier_per_address", 1, 1000000));
}

void readAuth(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  static constexpr std::array<Field, 12> kFields{{
      {"secret", readSecret},
      {"allow_anonymous", readAllowAnonymous},
      {"users_file", readUsersFile},
      {"backend_token", readBackendToken},
      {"trusted_addresses", readTrustedAddresses},
      {"allowed_origins", readAllowedOrigins},
      {"default_publish", readDefaultPublish},
      {"ticket_max_age", readTicketMaxAge},
      {"ticket_max_future", readTicketMaxFuture},
      {"verifier_threads", readVerifierThreads},
      {"verifier_queue", readVerifierQueue},
      {"verifier_per_address", readVerifierPerAddress},
  }};
  readSection(ctx, v, "auth", kFields, c);
}

void readClusterRedis(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.cluster.redis = ctx.string(v, "cluster.redis");
  cluster::RedisAddress address;
  std::string error;
  if (!cluster::parseRedisUrl(c.cluster.redis, address, error))
    ctx.fail(v, "cluster.redis: " + error);
}

void readClusterPrefix(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.cluster.prefix = ctx.string(v, "cluster.prefix");
  for (char ch : c.cluster.prefix)
    if (ch == ':' || ch == '!' || std::isspace(static_cast<unsigned char>(ch)))
      ctx.fail(v,
               "cluster.prefix may not contain ':', '!' or spaces (they separate channel names)");
}

void readClusterNode(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.cluster.node = v.IsNull() ? std::string() : ctx.doc().scalar(v, "cluster.node");
}

void readClusterMaxPendingCalls(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  c.cluster.maxPendingCalls =
      static_cast<std::size_t>(ctx.integer(v, "cluster.max_pending_calls", 1, 10000000));
}

void readCluster(const Context& ctx, const YAML::Node& v, ServerConfig& c) {
  static constexpr std::array<Field, 4> kFields{{
      {"redis", readClusterRedis},
      {"prefix", readClusterPrefix},
      {"node", readClusterNode},
      {"max_pending_calls", readClusterMaxPendingCalls},
  }};
  c.cluster.enabled = true;
  if (!v.IsNull()) readSection(ctx, v, "cluster", kFields, c);
}

// Adding a section is one line here (and its reader above).
constexpr std::array<Field, 8> kTopLevelFields{{
    {"server", readServer},
    {"log_level", readLogLevel},
    {"log_format", readLogFormat},
    {"plugins", readPlugins},
    {"routing", readRouting},
    {"parameters", readParameters},
    {"auth", readAuth},
    {"cluster", readCluster},
}};

}  // namespace

ServerConfig loadServerConfig(const std::string& path, const Parameters& overrides) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec) absolute = path;
  ServerConfig config;
  config.file = absolute.lexically_normal().string();
  const YamlDocument doc = YamlDocument::loadFile(config.file);
  config.empty = doc.root().IsNull();
  readSection(Context(doc), doc.root(), "", kTopLevelFields, config);
  for (const auto& [name, value] : overrides) config.parameters[name] = value;
  // Keeps the secret out of files that get committed or shown.
  if (const char* secret = std::getenv("WAMPD_SECRET"); secret && *secret)
    config.auth.secret = secret;
  // The Redis password, like the secret, may stay out of the file.
  if (const char* password = std::getenv("WAMPD_REDIS_PASSWORD");
      config.cluster.enabled && password && *password)
    config.cluster.password = password;
  return config;
}

std::vector<ListenConfig> ServerConfig::listeners() const {
  if (!listen.empty()) return listen;
  return {ListenConfig{host, port, tls.has_value()}};
}

std::string defaultConfigPath() {
  if (const char* env = std::getenv("WAMPD_CONFIG"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const char* relative : {WAMPD_INSTALLED_CONFIG_RELATIVE, WAMPD_PACKAGED_CONFIG_RELATIVE}) {
      const fs::path installed = (exe.parent_path() / relative).lexically_normal();
      if (fs::is_regular_file(installed, ec)) return installed.string();
    }
  }
  return WAMPD_BUILD_CONFIG;
}

}  // namespace wampd::core
