#include "ctl/backend_token.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include "../scoped_env.h"
#include "auth/authenticator.h"

using namespace wampd::ctl;
using wampd::core::ServerConfig;
using wampd::core::auth::deriveBackendToken;

namespace {

using wampd::test::ScopedEnv;

// A cookie file holding "cookie-token", removed at the end.
struct Cookie {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("wampd-ctl-test-" + std::to_string(::getpid()) + ".token"))
                         .string();
  Cookie() { std::ofstream(path) << "cookie-token\n"; }
  ~Cookie() { std::filesystem::remove(path); }
};

ServerConfig configWith(const std::string& secret, const std::string& backendToken) {
  ServerConfig config;
  config.file = "/etc/wampd/wampd.yml";
  config.auth.secret = secret;
  config.auth.backendToken = backendToken;
  return config;
}

}  // namespace

TEST_CASE("the first token found wins: --token, $WAMPD_BACKEND_TOKEN, config, cookie") {
  ScopedEnv secretEnv("WAMPD_SECRET", nullptr);
  Cookie cookie;
  const ServerConfig config = configWith("kernel-secret", "configured-token-123");
  {
    ScopedEnv env("WAMPD_BACKEND_TOKEN", "env-token");
    const BackendToken token = findBackendToken("flag-token", &config, cookie.path);
    CHECK(token.value == "flag-token");
    CHECK(token.source == "--token");
    const BackendToken fromEnv = findBackendToken("", &config, cookie.path);
    CHECK(fromEnv.value == "env-token");
    CHECK(fromEnv.source == "$WAMPD_BACKEND_TOKEN");
  }
  ScopedEnv noEnvToken("WAMPD_BACKEND_TOKEN", nullptr);
  const BackendToken configured = findBackendToken("", &config, cookie.path);
  CHECK(configured.value == "configured-token-123");
  CHECK(configured.source == "auth.backend_token in /etc/wampd/wampd.yml");

  const ServerConfig secretOnly = configWith("kernel-secret", "");
  const BackendToken derived = findBackendToken("", &secretOnly, cookie.path);
  CHECK(derived.value == deriveBackendToken("kernel-secret"));
  CHECK(derived.source == "auth.secret in /etc/wampd/wampd.yml");

  const ServerConfig neither = configWith("", "");
  const BackendToken fromCookie = findBackendToken("", &neither, cookie.path);
  CHECK(fromCookie.value == "cookie-token");
  CHECK(fromCookie.source == "the cookie " + cookie.path);
  CHECK(findBackendToken("", nullptr, cookie.path).value == "cookie-token");
}

TEST_CASE("$WAMPD_SECRET gives the token when no config names one") {
  ScopedEnv noEnvToken("WAMPD_BACKEND_TOKEN", nullptr);
  ScopedEnv secretEnv("WAMPD_SECRET", "env-secret");
  Cookie cookie;
  const BackendToken token = findBackendToken("", nullptr, cookie.path);
  CHECK(token.value == deriveBackendToken("env-secret"));
  CHECK(token.source == "$WAMPD_SECRET");
  // With a config, loadServerConfig has already put $WAMPD_SECRET over auth.secret.
  const ServerConfig config = configWith("env-secret", "");
  CHECK(findBackendToken("", &config, cookie.path).source == "$WAMPD_SECRET");
}

TEST_CASE("no token anywhere: nothing") {
  ScopedEnv noEnvToken("WAMPD_BACKEND_TOKEN", nullptr);
  ScopedEnv secretEnv("WAMPD_SECRET", nullptr);
  const BackendToken token = findBackendToken("", nullptr, "/nonexistent/wampd-1.token");
  CHECK(token.value.empty());
  CHECK(token.source.empty());
}

TEST_CASE("redact replaces every occurrence of the token") {
  CHECK(redact("ws://h:1/abc?x and abc again", "abc") ==
        "ws://h:1/<backend token>?x and <backend token> again");
  CHECK(redact("nothing here", "abc") == "nothing here");
  CHECK(redact("abc", "") == "abc");
  CHECK(redact("aaaa", "aa") == "<backend token><backend token>");
}
