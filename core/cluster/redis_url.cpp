#include "cluster/redis_url.h"

#include <arpa/inet.h>

#include <charconv>

namespace wampd::core::cluster {
namespace {

bool decodePercent(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, value, 16);
    if (ec != std::errc() || end != in.data() + i + 3) return false;
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return true;
}

bool parseNumber(std::string_view text, long min, long max, long& out) {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out >= min && out <= max;
}

// "[user]:password@" before the address; the password alone when there is no colon.
bool splitCredentials(std::string_view& rest, RedisAddress& out, std::string& error) {
  const std::size_t at = rest.rfind('@');
  if (at == std::string_view::npos) return true;
  const std::string_view credentials = rest.substr(0, at);
  rest.remove_prefix(at + 1);
  const std::size_t colon = credentials.find(':');
  const std::string_view user =
      colon == std::string_view::npos ? std::string_view{} : credentials.substr(0, colon);
  const std::string_view password =
      colon == std::string_view::npos ? credentials : credentials.substr(colon + 1);
  if (!decodePercent(user, out.username) || !decodePercent(password, out.password)) {
    error = "a bad percent escape in the credentials";
    return false;
  }
  return true;
}

}  // namespace

std::string RedisAddress::describe() const {
  if (isUnix()) return "unix://" + socketPath + "?db=" + std::to_string(database);
  const bool v6 = host.find(':') != std::string::npos;
  return "redis://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/" +
         std::to_string(database);
}

bool parseRedisUrl(std::string_view url, RedisAddress& out, std::string& error) {
  out = RedisAddress{};
  constexpr std::string_view kTcp = "redis://", kUnix = "unix://";
  if (url.substr(0, kUnix.size()) == kUnix) {
    std::string_view rest = url.substr(kUnix.size());
    if (!splitCredentials(rest, out, error)) return false;
    const std::size_t query = rest.find('?');
    std::string_view path = rest.substr(0, query);
    if (path.empty() || path.front() != '/') {
      error = "a unix:// URL names an absolute socket path (unix:///run/redis/redis.sock)";
      return false;
    }
    out.socketPath = std::string(path);
    if (query != std::string_view::npos) {
      const std::string_view q = rest.substr(query + 1);
      long db = 0;
      if (q.substr(0, 3) != "db=" || !parseNumber(q.substr(3), 0, 65535, db)) {
        error = "the only query a unix:// URL takes is db=N";
        return false;
      }
      out.database = static_cast<int>(db);
    }
    return true;
  }
  if (url.substr(0, kTcp.size()) != kTcp) {
    error = "the URL must start with redis:// or unix://";
    return false;
  }
  std::string_view rest = url.substr(kTcp.size());
  if (!splitCredentials(rest, out, error)) return false;
  const std::size_t slash = rest.find('/');
  std::string_view hostPort = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    const std::string_view db = rest.substr(slash + 1);
    long value = 0;
    if (!db.empty() && !parseNumber(db, 0, 65535, value)) {
      error = "the database after the slash must be a number";
      return false;
    }
    out.database = static_cast<int>(value);
  }
  std::string_view host = hostPort, port;
  if (!hostPort.empty() && hostPort.front() == '[') {
    const std::size_t close = hostPort.find(']');
    if (close == std::string_view::npos) {
      error = "an IPv6 address without its closing bracket";
      return false;
    }
    host = hostPort.substr(1, close - 1);
    const std::string_view after = hostPort.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "junk after the IPv6 address";
        return false;
      }
      port = after.substr(1);
    }
  } else if (const std::size_t colon = hostPort.rfind(':'); colon != std::string_view::npos) {
    host = hostPort.substr(0, colon);
    port = hostPort.substr(colon + 1);
  }
  if (host.empty()) {
    error = "no host";
    return false;
  }
  if (!port.empty()) {
    long value = 0;
    if (!parseNumber(port, 1, 65535, value)) {
      error = "the port must be a number from 1 to 65535";
      return false;
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  out.host = host == "localhost" ? std::string("127.0.0.1") : std::string(host);
  unsigned char buffer[16];
  if (inet_pton(AF_INET, out.host.c_str(), buffer) != 1 &&
      inet_pton(AF_INET6, out.host.c_str(), buffer) != 1) {
    error =
        "the host must be an IP address or localhost (a name would be resolved on every "
        "reconnect, blocking the server)";
    return false;
  }
  return true;
}

}  // namespace wampd::core::cluster
