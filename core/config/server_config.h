// The server config file (config/wampd.yml): where to listen, which plugins and routing
// files to load, and the %parameters% manifests use.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/auth_config.h"
#include "common/config_error.h"
#include "common/parameters.h"

namespace wampd::core {

/// server.tls: what TLS listeners serve. Paths are absolute.
struct TlsConfig {
  std::string certificate;
  std::string privateKey;
  std::string ca;                  // empty: no client certificates asked for
  std::string minVersion = "1.2";  // "1.2" or "1.3"
};

/// One entry of server.listen.
struct ListenConfig {
  std::string host;
  std::uint16_t port = 0;
  bool tls = false;
};

/// `cluster:`: several nodes on one Redis (core/cluster). Read at start; a reload keeps it.
struct ClusterConfig {
  bool enabled = false;  // the file has a cluster: section
  std::string redis = "redis://127.0.0.1:6379/0";
  std::string prefix = "wampd";
  /// Empty: a random name per start.
  std::string node;
  /// $WAMPD_REDIS_PASSWORD; when set it replaces the URL's password.
  std::string password;
  /// Calls this node sent to other nodes' callees and that wait for their answers; beyond,
  /// a CALL is refused.
  std::size_t maxPendingCalls = 10000;
};

struct ServerConfig {
  /// Absolute path of the file this was loaded from.
  std::string file;
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  /// server.listen: plain and TLS listeners side by side. Empty: host:port is the one
  /// listener, TLS when server.tls is given. --host/--port replace the first entry's.
  std::vector<ListenConfig> listen;
  /// server.tls; certificate and key are read when a generation is built (reload too).
  std::optional<TlsConfig> tls;
  /// WAMP v2 realms a client may join (HELLO); another gets ABORT wamp.error.no_such_realm.
  std::vector<std::string> realms{"realm1"};
  /// Largest accepted WebSocket message; a larger one closes that connection with 1009.
  std::size_t maxMessageSize = 64 * 1024;
  /// On SIGTERM/SIGINT, how long connections get to take their last frames before the
  /// process exits regardless.
  std::chrono::seconds shutdownTimeout{10};
  /// Dead peers (seconds in the file, fractions allowed; 0 disables each): a connection that
  /// has received nothing for pingInterval is pinged, dropped when it then receives nothing for
  /// pongTimeout; one whose queued bytes do not move for writeTimeout is dropped.
  std::chrono::milliseconds pingInterval{30000};
  std::chrono::milliseconds pongTimeout{10000};
  std::chrono::milliseconds writeTimeout{30000};
  /// How long a plain HTTP connection (health, metrics, the API) may wait idle for its next
  /// request after a response; 0: one request per connection.
  std::chrono::milliseconds httpKeepAliveTimeout{5000};
  /// Open connections, whole server and per source address (0: no limit of wampd's own), and
  /// handshakes per second per source address (0: no limit). Behind a proxy every client has
  /// the proxy's address, so the per-address ones are off by default.
  std::size_t maxConnections = 0;
  std::size_t maxConnectionsPerIp = 0;
  double handshakeRatePerIp = 0;
  /// Absolute directories scanned for NAME.so + NAME.yml.
  std::vector<std::string> pluginDirectories;
  /// Absolute routing files, or directories whose *.yml files are loaded in name order.
  std::vector<std::string> routing;
  Parameters parameters;
  AuthConfig auth;
  /// spdlog level name: trace, debug, info, warn, error.
  std::string logLevel = "info";
  /// text: one line per entry for people; json: one JSON object per line for log shippers.
  std::string logFormat = "text";
  ClusterConfig cluster;
  /// The file holds no settings at all: every value above is a default.
  bool empty = false;

  /// The listeners to open: `listen`, or host:port alone.
  std::vector<ListenConfig> listeners() const;
};

/// Loads `path`. Relative paths inside are relative to the file's directory. `overrides`
/// (from --param) replace parameters. Throws ConfigError naming file and line.
ServerConfig loadServerConfig(const std::string& path, const Parameters& overrides = {});

/// The config wampd uses when none is given: $WAMPD_CONFIG, else the installed
/// <prefix>/share/wampd/wampd.yml next to the executable, else the Debian package's
/// /etc/wampd/wampd.yml (as seen from /usr/bin: also inside a root unpacked elsewhere),
/// else the build tree's.
std::string defaultConfigPath();

}  // namespace wampd::core
