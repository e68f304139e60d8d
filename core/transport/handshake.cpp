#include "transport/handshake.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

namespace wampd::core::ws {
namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

/// Whether the comma-separated `list` holds `token` (case-insensitive), as in
/// `Connection: keep-alive, Upgrade`.
bool listHasToken(std::string_view list, std::string_view token) noexcept {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (equalsIgnoringCase(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

void appendList(std::vector<std::string>& out, std::string_view list) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    std::string_view item = trim(list.substr(0, comma));
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// RFC 7230 section 3.2.6: a field name is a token.
bool isToken(std::string_view s) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7F &&
           std::string_view("\"(),/:;<=>?@[\\]{}").find(c) == std::string_view::npos;
  });
}

// Visible characters, spaces and tabs (RFC 7230 field-content); obs-text bytes are allowed.
bool printable(std::string_view s) noexcept {
  return std::all_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u >= 0x20 || u == '\t') && u != 0x7F;
  });
}

const char* reasonPhrase(std::uint16_t status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

// RFC 6455 section 4.1: the key is 16 bytes in base64, which is 22 characters and "==".
bool wellFormedKey(std::string_view key) noexcept {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  return std::all_of(key.begin(), key.begin() + 22, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/';
  });
}

HandshakeError fail(std::uint16_t status, std::string reason) {
  return HandshakeError{status, std::move(reason)};
}

}  // namespace

std::optional<std::size_t> headerBlockLength(std::string_view data) noexcept {
  const std::size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) return std::nullopt;
  return end + 4;
}

ParsedRequest parseUpgradeRequest(std::string_view block) {
  ParsedRequest parsed;
  std::size_t lineEnd = block.find("\r\n");
  if (lineEnd == std::string_view::npos) {
    parsed.error = fail(400, "malformed request line");
    return parsed;
  }
  const std::string_view requestLine = block.substr(0, lineEnd);
  const std::size_t sp1 = requestLine.find(' ');
  const std::size_t sp2 = requestLine.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2 || !printable(requestLine)) {
    parsed.error = fail(400, "malformed request line");
    return parsed;
  }
  const std::string_view method = requestLine.substr(0, sp1);
  const std::string_view resource = requestLine.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = requestLine.substr(sp2 + 1);
  // HTTP/1.0 is plain HTTP's only (a load balancer's probe may still speak it).
  const bool http10 = version == "HTTP/1.0";
  if (version != "HTTP/1.1" && !http10) {
    parsed.error = fail(400, "WebSocket handshakes need HTTP/1.1");
    return parsed;
  }
  if (resource.empty() || resource.find(' ') != std::string_view::npos) {
    parsed.error = fail(400, "malformed request target");
    return parsed;
  }

  UpgradeRequest request;
  request.resource = std::string(resource);
  bool upgradeHeader = false, upgrade = false, connectionUpgrade = false, haveKey = false;
  bool connectionClose = false, connectionKeepAlive = false;
  std::string_view authorization, contentLength;
  bool chunked = false, haveLength = false;
  std::string_view wsVersion;
  std::size_t pos = lineEnd + 2;
  while (pos < block.size()) {
    lineEnd = block.find("\r\n", pos);
    if (lineEnd == std::string_view::npos) lineEnd = block.size();
    const std::string_view line = block.substr(pos, lineEnd - pos);
    pos = lineEnd + 2;
    if (line.empty()) break;
    const std::size_t colon = line.find(':');
    // A name must be a token: no whitespace before the colon (RFC 7230 section 3.2.4), no
    // control characters, no continuation lines.
    if (colon == std::string_view::npos || !isToken(line.substr(0, colon)) ||
        !printable(line.substr(colon + 1))) {
      parsed.error = fail(400, "malformed header line");
      return parsed;
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (equalsIgnoringCase(name, "Upgrade")) {
      upgradeHeader = true;
      upgrade = upgrade || listHasToken(value, "websocket");
    } else if (equalsIgnoringCase(name, "Connection")) {
      connectionUpgrade = connectionUpgrade || listHasToken(value, "upgrade");
      connectionClose = connectionClose || listHasToken(value, "close");
      connectionKeepAlive = connectionKeepAlive || listHasToken(value, "keep-alive");
    } else if (equalsIgnoringCase(name, "Sec-WebSocket-Key")) {
      // RFC 6455 section 11.3.1: it must not appear more than once.
      if (haveKey) {
        parsed.error = fail(400, "more than one Sec-WebSocket-Key");
        return parsed;
      }
      request.key = std::string(value);
      haveKey = !value.empty();
    } else if (equalsIgnoringCase(name, "Sec-WebSocket-Version")) {
      wsVersion = value;
    } else if (equalsIgnoringCase(name, "Sec-WebSocket-Protocol")) {
      appendList(request.subprotocols, value);
    } else if (equalsIgnoringCase(name, "Origin")) {
      request.origin = std::string(value);
    } else if (equalsIgnoringCase(name, "Authorization")) {
      authorization = value;
    } else if (equalsIgnoringCase(name, "Content-Length")) {
      if (haveLength && contentLength != value) {
        parsed.error = fail(400, "conflicting Content-Length headers");
        return parsed;
      }
      contentLength = value;
      haveLength = true;
    } else if (equalsIgnoringCase(name, "Transfer-Encoding")) {
      chunked = true;
    }
  }
  if (!upgradeHeader) {
    // Bodies are sized up front: nothing can be smuggled behind a chunked one.
    if (chunked) {
      parsed.error = fail(411, "send the body with a Content-Length, not chunked");
      return parsed;
    }
    std::size_t length = 0;
    if (haveLength) {
      if (contentLength.empty() || contentLength.size() > 12 ||
          !std::all_of(contentLength.begin(), contentLength.end(),
                       [](char c) { return c >= '0' && c <= '9'; })) {
        parsed.error = fail(400, "malformed Content-Length");
        return parsed;
      }
      length = std::stoull(std::string(contentLength));
    }
    parsed.plain =
        PlainRequest{std::string(method), std::string(resource), std::string(authorization), length,
                     !connectionClose && (!http10 || connectionKeepAlive)};
  }
  if (http10) {
    parsed.error = fail(400, "WebSocket handshakes need HTTP/1.1");
    return parsed;
  }
  if (method != "GET") {
    parsed.error = fail(405, "WebSocket handshakes use GET");
    return parsed;
  }
  if (!upgrade || !connectionUpgrade) {
    parsed.error =
        fail(426, "this is a WebSocket (WAMP) server: send an Upgrade: websocket request");
    return parsed;
  }
  if (wsVersion != "13") {
    parsed.error = fail(426, "unsupported Sec-WebSocket-Version: 13 is supported");
    return parsed;
  }
  if (!haveKey) {
    parsed.error = fail(400, "missing Sec-WebSocket-Key");
    return parsed;
  }
  if (!wellFormedKey(request.key)) {
    parsed.error = fail(400, "Sec-WebSocket-Key is not 16 bytes in base64");
    return parsed;
  }
  parsed.request = std::move(request);
  return parsed;
}

