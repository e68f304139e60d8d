// The server URL as wampctl handles it: which port's cookie to read, where the backend token
// goes, and what is safe to show in messages. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace wampd::ctl {

struct WsUrl {
  std::string scheme;  // ws or wss
  std::string host;    // as written, brackets kept for IPv6
  std::uint16_t port = 0;
  std::string path;   // "" or starting with '/'
  std::string query;  // after '?', without it
};

/// Splits a ws:// or wss:// URL; false with a reason for anything else.
bool parseWsUrl(std::string_view url, WsUrl& out, std::string& error);

/// `url` with `segment` as the last path segment, the query kept:
/// ws://h:1/a?x=1 -> ws://h:1/a/SEGMENT?x=1. Unchanged when it already is the last segment
/// (a URL copied from Oro's backend DSN may carry the token already).
std::string withLastPathSegment(std::string_view url, std::string_view segment);

/// True when `segment` can travel in a URL path as it is: the server compares the path's
/// last segment with its token without decoding it.
bool isPlainPathSegment(std::string_view segment);

/// ws://HOST:PORT/ (wss:// with `tls`) for a server listening on `host`; a wildcard address
/// is reached through loopback.
std::string urlForListener(std::string_view host, std::uint16_t port, bool tls = false);

/// RFC 3986 percent-encoding of everything but unreserved characters (PHP's rawurlencode):
/// what a ticket needs to travel as `?ticket=`.
std::string percentEncode(std::string_view text);

}  // namespace wampd::ctl
