#include "ctl/server_url.h"

#include <doctest/doctest.h>

using namespace wampd::ctl;

TEST_CASE("parseWsUrl splits host, port, path and query") {
  WsUrl url;
  std::string error;
  REQUIRE(parseWsUrl("ws://127.0.0.1:8080/ws/path?ticket=a%2Bb", url, error));
  CHECK(url.scheme == "ws");
  CHECK(url.host == "127.0.0.1");
  CHECK(url.port == 8080);
  CHECK(url.path == "/ws/path");
  CHECK(url.query == "ticket=a%2Bb");

  REQUIRE(parseWsUrl("ws://example.com", url, error));
  CHECK(url.port == 80);
  CHECK(url.path.empty());
  REQUIRE(parseWsUrl("WSS://example.com/", url, error));
  CHECK(url.scheme == "wss");
  CHECK(url.port == 443);
  REQUIRE(parseWsUrl("ws://[::1]:9000/", url, error));
  CHECK(url.host == "[::1]");
  CHECK(url.port == 9000);
  REQUIRE(parseWsUrl("ws://h:1?x=1", url, error));
  CHECK(url.path.empty());
  CHECK(url.query == "x=1");
}

TEST_CASE("parseWsUrl refuses what is not a ws URL") {
  WsUrl url;
  std::string error;
  for (const char* bad : {"127.0.0.1:8080", "http://h/", "ws://", "ws://:80/", "ws://h:0/",
                          "ws://h:65536/", "ws://h:80x/", "ws://[::1/", "ws://[::1]x/"}) {
    INFO(bad);
    CHECK_FALSE(parseWsUrl(bad, url, error));
    CHECK(error.find(bad) != std::string::npos);
  }
}

TEST_CASE("withLastPathSegment appends the token as the path's last segment") {
  CHECK(withLastPathSegment("ws://h:1/", "T") == "ws://h:1/T");
  CHECK(withLastPathSegment("ws://h:1", "T") == "ws://h:1/T");
  CHECK(withLastPathSegment("ws://h:1/ws", "T") == "ws://h:1/ws/T");
  CHECK(withLastPathSegment("ws://h:1/ws/", "T") == "ws://h:1/ws/T");
  CHECK(withLastPathSegment("ws://h:1/ws?ticket=x%2F", "T") == "ws://h:1/ws/T?ticket=x%2F");
  CHECK(withLastPathSegment("ws://h:1?ticket=x", "T") == "ws://h:1/T?ticket=x");
  CHECK(withLastPathSegment("ws://[::1]:1/a", "T") == "ws://[::1]:1/a/T");
}

TEST_CASE("withLastPathSegment leaves a URL that already ends with the token alone") {
  CHECK(withLastPathSegment("ws://h:1/T", "T") == "ws://h:1/T");
  CHECK(withLastPathSegment("ws://h:1/ws/T?ticket=x", "T") == "ws://h:1/ws/T?ticket=x");
  CHECK(withLastPathSegment("ws://h:1/T/x", "T") == "ws://h:1/T/x/T");
}

TEST_CASE("isPlainPathSegment accepts what needs no escaping in a path segment") {
  CHECK(isPlainPathSegment("0123abcdef"));
  CHECK(isPlainPathSegment("a-b_c.d~e!$&'()*+,;=:@"));
  CHECK_FALSE(isPlainPathSegment(""));
  for (const char* bad : {"a/b", "a?b", "a#b", "a%20", "a b", "é"})
    CHECK_FALSE(isPlainPathSegment(bad));
}

TEST_CASE("urlForListener reaches a wildcard listener through loopback") {
  CHECK(urlForListener("127.0.0.1", 8080) == "ws://127.0.0.1:8080/");
  CHECK(urlForListener("0.0.0.0", 9000) == "ws://127.0.0.1:9000/");
  CHECK(urlForListener("::", 1) == "ws://[::1]:1/");
  CHECK(urlForListener("::1", 1) == "ws://[::1]:1/");
  CHECK(urlForListener("example.com", 80) == "ws://example.com:80/");
}

TEST_CASE("urlForListener says wss:// for a TLS listener") {
  CHECK(urlForListener("0.0.0.0", 8443, true) == "wss://127.0.0.1:8443/");
}

TEST_CASE("percentEncode escapes everything but unreserved characters, as rawurlencode") {
  CHECK(percentEncode("abcXYZ019-_.~") == "abcXYZ019-_.~");
  CHECK(percentEncode("a+b/c==") == "a%2Bb%2Fc%3D%3D");
  CHECK(percentEncode(" ;&") == "%20%3B%26");
  CHECK(percentEncode("\xc3\xa9") == "%C3%A9");
  CHECK(percentEncode("") == "");
}
