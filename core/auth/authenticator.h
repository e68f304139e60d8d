// Who a connection is, decided once at the handshake: the origin check, the backend's proof
// (trusted address or token in the URL path), and the Oro ticket.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/auth_config.h"
#include "auth/ticket_verifier.h"
#include "auth/user_directory.h"
#include "wampd/identity.h"

namespace wampd::core::auth {

struct Decision {
  bool accept = false;
  std::uint16_t httpStatus = 403;
  /// Why a handshake was refused; safe to log and to send (never a secret or a digest).
  std::string reason;
  Identity identity;
  /// Accepted only on condition that the session authenticates later (WAMP v2 CHALLENGE).
  bool ticketRequired = false;
  /// Set when authenticate() was asked to defer the digest: the cheap checks passed and
  /// `identity` already names the ticket's user, but the handshake is accepted only if this
  /// digest matches; otherwise it is refused (403) with `digestFailure`.
  std::optional<DigestCheck> digest;
  std::string digestFailure;
};

class Authenticator {
 public:
  /// `fallbackToken`: the backend token when the config sets neither a token nor a secret
  /// (a reload passes the running one on, so wampctl's cookie stays valid); empty: random.
  Authenticator(AuthConfig config, std::shared_ptr<UserDirectory> users,
                std::string fallbackToken = {});

  /// `resource` is the upgrade URL's path and query.
  /// `ticketLater`: the client may still authenticate inside its protocol (a WAMP v2 ticket
  /// CHALLENGE), so a missing ticket is not refused here but marked ticketRequired.
  /// `deferDigest`: a ticket's format, age and user are checked here, its digest is not (see
  /// Decision::digest): the user lookup may call a plugin and stays on the calling thread.
  Decision authenticate(std::string_view resource, std::string_view origin,
                        std::string_view remoteAddress, std::time_t now, bool ticketLater = false,
                        bool deferDigest = false) const;

  /// Verifies a ticket given through WAMP v2 CHALLENGE/AUTHENTICATE (authmethod "ticket").
  /// `decision.identity` keeps what the handshake established (backend); on success it
  /// becomes the ticket's user.
  bool authenticateTicket(const std::string& ticket, std::time_t now, Decision& decision) const {
    return verifyTicket(ticket, now, decision, false);
  }

  /// auth.backend_token, else derived from auth.secret, else random for this process.
  const std::string& backendToken() const noexcept { return backendToken_; }

 private:
  bool verifyTicket(const std::string& ticket, std::time_t now, Decision& decision,
                    bool deferDigest) const;

  AuthConfig config_;
  std::shared_ptr<UserDirectory> users_;
  std::string backendToken_;
};

/// The backend token a secret implies when auth.backend_token is not set: hex of
/// HMAC-SHA256(secret, "wampd backend"). wampctl computes the same from the config.
std::string deriveBackendToken(std::string_view secret);

/// True when `allowed` is empty or lists `origin` (as sent, or its host alone: Oro's PHP
/// client sends a bare host, browsers scheme://host[:port]).
bool originAllowed(const std::vector<std::string>& allowed, std::string_view origin);

/// `untrusted` (a user name, an origin) made safe for a log line or an HTTP body: control
/// characters and quotes escaped as \xNN, at most 64 characters.
std::string printable(std::string_view untrusted);

/// Who may publish under `policy` (anyone, authenticated, backend); other values: no one.
bool mayPublish(std::string_view policy, const Identity& identity);

}  // namespace wampd::core::auth
