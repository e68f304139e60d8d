#include "config/server_config.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "../scoped_env.h"

using wampd::core::ConfigError;
using wampd::core::defaultConfigPath;
using wampd::core::loadServerConfig;
using wampd::core::Parameters;
using wampd::core::ServerConfig;

namespace {

const std::string kFixtures = std::string(WAMPD_SOURCE_DIR) + "/tests/unit/fixtures/config/";

std::string fixture(const std::string& relative) {
  return kFixtures + relative;
}

ConfigError loadError(const std::string& file) {
  try {
    loadServerConfig(file);
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("no ConfigError for " << file);
  return ConfigError({}, "");
}

void checkError(const std::string& file, int line, int column, const std::string& fragment) {
  INFO("fixture: " << file);
  const ConfigError e = loadError(fixture(file));
  CHECK(e.where().file == fixture(file));
  CHECK(e.where().line == line);
  CHECK(e.where().column == column);
  INFO("message: " << e.what());
  CHECK(e.detail().find(fragment) != std::string::npos);
  CHECK(std::string(e.what()).rfind(fixture(file) + ":" + std::to_string(line) + ":", 0) == 0);
}

using wampd::test::ScopedEnv;

}  // namespace

TEST_CASE("every key is read") {
  const ServerConfig c = loadServerConfig(fixture("full.yml"));
  CHECK(c.file == fixture("full.yml"));
  CHECK(c.host == "0.0.0.0");
  CHECK(c.port == 9443);
  CHECK(c.maxMessageSize == 1048576);
  CHECK(c.shutdownTimeout == std::chrono::seconds(25));
  CHECK(c.pingInterval == std::chrono::milliseconds(300));
  CHECK(c.pongTimeout == std::chrono::milliseconds(0));
  CHECK(c.writeTimeout == std::chrono::milliseconds(12500));
  CHECK(c.httpKeepAliveTimeout == std::chrono::milliseconds(2500));
  CHECK(c.maxConnections == 19000);
  CHECK(c.maxConnectionsPerIp == 50);
  CHECK(c.handshakeRatePerIp == 2.5);
  CHECK(c.logLevel == "debug");
  CHECK(c.parameters == Parameters{{"oro_sync.websocket_ping.interval", "50"},
                                   {"secret", "ThisTokenIsNotSoSecretChangeIt"},
                                   {"enabled", "true"},
                                   {"empty", ""}});
}

TEST_CASE("the ticket verifier's keys are read, with one thread per core by default") {
  const ServerConfig c = loadServerConfig(fixture("verifier.yml"));
  CHECK(c.auth.verifierThreads == 3);
  CHECK(c.auth.verifierQueue == 50);
  CHECK(c.auth.verifierPerAddress == 7);
  const ServerConfig defaults = loadServerConfig(fixture("empty.yml"));
  CHECK(defaults.auth.verifierThreads == 0);  // 0: the number of cores
  CHECK(defaults.auth.verifierQueue > 0);
  CHECK(defaults.auth.verifierPerAddress > 0);
}

TEST_CASE("relative paths are relative to the config file's directory") {
  const ServerConfig c = loadServerConfig(fixture("full.yml"));
  const std::string fixtures = std::string(WAMPD_SOURCE_DIR) + "/tests/unit/fixtures";
  CHECK(c.pluginDirectories == std::vector<std::string>{fixtures + "/config/plugins",
                                                        fixtures + "/elsewhere/more-plugins",
                                                        "/opt/wampd/plugins"});
  CHECK(c.routing ==
        std::vector<std::string>{fixtures + "/config/routing", "/etc/wampd/extra.yml"});
}

TEST_CASE("a relative config path is made absolute") {
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(kFixtures);
  ServerConfig c;
  CHECK_NOTHROW(c = loadServerConfig("full.yml"));
  std::filesystem::current_path(cwd);
  CHECK(c.file == fixture("full.yml"));
  CHECK(c.routing.front() == fixture("routing"));
}

TEST_CASE("every section is optional") {
  const ServerConfig defaults;
  SUBCASE("an empty file gives the defaults") {
    const ServerConfig c = loadServerConfig(fixture("empty.yml"));
    CHECK(c.host == defaults.host);
    CHECK(c.port == defaults.port);
    CHECK(c.maxMessageSize == defaults.maxMessageSize);
    CHECK(c.shutdownTimeout == std::chrono::seconds(10));
    CHECK(c.pingInterval == std::chrono::seconds(30));
    CHECK(c.pongTimeout == std::chrono::seconds(10));
    CHECK(c.writeTimeout == std::chrono::seconds(30));
    CHECK(c.httpKeepAliveTimeout == std::chrono::seconds(5));
    CHECK(c.maxConnections == 0);
    CHECK(c.maxConnectionsPerIp == 0);
    CHECK(c.handshakeRatePerIp == 0);
    CHECK(c.logLevel == defaults.logLevel);
    CHECK(c.pluginDirectories.empty());
    CHECK(c.routing.empty());
    CHECK(c.parameters.empty());
    // Said, so that wampd can refuse to serve it (ConfigSource::load).
    CHECK(c.empty);
  }
  SUBCASE("a partial section keeps the other defaults") {
    const ServerConfig c = loadServerConfig(fixture("partial.yml"));
    CHECK(c.port == 8081);
    CHECK(c.host == "127.0.0.1");
    CHECK(c.maxMessageSize == 64 * 1024);
  }
}

TEST_CASE("cluster: absent, with defaults, every key, and $WAMPD_REDIS_PASSWORD") {
  ::unsetenv("WAMPD_REDIS_PASSWORD");
  CHECK_FALSE(loadServerConfig(fixture("partial.yml")).cluster.enabled);
  ServerConfig c = loadServerConfig(fixture("cluster_defaults.yml"));
  CHECK(c.cluster.enabled);
  CHECK(c.cluster.redis == "redis://127.0.0.1:6379/0");
  CHECK(c.cluster.prefix == "wampd");
  CHECK(c.cluster.node.empty());
  CHECK(c.cluster.maxPendingCalls == 10000);
  c = loadServerConfig(fixture("cluster.yml"));
  CHECK(c.cluster.maxPendingCalls == 50);
  CHECK(c.cluster.redis == "unix://:pw@/run/redis/redis.sock?db=2");
  CHECK(c.cluster.prefix == "oro");
  CHECK(c.cluster.node == "web-1");
  CHECK(c.cluster.password.empty());
  ::setenv("WAMPD_REDIS_PASSWORD", "from-env", 1);
  CHECK(loadServerConfig(fixture("cluster.yml")).cluster.password == "from-env");
  CHECK(loadServerConfig(fixture("partial.yml")).cluster.password.empty());
  ::unsetenv("WAMPD_REDIS_PASSWORD");
}

TEST_CASE("overrides replace and add parameters") {
  const ServerConfig c = loadServerConfig(
      fixture("full.yml"), {{"oro_sync.websocket_ping.interval", "1"}, {"added", "x"}});
  CHECK(c.parameters.at("oro_sync.websocket_ping.interval") == "1");
  CHECK(c.parameters.at("added") == "x");
  CHECK(c.parameters.at("secret") == "ThisTokenIsNotSoSecretChangeIt");
}

TEST_CASE("config errors name file, line and column") {
  SUBCASE("YAML syntax") {
    checkError("invalid/syntax.yml", 3, 7, "YAML syntax error");
  }
  SUBCASE("top level not a map") {
    checkError("invalid/not_a_map.yml", 1, 1, "the config file must be a map");
  }
  SUBCASE("unknown top-level key") {
    checkError("invalid/unknown_top_level_key.yml", 3, 1,
               "unknown key 'plugin' in the config file (expected server, log_level, log_format, "
               "plugins, routing, parameters, auth, cluster)");
  }
  SUBCASE("unknown server key") {
    checkError("invalid/unknown_server_key.yml", 3, 3, "unknown key 'prot' in 'server'");
  }
  SUBCASE("unknown plugins key") {
    checkError("invalid/unknown_plugins_key.yml", 2, 3, "unknown key 'directory' in 'plugins'");
  }
  SUBCASE("port 0") {
    checkError("invalid/port_zero.yml", 2, 9, "server.port must be an integer from 1 to 65535");
  }
  SUBCASE("port over 65535") {
    checkError("invalid/port_too_big.yml", 2, 9, "found '65536'");
  }
  SUBCASE("port not a number") {
    checkError("invalid/port_not_a_number.yml", 2, 9, "found 'http'");
  }
  SUBCASE("max_message_size under 1024") {
    checkError("invalid/message_size_too_small.yml", 2, 21,
               "server.max_message_size must be an integer from 1024");
  }
  SUBCASE("shutdown_timeout under one second") {
    checkError("invalid/shutdown_timeout_zero.yml", 2, 21,
               "server.shutdown_timeout must be an integer from 1 to 3600");
  }
  SUBCASE("timeouts and rates are non-negative numbers") {
    checkError("invalid/ping_interval_negative.yml", 2, 18,
               "server.ping_interval must be a number of seconds from 0 to 86400 (0 disables "
               "it), found '-1'");
    checkError("invalid/write_timeout_not_a_number.yml", 2, 18, "found '30s'");
    checkError("invalid/handshake_rate_too_big.yml", 2, 26,
               "server.handshake_rate_per_ip must be a number of handshakes per second from 0 "
               "to 1000000");
  }
  SUBCASE("server not a map") {
    checkError("invalid/server_not_a_map.yml", 1, 9, "'server' must be a map");
  }
  SUBCASE("host not a string") {
    checkError("invalid/host_not_a_string.yml", 2, 9, "server.host must be a non-empty string");
  }
  SUBCASE("routing not a list") {
    checkError("invalid/routing_not_a_list.yml", 1, 10, "routing must be a list of paths");
  }
  SUBCASE("plugin directory not a string") {
    checkError("invalid/plugin_directory_not_a_string.yml", 4, 7,
               "each entry of plugins.directories must be a non-empty string");
  }
  SUBCASE("unknown log level") {
    checkError("invalid/log_level.yml", 1, 12, "found 'verbose'");
  }
  SUBCASE("parameter not a scalar") {
    checkError("invalid/parameter_not_scalar.yml", 3, 11, "parameter 'listed' must be a scalar");
  }
  SUBCASE("a boolean is true or false, not YAML 1.1's yes") {
    checkError("invalid/boolean_yes.yml", 2, 20,
               "auth.allow_anonymous must be true or false, found 'yes'");
  }
  SUBCASE("verifier_threads is not negative") {
    checkError("invalid/verifier_threads_negative.yml", 2, 21, "auth.verifier_threads must be");
  }
  SUBCASE("a TLS listener needs server.tls") {
    checkError("invalid/listen_tls_without_tls.yml", 4, 25,
               "server.listen: tls: true needs a server.tls section");
  }
  SUBCASE("server.tls takes known keys only") {
    checkError("invalid/tls_unknown_key.yml", 4, 5, "unknown key 'key' in 'server.tls'");
  }
  SUBCASE("min_version is 1.2 or 1.3") {
    checkError("invalid/tls_min_version.yml", 2, 62, "server.tls.min_version must be");
  }
  SUBCASE("a listener needs a port") {
    checkError("invalid/listen_without_port.yml", 3, 7, "each entry of server.listen needs a port");
  }
  SUBCASE("cluster.redis names an address, not a host name") {
    checkError("invalid/cluster_redis_name.yml", 2, 10, "cluster.redis: the host must be an IP");
  }
  SUBCASE("cluster.prefix has no separator characters") {
    checkError("invalid/cluster_prefix.yml", 2, 11, "cluster.prefix may not contain ':'");
  }
  SUBCASE("cluster has three keys") {
    checkError("invalid/cluster_unknown_key.yml", 3, 3,
               "unknown key 'nodes' in 'cluster' (expected redis, prefix, node, "
               "max_pending_calls)");
  }
  SUBCASE("duplicate key names both") {
    checkError("invalid/duplicate_key.yml", 3, 3,
               "duplicate key 'port' in 'server' (first at " +
                   fixture("invalid/duplicate_key.yml") + ":2:3)");
  }
}

TEST_CASE("a missing config file is an error naming it") {
  const ConfigError e = loadError(fixture("missing.yml"));
  CHECK(e.where().file == fixture("missing.yml"));
  CHECK(e.detail() == "no such file");
}

TEST_CASE("the installed default config is valid and serves the bundled setup") {
  const std::string file = std::string(WAMPD_SOURCE_DIR) + "/config/wampd.yml";
  const ServerConfig c = loadServerConfig(file);
  const std::string dir = std::string(WAMPD_SOURCE_DIR) + "/config";
  CHECK(c.host == "127.0.0.1");
  CHECK(c.port == 8080);
  // Installed to <prefix>/share/wampd/: these are <prefix>/lib/wampd/plugins and
  // <prefix>/share/wampd/routing.
  const auto prefix = std::filesystem::path(WAMPD_SOURCE_DIR).parent_path();
  CHECK(c.pluginDirectories == std::vector<std::string>{(prefix / "lib/wampd/plugins").string()});
  CHECK(c.routing == std::vector<std::string>{dir + "/routing"});
  CHECK(c.parameters.at("oro_sync.websocket_ping.interval") == "50");
}

TEST_CASE("defaultConfigPath") {
  SUBCASE("$WAMPD_CONFIG wins") {
    ScopedEnv env("WAMPD_CONFIG", "/somewhere/else.yml");
    CHECK(defaultConfigPath() == "/somewhere/else.yml");
  }
  SUBCASE("without an installation, the build tree's config, which loads") {
    ScopedEnv env("WAMPD_CONFIG", nullptr);
    const std::string path = defaultConfigPath();
    CHECK(std::filesystem::path(path).is_absolute());
    CHECK(path.size() > 17);
    CHECK(path.substr(path.size() - 17) == "/config/wampd.yml");
    const ServerConfig c = loadServerConfig(path);
    CHECK(c.pluginDirectories == std::vector<std::string>{WAMPD_BUILD_PLUGIN_DIR});
    CHECK(c.routing ==
          std::vector<std::string>{std::string(WAMPD_SOURCE_DIR) + "/plugins/ping/routing.yml",
                                   std::string(WAMPD_SOURCE_DIR) + "/plugins/broadcast/routing.yml",
                                   std::string(WAMPD_SOURCE_DIR) + "/plugins/secured/routing.yml"});
  }
}

TEST_CASE("server.listen and server.tls: listeners side by side, paths beside the file") {
  const ServerConfig c = loadServerConfig(fixture("tls.yml"));
  REQUIRE(c.listen.size() == 2);
  CHECK(c.listen[0].host == "0.0.0.0");  // server.host, written before or after
  CHECK(c.listen[0].port == 8080);
  CHECK_FALSE(c.listen[0].tls);
  CHECK(c.listen[1].host == "127.0.0.1");
  CHECK(c.listen[1].port == 8443);
  CHECK(c.listen[1].tls);
  REQUIRE(c.tls);
  CHECK(c.tls->certificate == kFixtures + "certs/server.crt");
  CHECK(c.tls->privateKey == "/etc/wampd/server.key");
  CHECK(c.tls->ca == kFixtures + "certs/ca.crt");
  CHECK(c.tls->minVersion == "1.3");
  CHECK(c.listeners().size() == 2);
}

TEST_CASE("without server.listen, host:port is the one listener, TLS when server.tls is given") {
  const ServerConfig plain = loadServerConfig(fixture("full.yml"));
  REQUIRE(plain.listeners().size() == 1);
  CHECK(plain.listeners()[0].port == 9443);
  CHECK_FALSE(plain.listeners()[0].tls);
  const ServerConfig tls = loadServerConfig(fixture("tls_only.yml"));
  REQUIRE(tls.listeners().size() == 1);
  CHECK(tls.listeners()[0].port == 8443);
  CHECK(tls.listeners()[0].tls);
  CHECK(tls.tls->minVersion == "1.2");
  CHECK(tls.tls->ca.empty());
}
