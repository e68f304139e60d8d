// How wampctl proves it is the backend: the server's backend token, sent as the last path
// segment of the upgrade URL. It is looked for where the server's operator may have put it;
// the first found wins:
//   --token, $WAMPD_BACKEND_TOKEN, the config (auth.backend_token, else derived from
//   auth.secret or $WAMPD_SECRET), the cookie file the server writes for its port.
#pragma once

#include <string>
#include <string_view>

#include "config/server_config.h"

namespace wampd::ctl {

struct BackendToken {
  /// Empty: none found.
  std::string value;
  /// Where it came from, for messages ("--token", "the cookie /tmp/wampd-8080.token", ...).
  std::string source;
};

/// `flagToken`: --token (empty: not given). `config`: the config wampctl read, or null.
/// `cookieFile`: the cookie for the server's port.
BackendToken findBackendToken(const std::string& flagToken, const core::ServerConfig* config,
                              const std::string& cookieFile);

/// `text` with every occurrence of `secret` replaced by a placeholder: whatever a lower layer
/// put in a message, the token never reaches the terminal.
std::string redact(std::string text, std::string_view secret);

}  // namespace wampd::ctl
