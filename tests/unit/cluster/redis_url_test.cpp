// cluster.redis URLs: TCP and unix sockets, credentials, databases, and what is refused.
#include "cluster/redis_url.h"

#include <doctest/doctest.h>

namespace wampd::core::cluster {
namespace {

RedisAddress parsed(std::string_view url) {
  RedisAddress a;
  std::string error;
  CHECK_MESSAGE(parseRedisUrl(url, a, error), error);
  return a;
}

std::string refusal(std::string_view url) {
  RedisAddress a;
  std::string error;
  CHECK_FALSE(parseRedisUrl(url, a, error));
  return error;
}

TEST_CASE("redis:// with host, port and database") {
  const RedisAddress a = parsed("redis://127.0.0.1:6380/2");
  CHECK(a.host == "127.0.0.1");
  CHECK(a.port == 6380);
  CHECK(a.database == 2);
  CHECK_FALSE(a.isUnix());
  CHECK(a.password.empty());
  CHECK(a.describe() == "redis://127.0.0.1:6380/2");
}

TEST_CASE("defaults: port 6379, database 0; localhost is loopback") {
  const RedisAddress a = parsed("redis://localhost");
  CHECK(a.host == "127.0.0.1");
  CHECK(a.port == 6379);
  CHECK(a.database == 0);
  CHECK(parsed("redis://10.0.0.1/").database == 0);
}

TEST_CASE("IPv6 in brackets") {
  const RedisAddress a = parsed("redis://[::1]:7000/1");
  CHECK(a.host == "::1");
  CHECK(a.port == 7000);
  CHECK(a.describe() == "redis://[::1]:7000/1");
}

TEST_CASE("password alone, user and password, percent escapes; never in describe()") {
  RedisAddress a = parsed("redis://:s%40cret@127.0.0.1");
  CHECK(a.username.empty());
  CHECK(a.password == "s@cret");
  CHECK(a.describe().find("cret") == std::string::npos);
  a = parsed("redis://wampd:pa:ss@127.0.0.1:6379/0");
  CHECK(a.username == "wampd");
  CHECK(a.password == "pa:ss");
  a = parsed("redis://onlypassword@127.0.0.1");
  CHECK(a.password == "onlypassword");
}

TEST_CASE("unix sockets, with a database in the query") {
  RedisAddress a = parsed("unix:///run/redis/redis.sock");
  CHECK(a.isUnix());
  CHECK(a.socketPath == "/run/redis/redis.sock");
  CHECK(a.database == 0);
  a = parsed("unix://:pw@/tmp/r.sock?db=3");
  CHECK(a.socketPath == "/tmp/r.sock");
  CHECK(a.password == "pw");
  CHECK(a.database == 3);
}

TEST_CASE("refused: other schemes, names, bad ports and databases, bad escapes") {
  CHECK(refusal("http://127.0.0.1").find("redis://") != std::string::npos);
  CHECK(refusal("redis://redis.example.com").find("IP address") != std::string::npos);
  CHECK(refusal("redis://127.0.0.1:0").find("port") != std::string::npos);
  CHECK(refusal("redis://127.0.0.1:65536").find("port") != std::string::npos);
  CHECK(refusal("redis://127.0.0.1:x").find("port") != std::string::npos);
  CHECK(refusal("redis://127.0.0.1/db").find("database") != std::string::npos);
  CHECK(refusal("redis://").find("host") != std::string::npos);
  CHECK(refusal("redis://[::1").find("bracket") != std::string::npos);
  CHECK(refusal("redis://:%4@127.0.0.1").find("escape") != std::string::npos);
  CHECK(refusal("redis://:%zz@127.0.0.1").find("escape") != std::string::npos);
  CHECK(refusal("unix://relative.sock").find("absolute") != std::string::npos);
  CHECK(refusal("unix:///tmp/r.sock?database=1").find("db=") != std::string::npos);
}

}  // namespace
}  // namespace wampd::core::cluster
