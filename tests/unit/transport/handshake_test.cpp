#include "transport/handshake.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ws = wampd::core::ws;

namespace {

constexpr const char* kKey = "dGhlIHNhbXBsZSBub25jZQ==";

// A header block: the request line, then each header line, then the blank line.
std::string block(const std::string& requestLine, std::initializer_list<std::string> headers) {
  std::string out = requestLine + "\r\n";
  for (const std::string& h : headers) out += h + "\r\n";
  return out + "\r\n";
}

// The headers a valid request needs, with `extra` after them.
std::string validRequest(std::initializer_list<std::string> extra = {}) {
  std::string out =
      "GET /ws HTTP/1.1\r\n"
      "Host: example.com\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n";
  for (const std::string& h : extra) out += h + "\r\n";
  return out + "\r\n";
}

ws::UpgradeRequest accepted(const std::string& headerBlock) {
  INFO("request: " << headerBlock);
  const ws::ParsedRequest parsed = ws::parseUpgradeRequest(headerBlock);
  REQUIRE_MESSAGE(parsed.request.has_value(), parsed.error.reason);
  return *parsed.request;
}

// Parses expecting a refusal; returns it.
ws::HandshakeError refused(const std::string& headerBlock) {
  INFO("request: " << headerBlock);
  const ws::ParsedRequest parsed = ws::parseUpgradeRequest(headerBlock);
  CHECK_FALSE(parsed.request.has_value());
  CHECK_FALSE(parsed.error.reason.empty());
  return parsed.error;
}

}  // namespace

TEST_CASE("headerBlockLength waits for the blank line") {
  CHECK_FALSE(ws::headerBlockLength("").has_value());
  CHECK_FALSE(ws::headerBlockLength("GET / HTTP/1.1\r\n").has_value());
  CHECK_FALSE(ws::headerBlockLength("GET / HTTP/1.1\r\nHost: x\r\n\r").has_value());
  CHECK_FALSE(ws::headerBlockLength("GET / HTTP/1.1\n\n").has_value());
  CHECK(ws::headerBlockLength("\r\n\r\n") == std::optional<std::size_t>(4));
  const std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK(ws::headerBlockLength(request) == request.size());
  // Bytes after the block (a client's first frame) are not part of it.
  CHECK(ws::headerBlockLength(request + "\x81\x85more") == request.size());
}

