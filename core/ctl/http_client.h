// A blocking HTTP/1.1 client for wampctl --http: one request per connection (wampd answers
// with Connection: close), every step bounded by one deadline, so no command can hang.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace wampd::ctl {

struct HttpReply {
  int status = 0;
  std::string body;
};

struct HttpCall {
  std::string host;  // a name or an address; brackets of an IPv6 literal are removed
  std::uint16_t port = 0;
  std::string method;
  std::string path;
  std::string bearerToken;  // empty: no Authorization header
  std::string body;         // sent as application/json when not empty
};

/// Sends `call` and reads the whole answer. False, with a reason naming `shownServer`, when no
/// complete answer came (connection refused, deadline, malformed response).
bool httpExchange(const HttpCall& call, const std::string& shownServer,
                  std::chrono::steady_clock::time_point deadline, HttpReply& reply,
                  std::string& error);

/// Reads a complete response held in `bytes`; false when it is not one.
bool parseHttpResponse(const std::string& bytes, HttpReply& reply);

}  // namespace wampd::ctl
