// wampd::Connection: one client session as a handler sees it.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "wampd/identity.h"

namespace wampd {

/// A session id. WAMP v1 carries it as a decimal string, WAMP v2 as an integer; both name
/// the same session, so exclude/eligible lists work across protocol versions.
using SessionId = std::uint64_t;
using SessionIds = std::vector<SessionId>;

/// Implemented by the host. Valid only for the duration of the handler call it is passed to;
/// keep the SessionId, never the reference.
class Connection {
 public:
  virtual SessionId sessionId() const noexcept = 0;
  virtual const Identity& identity() const noexcept = 0;
  /// The peer's IP address, as text.
  virtual std::string_view remoteAddress() const noexcept = 0;
  /// 1 for WAMP v1 clients, 2 for WAMP v2 clients.
  virtual int wampVersion() const noexcept = 0;

 protected:
  ~Connection() = default;
};

}  // namespace wampd
