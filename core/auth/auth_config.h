// The `auth:` section of the server config, as authentication uses it. Its own header so that
// authentication depends on this struct, not on the config reader (and, through it, on
// routing and plugins).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wampd::core {

/// `auth:` — tickets, the backend's proof, origins and who may publish by default.
struct AuthConfig {
  /// Oro's kernel secret: the salt of ticket digests and the password of anonymous tickets.
  /// $WAMPD_SECRET overrides it. Empty: every ticket is refused.
  std::string secret;
  /// Connections without a ticket are let in as anonymous (Oro's behaviour).
  bool allowAnonymous = true;
  /// The bundled user provider's YAML file (absolute); empty: no users from a file.
  std::string usersFile;
  /// Proves a connection is the backend when it is the last segment of the upgrade URL's
  /// path. Empty: derived from the secret (see auth::backendToken).
  std::string backendToken;
  /// Source addresses whose connections are the backend without any token.
  std::vector<std::string> trustedAddresses;
  /// Origins allowed to connect (a bare host or scheme://host[:port]); empty: any.
  std::vector<std::string> allowedOrigins;
  /// Who may publish to a route that does not say: anyone, authenticated or backend.
  std::string defaultPublish = "anyone";
  std::int64_t ticketMaxAge = 300;
  std::int64_t ticketMaxFuture = 30;
  /// Threads that verify ticket digests off the I/O thread; 0: one per core.
  std::size_t verifierThreads = 0;
  /// Handshakes waiting for a verifier thread; beyond it a ticketed handshake gets 503.
  std::size_t verifierQueue = 1024;
  /// Ticket verifications pending from one source address (503 beyond). Behind a reverse
  /// proxy every browser has the proxy's address: raise it there.
  std::size_t verifierPerAddress = 64;
};

}  // namespace wampd::core