std::string acceptToken(std::string_view key) {
  std::string input(key);
  input.append(kGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

std::string switchingProtocolsResponse(std::string_view key, std::string_view subprotocol,
                                       std::string_view server) {
  std::string out;
  out.reserve(192);
  out.append("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n");
  out.append("Sec-WebSocket-Accept: ").append(acceptToken(key)).append("\r\n");
  if (!subprotocol.empty())
    out.append("Sec-WebSocket-Protocol: ").append(subprotocol).append("\r\n");
  out.append("Server: ").append(server).append("\r\n\r\n");
  return out;
}

std::string httpResponse(std::uint16_t status, std::string_view contentType, std::string_view body,
                         std::string_view server, bool head, KeepAlive keepAlive) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) + "\r\n";
  out.append("Content-Type: ").append(contentType).append("\r\n");
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append("Cache-Control: no-store\r\n");
  if (keepAlive.seconds == 0) {
    out.append("Connection: close\r\n");
  } else {
    // Said for HTTP/1.1 too: it costs a line, and proxies between may speak 1.0.
    out.append("Connection: keep-alive\r\nKeep-Alive: timeout=")
        .append(std::to_string(keepAlive.seconds))
        .append(", max=")
        .append(std::to_string(keepAlive.requestsLeft))
        .append("\r\n");
  }
  out.append("Server: ").append(server);
  out.append("\r\n\r\n");
  if (!head) out.append(body);
  return out;
}

std::string refusalResponse(std::uint16_t status, std::string_view reason, std::string_view server,
                            std::uint32_t retryAfter) {
  std::string body(reason);
  body.push_back('\n');
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reasonPhrase(status) + "\r\n";
  if (status == 426) out.append("Sec-WebSocket-Version: 13\r\n");
  if (retryAfter > 0) out.append("Retry-After: ").append(std::to_string(retryAfter)).append("\r\n");
  out.append("Content-Type: text/plain; charset=utf-8\r\n");
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append("Connection: close\r\nServer: ").append(server).append("\r\n\r\n");
  out.append(body);
  return out;
}

}  // namespace wampd::core::ws
