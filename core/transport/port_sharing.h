// Handing the listening port from a draining wampd to the next one. A serving wampd's
// listening sockets are exclusive (a second wampd started by mistake fails to bind, as it
// should); a draining one marks them SO_REUSEPORT, and a new wampd that finds the port taken
// asks the holder's GET /health: when it answers 503 "draining", the new wampd binds with
// SO_REUSEPORT beside it. Until the old one exits, the kernel spreads new connections over
// both (the old one refuses upgrades with 503, which clients retry).
//
// Constraint: heldByDrainingServer blocks (at most about a second); call it only at startup,
// before the I/O loop runs.
#pragma once

#include <asio/ip/tcp.hpp>

namespace wampd::core::ws {

/// Marks a socket SO_REUSEPORT (before bind, or on a listening socket: a draining one).
void shareListeningPort(int fd) noexcept;

/// Whether the server listening on `endpoint` (any address: asked on loopback) answers
/// GET /health with 503 and "draining" within a second.
bool heldByDrainingServer(const asio::ip::tcp::endpoint& endpoint) noexcept;

}  // namespace wampd::core::ws
