#include "auth/backend_cookie.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "../scoped_env.h"
#include "temp_dir.h"

using namespace wampd::core::auth;
namespace fs = std::filesystem;

namespace {

using wampd::test::ScopedEnv;

std::string contentOf(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

unsigned permissionsOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("cookiePath: $WAMPD_RUNTIME_DIR, else $XDG_RUNTIME_DIR, else /tmp") {
  {
    ScopedEnv runtime("WAMPD_RUNTIME_DIR", "/run/wampd");
    ScopedEnv xdg("XDG_RUNTIME_DIR", "/run/user/1000");
    CHECK(cookiePath(8080) == "/run/wampd/wampd-8080.token");
  }
  {
    ScopedEnv runtime("WAMPD_RUNTIME_DIR", "");
    ScopedEnv xdg("XDG_RUNTIME_DIR", "/run/user/1000");
    CHECK(cookiePath(9000) == "/run/user/1000/wampd-9000.token");
  }
  {
    ScopedEnv runtime("WAMPD_RUNTIME_DIR", nullptr);
    ScopedEnv xdg("XDG_RUNTIME_DIR", nullptr);
    CHECK(cookiePath(1) == "/tmp/wampd-1.token");
  }
}

TEST_CASE("cookieCandidates: cookiePath, then the packaged service's /run/wampd") {
  {
    ScopedEnv runtime("WAMPD_RUNTIME_DIR", nullptr);
    ScopedEnv xdg("XDG_RUNTIME_DIR", nullptr);
    CHECK(cookieCandidates(8080) ==
          std::vector<std::string>{"/tmp/wampd-8080.token", "/run/wampd/wampd-8080.token"});
  }
  {
    ScopedEnv runtime("WAMPD_RUNTIME_DIR", nullptr);
    ScopedEnv xdg("XDG_RUNTIME_DIR", "/run/user/0");
    CHECK(cookieCandidates(1) ==
          std::vector<std::string>{"/run/user/0/wampd-1.token", "/run/wampd/wampd-1.token"});
  }
  {
    // A runtime directory named by the operator is the only place.
    ScopedEnv runtime("WAMPD_RUNTIME_DIR", "/srv/ws");
    CHECK(cookieCandidates(8080) == std::vector<std::string>{"/srv/ws/wampd-8080.token"});
  }
  {
    ScopedEnv runtime("WAMPD_RUNTIME_DIR", "");
    ScopedEnv xdg("XDG_RUNTIME_DIR", "/run/wampd");
    CHECK(cookieCandidates(8080) == std::vector<std::string>{"/run/wampd/wampd-8080.token"});
  }
}

TEST_CASE("writeCookie writes the token for its owner only, and readCookie reads it") {
  wampd::test::TempDir dir;
  const std::string path = dir.file("wampd-8080.token");
  const mode_t oldMask = ::umask(0);  // even a permissive umask must not widen the mode
  std::string error;
  const bool written = writeCookie(path, "0123abcd", error);
  ::umask(oldMask);
  REQUIRE_MESSAGE(written, error);
  CHECK(contentOf(path) == "0123abcd\n");
  CHECK(permissionsOf(path) == 0600);
  CHECK(readCookie(path) == std::optional<std::string>("0123abcd"));
  // Nothing but the cookie is left behind.
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("writeCookie replaces an older cookie") {
  wampd::test::TempDir dir;
  const std::string path = dir.file("wampd-1.token");
  std::string error;
  REQUIRE(writeCookie(path, "old-token", error));
  REQUIRE(writeCookie(path, "new-token", error));
  CHECK(readCookie(path) == std::optional<std::string>("new-token"));
}

TEST_CASE("writeCookie replaces a planted symlink instead of writing through it") {
  wampd::test::TempDir dir;
  const std::string victim = dir.write("victim", "precious\n");
  const std::string path = dir.file("wampd-2.token");
  fs::create_symlink(victim, path);
  std::string error;
  REQUIRE_MESSAGE(writeCookie(path, "token", error), error);
  CHECK(contentOf(victim) == "precious\n");
  CHECK_FALSE(fs::is_symlink(path));
  CHECK(permissionsOf(path) == 0600);
  CHECK(readCookie(path) == std::optional<std::string>("token"));
}

TEST_CASE("writeCookie fails with a reason naming the file, never the token") {
  wampd::test::TempDir dir;
  const std::string path = dir.file("no-such-dir/wampd-3.token");
  std::string error;
  CHECK_FALSE(writeCookie(path, "secret-token-value", error));
  CHECK(error.find(dir.file("no-such-dir")) != std::string::npos);
  CHECK(error.find("secret-token-value") == std::string::npos);
}

TEST_CASE("readCookie has nothing for a missing or empty cookie") {
  wampd::test::TempDir dir;
  CHECK_FALSE(readCookie(dir.file("missing")).has_value());
  CHECK_FALSE(readCookie(dir.write("empty", "")).has_value());
  CHECK_FALSE(readCookie(dir.write("blank", "\n")).has_value());
  CHECK(readCookie(dir.write("no-newline", "tok")) == std::optional<std::string>("tok"));
}

TEST_CASE("randomToken is 64 hex digits, different each time") {
  const std::string a = randomToken();
  const std::string b = randomToken();
  CHECK(a.size() == 64);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != b);
}
