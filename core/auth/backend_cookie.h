// The backend cookie: a file holding the backend token of the wampd serving a port, readable
// only by the user running it (mode 0600), so that wampctl on the same machine proves it is
// the backend with no flags and no secret in its command line (Bitcoin's .cookie idea).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wampd::core::auth {

/// $WAMPD_RUNTIME_DIR, else $XDG_RUNTIME_DIR, else /tmp; then wampd-<port>.token.
std::string cookiePath(std::uint16_t port);

/// Where wampctl looks for `port`'s cookie, in order: cookiePath(port), then, unless
/// $WAMPD_RUNTIME_DIR names the place, the packaged service's (its unit's RuntimeDirectory,
/// /run/wampd), so that root's wampctl finds the service's cookie with no variable set.
std::vector<std::string> cookieCandidates(std::uint16_t port);

/// Writes `token` atomically with mode 0600. False (and `error`) when it cannot.
bool writeCookie(const std::string& path, const std::string& token, std::string& error);

/// The token in the cookie file, when there is one we may read.
std::optional<std::string> readCookie(const std::string& path);

/// 32 random bytes as hex: the token when neither a secret nor a backend token is configured.
std::string randomToken();

}  // namespace wampd::core::auth