TEST_CASE("a valid request") {
  SUBCASE("the fields are taken as sent") {
    const ws::UpgradeRequest r = accepted(
        block("GET /ws/v2?realm=main&x=%20y HTTP/1.1",
              {"Host: example.com:8080", "Upgrade: websocket", "Connection: Upgrade",
               "Origin: https://app.example.com",
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13",
               "Sec-WebSocket-Protocol: wamp.2.json, wamp.2.msgpack", "User-Agent: test"}));
    CHECK(r.resource == "/ws/v2?realm=main&x=%20y");
    CHECK(r.origin == "https://app.example.com");
    CHECK(r.key == kKey);
    CHECK(r.subprotocols == std::vector<std::string>{"wamp.2.json", "wamp.2.msgpack"});
  }
  SUBCASE("no origin and no subprotocols") {
    const ws::UpgradeRequest r = accepted(validRequest());
    CHECK(r.resource == "/ws");
    CHECK(r.origin.empty());
    CHECK(r.key == kKey);
    CHECK(r.subprotocols.empty());
  }
  SUBCASE("subprotocols from repeated headers keep their order") {
    const ws::UpgradeRequest r =
        accepted(validRequest({"Sec-WebSocket-Protocol: wamp.2.msgpack",
                               "Sec-WebSocket-Protocol: wamp.2.json ,  wamp", "Origin: null"}));
    CHECK(r.subprotocols == std::vector<std::string>{"wamp.2.msgpack", "wamp.2.json", "wamp"});
    CHECK(r.origin == "null");
  }
  SUBCASE("header names are case-insensitive, values trimmed") {
    const ws::UpgradeRequest r =
        accepted(block("GET / HTTP/1.1", {"host: x", "UPGRADE: WebSocket", "connection:upgrade",
                                          "sec-websocket-key: \t dGhlIHNhbXBsZSBub25jZQ== \t",
                                          "SEC-WEBSOCKET-VERSION: 13",
                                          "sec-WebSocket-protocol: wamp", "oRiGiN: http://o"}));
    CHECK(r.resource == "/");
    CHECK(r.key == kKey);
    CHECK(r.subprotocols == std::vector<std::string>{"wamp"});
    CHECK(r.origin == "http://o");
  }
  SUBCASE("Connection as a list, as browsers send it") {
    const ws::UpgradeRequest r = accepted(
        block("GET /ws HTTP/1.1",
              {"Host: x", "Upgrade: websocket", "Connection: keep-alive, Upgrade",
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"}));
    CHECK(r.resource == "/ws");
    CHECK(r.key == kKey);
  }
}

TEST_CASE("refused requests") {
  SUBCASE("malformed request line") {
    for (const char* line : {"", "GET", "GET /ws", "GET/wsHTTP/1.1", "GET  HTTP/1.1"}) {
      CAPTURE(line);
      const ws::HandshakeError e = refused(block(line, {"Host: x"}));
      CHECK(e.status == 400);
    }
    // No line end at all.
    CHECK(refused("GET /ws HTTP/1.1").status == 400);
    // A space inside the target.
    const std::string spaced =
        "GET /a b HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    CHECK(refused(spaced).status == 400);
  }
  SUBCASE("HTTP/1.0") {
    const ws::HandshakeError e = refused(
        block("GET /ws HTTP/1.0",
              {"Upgrade: websocket", "Connection: Upgrade",
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"}));
    CHECK(e.status == 400);
    CHECK(e.reason == "WebSocket handshakes need HTTP/1.1");
  }
  SUBCASE("a method other than GET is 405") {
    for (const char* method : {"POST", "HEAD", "get"}) {
      CAPTURE(method);
      const ws::HandshakeError e = refused(
          block(std::string(method) + " /ws HTTP/1.1",
                {"Upgrade: websocket", "Connection: Upgrade",
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"}));
      CHECK(e.status == 405);
    }
  }
  SUBCASE("a plain HTTP request is 426") {
    CHECK(refused(block("GET / HTTP/1.1", {"Host: x"})).status == 426);
  }
  SUBCASE("missing or wrong Upgrade is 426") {
    CHECK(refused(block("GET /ws HTTP/1.1",
                        {"Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                         "Sec-WebSocket-Version: 13"}))
              .status == 426);
    CHECK(refused(block("GET /ws HTTP/1.1", {"Upgrade: h2c", "Connection: Upgrade",
                                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                                             "Sec-WebSocket-Version: 13"}))
              .status == 426);
  }
  SUBCASE("missing or wrong Connection is 426") {
    CHECK(refused(block("GET /ws HTTP/1.1",
                        {"Upgrade: websocket", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                         "Sec-WebSocket-Version: 13"}))
              .status == 426);
    CHECK(refused(block("GET /ws HTTP/1.1", {"Upgrade: websocket", "Connection: keep-alive",
                                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                                             "Sec-WebSocket-Version: 13"}))
              .status == 426);
    // A token is matched whole, not as a substring.
    CHECK(refused(block("GET /ws HTTP/1.1", {"Upgrade: websocket", "Connection: Upgraded",
                                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                                             "Sec-WebSocket-Version: 13"}))
              .status == 426);
  }
  SUBCASE("a missing or wrong Sec-WebSocket-Version is 426") {
    for (const char* version : {"8", "12", "14", "13, 8", ""}) {
      CAPTURE(version);
      const ws::HandshakeError e =
          refused(block("GET /ws HTTP/1.1", {"Upgrade: websocket", "Connection: Upgrade",
                                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                                             std::string("Sec-WebSocket-Version: ") + version}));
      CHECK(e.status == 426);
      CHECK(e.reason == "unsupported Sec-WebSocket-Version: 13 is supported");
    }
    CHECK(refused(block("GET /ws HTTP/1.1", {"Upgrade: websocket", "Connection: Upgrade",
                                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="}))
              .status == 426);
  }
  SUBCASE("a missing or empty key is 400") {
    const ws::HandshakeError e =
        refused(block("GET /ws HTTP/1.1",
                      {"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13"}));
    CHECK(e.status == 400);
    CHECK(e.reason == "missing Sec-WebSocket-Key");
    CHECK(refused(block("GET /ws HTTP/1.1", {"Upgrade: websocket", "Connection: Upgrade",
                                             "Sec-WebSocket-Key:  ", "Sec-WebSocket-Version: 13"}))
              .status == 400);
  }
  SUBCASE("a malformed header line is 400") {
    for (const char* line :
         {"no colon here", ": empty name", " Folded: continuation", "\tFolded: continuation"}) {
      CAPTURE(line);
      const ws::HandshakeError e = refused(validRequest({line}));
      CHECK(e.status == 400);
      CHECK(e.reason == "malformed header line");
    }
  }
  SUBCASE("control characters are 400") {
    // In the request line.
    CHECK(refused(block(std::string("GET /w\x01s HTTP/1.1"), {"Host: x"})).status == 400);
    CHECK(refused(block(std::string("GET /w\x7Fs HTTP/1.1"), {"Host: x"})).status == 400);
    CHECK(refused(block("GET /ws\rX HTTP/1.1", {"Host: x"})).status == 400);
    // In a header value, including a bare CR or LF that would split the line.
    for (const std::string& value :
         {std::string("a\x01z"), std::string("a\nX-Injected: 1"), std::string("a\rz"),
          std::string("a\x7Fz"), std::string("a\0z", 3)}) {
      CAPTURE(value);
      const ws::HandshakeError e = refused(validRequest({"Origin: " + value}));
      CHECK(e.status == 400);
      CHECK(e.reason == "malformed header line");
    }
  }
}

TEST_CASE("control characters in a header name are 400") {
  for (const std::string& name : {std::string("X-A\x01"), std::string("X\nInjected"),
                                  std::string("X\rY"), std::string("X\x7FY")}) {
    CAPTURE(name);
    const ws::ParsedRequest parsed = ws::parseUpgradeRequest(validRequest({name + ": value"}));
    CHECK_FALSE(parsed.request.has_value());
    CHECK(parsed.error.status == 400);
  }
}

// RFC 7230 section 3.2.4: whitespace between a header name and its colon is a 400, so that
// "Upgrade : websocket" cannot be read one way here and another way by a proxy.
TEST_CASE("whitespace before a header's colon is 400") {
  for (const char* line : {"Origin : https://evil.example", "Upgrade\t: websocket"}) {
    CAPTURE(line);
    const ws::ParsedRequest parsed = ws::parseUpgradeRequest(validRequest({line}));
    CHECK_FALSE(parsed.request.has_value());
    CHECK(parsed.error.status == 400);
  }
}

TEST_CASE("a Sec-WebSocket-Key that is not 16 bytes in base64 is 400") {
  for (const char* key :
       {"abc", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ=A", "dGhlIHNhbXBsZSBub25jZ*==",
        "dGhlIHNhbXBsZSBub25jZQ===", "dGhlIHNhbXBsZSBub25jZSBsb25nZXI="}) {
    CAPTURE(key);
    const ws::HandshakeError e =
        refused(block("GET /ws HTTP/1.1",
                      {"Upgrade: websocket", "Connection: Upgrade",
                       std::string("Sec-WebSocket-Key: ") + key, "Sec-WebSocket-Version: 13"}));
    CHECK(e.status == 400);
    CHECK(e.reason == "Sec-WebSocket-Key is not 16 bytes in base64");
  }
}

TEST_CASE("a tab inside a header value is allowed (RFC 7230 field-content)") {
  const ws::ParsedRequest parsed = ws::parseUpgradeRequest(validRequest({"User-Agent: a\tb"}));
  CHECK(parsed.request.has_value());
}

TEST_CASE("acceptToken matches RFC 6455's example") {
  // Section 1.3.
  CHECK(ws::acceptToken(kKey) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  // Another key, computed independently with `openssl sha1 -binary | base64`.
  CHECK(ws::acceptToken("x3JJHMbDL1EzLkh9GBhXDw==") == "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

TEST_CASE("switchingProtocolsResponse") {
  SUBCASE("with a subprotocol") {
    CHECK(ws::switchingProtocolsResponse(kKey, "wamp.2.json", "wampd/1.0") ==
          "HTTP/1.1 101 Switching Protocols\r\n"
          "Upgrade: websocket\r\n"
          "Connection: Upgrade\r\n"
          "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
          "Sec-WebSocket-Protocol: wamp.2.json\r\n"
          "Server: wampd/1.0\r\n"
          "\r\n");
  }
  SUBCASE("without one") {
    CHECK(ws::switchingProtocolsResponse(kKey, "", "wampd/1.0") ==
          "HTTP/1.1 101 Switching Protocols\r\n"
          "Upgrade: websocket\r\n"
          "Connection: Upgrade\r\n"
          "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
          "Server: wampd/1.0\r\n"
          "\r\n");
  }
}

TEST_CASE("refusalResponse") {
  SUBCASE("the status line has a fixed text; the reason is the body") {
    const std::string reason = "bad thing\r\nX-Injected: 1";
    const std::string response = ws::refusalResponse(400, reason, "wampd/1.0");
    const std::string body = reason + "\n";
    CHECK(response ==
          "HTTP/1.1 400 Bad Request\r\n"
          "Content-Type: text/plain; charset=utf-8\r\n"
          "Content-Length: " +
              std::to_string(body.size()) +
              "\r\n"
              "Connection: close\r\n"
              "Server: wampd/1.0\r\n"
              "\r\n" +
              body);
    CHECK(body.size() == 25);
  }
  SUBCASE("426 tells the client the version") {
    CHECK(ws::refusalResponse(426, "upgrade", "s") ==
          "HTTP/1.1 426 Upgrade Required\r\n"
          "Sec-WebSocket-Version: 13\r\n"
          "Content-Type: text/plain; charset=utf-8\r\n"
          "Content-Length: 8\r\n"
          "Connection: close\r\n"
          "Server: s\r\n"
          "\r\n"
          "upgrade\n");
  }
  SUBCASE("other statuses") {
    const std::vector<std::pair<std::uint16_t, std::string>> lines = {
        {403, "HTTP/1.1 403 Forbidden\r\n"},
        {404, "HTTP/1.1 404 Not Found\r\n"},
        {405, "HTTP/1.1 405 Method Not Allowed\r\n"},
        {431, "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
        {503, "HTTP/1.1 503 Service Unavailable\r\n"},
        {418, "HTTP/1.1 418 Error\r\n"},
    };
    for (const auto& [status, line] : lines) {
      CAPTURE(status);
      const std::string response = ws::refusalResponse(status, "", "s");
      CHECK(response.substr(0, line.size()) == line);
      CHECK(response.find("Sec-WebSocket-Version") == std::string::npos);
      CHECK(response.find("Content-Length: 1\r\n") != std::string::npos);
      CHECK(response.substr(response.size() - 5) == "\r\n\r\n\n");
    }
  }
}

TEST_CASE("a request with no Upgrade header is plain HTTP") {
  SUBCASE("method, target and Authorization are kept; the error is the WebSocket answer") {
    const ws::ParsedRequest parsed = ws::parseUpgradeRequest(
        block("GET /metrics?x=1 HTTP/1.1", {"Host: x", "Authorization:  Bearer abc "}));
    CHECK_FALSE(parsed.request.has_value());
    REQUIRE(parsed.plain.has_value());
    CHECK(parsed.plain->method == "GET");
    CHECK(parsed.plain->target == "/metrics?x=1");
    CHECK(parsed.plain->authorization == "Bearer abc");
    CHECK(parsed.error.status == 426);
  }
  SUBCASE("another method keeps its 405") {
    const ws::ParsedRequest parsed = ws::parseUpgradeRequest(block("POST /health HTTP/1.1", {}));
    REQUIRE(parsed.plain.has_value());
    CHECK(parsed.plain->method == "POST");
    CHECK(parsed.error.status == 405);
  }
  SUBCASE("a request naming Upgrade, even a wrong one, is a handshake, not plain HTTP") {
    const ws::ParsedRequest parsed =
        ws::parseUpgradeRequest(block("GET / HTTP/1.1", {"Upgrade: h2c", "Connection: Upgrade"}));
    CHECK_FALSE(parsed.plain.has_value());
    CHECK(parsed.error.status == 426);
  }
  SUBCASE("a malformed one is refused before it is plain") {
    const ws::ParsedRequest parsed = ws::parseUpgradeRequest(block("GET / HTTP/2.0", {}));
    CHECK_FALSE(parsed.plain.has_value());
    CHECK(parsed.error.status == 400);
  }
  SUBCASE("HTTP/1.0 is plain HTTP, but never a handshake") {
    const ws::ParsedRequest parsed = ws::parseUpgradeRequest(block("GET /health HTTP/1.0", {}));
    REQUIRE(parsed.plain.has_value());
    CHECK(parsed.error.status == 400);
    CHECK(parsed.error.reason == "WebSocket handshakes need HTTP/1.1");
  }
  SUBCASE("keep-alive: HTTP/1.1 unless Connection: close; HTTP/1.0 only when asked") {
    const auto keeps = [](const std::string& line, std::initializer_list<std::string> headers) {
      const ws::ParsedRequest parsed = ws::parseUpgradeRequest(block(line, headers));
      REQUIRE(parsed.plain.has_value());
      return parsed.plain->keepAlive;
    };
    CHECK(keeps("GET / HTTP/1.1", {"Host: x"}));
    CHECK_FALSE(keeps("GET / HTTP/1.1", {"Connection: close"}));
    CHECK_FALSE(keeps("GET / HTTP/1.1", {"Connection: TE, Close"}));
    CHECK(keeps("GET / HTTP/1.1", {"Connection: keep-alive"}));
    CHECK_FALSE(keeps("GET / HTTP/1.0", {}));
    CHECK(keeps("GET / HTTP/1.0", {"Connection: Keep-Alive"}));
    CHECK_FALSE(keeps("GET / HTTP/1.0", {"Connection: keep-alive, close"}));
  }
  SUBCASE("a valid handshake is not plain") {
    CHECK_FALSE(ws::parseUpgradeRequest(validRequest()).plain.has_value());
  }
}

TEST_CASE("httpResponse") {
  SUBCASE("status, type, length, and the connection closes") {
    CHECK(ws::httpResponse(200, "application/json", "{}", "s") ==
          "HTTP/1.1 200 OK\r\n"
          "Content-Type: application/json\r\n"
          "Content-Length: 2\r\n"
          "Cache-Control: no-store\r\n"
          "Connection: close\r\n"
          "Server: s\r\n"
          "\r\n"
          "{}");
  }
  SUBCASE("HEAD keeps the length and leaves the body out") {
    const std::string response = ws::httpResponse(503, "text/plain", "draining", "s", true);
    CHECK(response.substr(0, 34) == "HTTP/1.1 503 Service Unavailable\r\n");
    CHECK(response.find("Content-Length: 8\r\n") != std::string::npos);
    CHECK(response.substr(response.size() - 4) == "\r\n\r\n");
  }
  SUBCASE("a kept connection says for how long and how many more") {
    CHECK(ws::httpResponse(200, "text/plain", "ok", "s", false, ws::KeepAlive{5, 999}) ==
          "HTTP/1.1 200 OK\r\n"
          "Content-Type: text/plain\r\n"
          "Content-Length: 2\r\n"
          "Cache-Control: no-store\r\n"
          "Connection: keep-alive\r\n"
          "Keep-Alive: timeout=5, max=999\r\n"
          "Server: s\r\n"
          "\r\n"
          "ok");
  }
}

TEST_CASE("a plain request's body is sized by Content-Length") {
  SUBCASE("the length is kept") {
    const ws::ParsedRequest parsed =
        ws::parseUpgradeRequest(block("POST /api/publish HTTP/1.1", {"Content-Length: 42"}));
    REQUIRE(parsed.plain.has_value());
    CHECK(parsed.plain->contentLength == 42);
  }
  SUBCASE("none is an empty body") {
    CHECK(ws::parseUpgradeRequest(block("GET /health HTTP/1.1", {})).plain->contentLength == 0);
  }
  SUBCASE("malformed or conflicting lengths are 400") {
    for (const char* header : {"Content-Length: -1", "Content-Length: 1e3",
                               "Content-Length: ", "Content-Length: 9999999999999"}) {
      CAPTURE(header);
      const ws::ParsedRequest parsed = ws::parseUpgradeRequest(block("POST / HTTP/1.1", {header}));
      CHECK_FALSE(parsed.plain.has_value());
      CHECK(parsed.error.status == 400);
    }
    CHECK(ws::parseUpgradeRequest(
              block("POST / HTTP/1.1", {"Content-Length: 1", "Content-Length: 2"}))
              .error.status == 400);
  }
  SUBCASE("chunked bodies are 411") {
    const ws::ParsedRequest parsed =
        ws::parseUpgradeRequest(block("POST / HTTP/1.1", {"Transfer-Encoding: chunked"}));
    CHECK_FALSE(parsed.plain.has_value());
    CHECK(parsed.error.status == 411);
  }
}

TEST_CASE("two Sec-WebSocket-Key headers are 400 (RFC 6455 section 11.3.1)") {
  const ws::HandshakeError e =
      refused(validRequest({"Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA=="}));
  CHECK(e.status == 400);
  CHECK(e.reason == "more than one Sec-WebSocket-Key");
}
