#include "ctl/server_url.h"

#include <cctype>
#include <charconv>

namespace wampd::ctl {
namespace {

bool isUnreserved(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
         c == '~';
}

// Where the path begins: just after scheme://authority.
std::size_t pathStart(std::string_view url) {
  const std::size_t scheme = url.find("://");
  const std::size_t authority = scheme == std::string_view::npos ? 0 : scheme + 3;
  const std::size_t end = url.find_first_of("/?#", authority);
  return end == std::string_view::npos ? url.size() : end;
}

}  // namespace

bool parseWsUrl(std::string_view url, WsUrl& out, std::string& error) {
  const std::size_t colon = url.find("://");
  if (colon == std::string_view::npos) {
    error = "'" + std::string(url) + "' is not a ws:// or wss:// URL";
    return false;
  }
  WsUrl parsed;
  parsed.scheme = std::string(url.substr(0, colon));
  for (char& c : parsed.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (parsed.scheme != "ws" && parsed.scheme != "wss") {
    error = "'" + std::string(url) + "' is not a ws:// or wss:// URL";
    return false;
  }
  const std::size_t start = colon + 3;
  const std::size_t end = pathStart(url);
  std::string_view authority = url.substr(start, end - start);
  std::string_view portText;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "'" + std::string(url) + "' has an unclosed IPv6 address";
      return false;
    }
    parsed.host = std::string(authority.substr(0, close + 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        error = "'" + std::string(url) + "' has text after its IPv6 address";
        return false;
      }
      portText = rest.substr(1);
    }
  } else {
    const std::size_t portColon = authority.rfind(':');
    parsed.host = std::string(authority.substr(0, portColon));
    if (portColon != std::string_view::npos) portText = authority.substr(portColon + 1);
  }
  if (parsed.host.empty()) {
    error = "'" + std::string(url) + "' names no host";
    return false;
  }
  parsed.port = parsed.scheme == "wss" ? 443 : 80;
  if (!portText.empty()) {
    unsigned value = 0;
    const auto [ptr, ec] =
        std::from_chars(portText.data(), portText.data() + portText.size(), value);
    if (ec != std::errc() || ptr != portText.data() + portText.size() || value == 0 ||
        value > 65535) {
      error = "'" + std::string(url) + "' has an invalid port";
      return false;
    }
    parsed.port = static_cast<std::uint16_t>(value);
  }
  std::string_view rest = url.substr(end);
  rest = rest.substr(0, rest.find('#'));
  const std::size_t question = rest.find('?');
  parsed.path = std::string(rest.substr(0, question));
  if (question != std::string_view::npos) parsed.query = std::string(rest.substr(question + 1));
  out = std::move(parsed);
  return true;
}

std::string withLastPathSegment(std::string_view url, std::string_view segment) {
  const std::size_t start = pathStart(url);
  const std::size_t tail = url.find_first_of("?#", start);
  std::string_view path =
      url.substr(start, tail == std::string_view::npos ? url.npos : tail - start);
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const std::size_t slash = path.rfind('/');
  if (slash != std::string_view::npos && path.substr(slash + 1) == segment) return std::string(url);
  std::string out(url.substr(0, start));
  out.append(path).append("/").append(segment);
  if (tail != std::string_view::npos) out.append(url.substr(tail));
  return out;
}

bool isPlainPathSegment(std::string_view segment) {
  if (segment.empty()) return false;
  for (char c : segment)
    if (!isUnreserved(c) && std::string_view("!$&'()*+,;=:@").find(c) == std::string_view::npos)
      return false;
  return true;
}

std::string urlForListener(std::string_view host, std::uint16_t port, bool tls) {
  std::string reachable(host);
  if (host == "0.0.0.0" || host.empty()) reachable = "127.0.0.1";
  if (host == "::" || host == "[::]") reachable = "::1";
  if (reachable.find(':') != std::string::npos && reachable.front() != '[')
    reachable = "[" + reachable + "]";
  return (tls ? "wss://" : "ws://") + reachable + ":" + std::to_string(port) + "/";
}

std::string percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char c : text) {
    if (isUnreserved(c)) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    }
  }
  return out;
}

}  // namespace wampd::ctl
