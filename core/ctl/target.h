// Where wampctl connects and as whom: the server URL (--url, else the config's listener, else
// the default) and the backend token carried as its last path segment.
#pragma once

#include <string>

#include "ctl/backend_token.h"
#include "ctl/commands.h"

namespace wampd::ctl {

inline constexpr const char* kDefaultUrl = "ws://127.0.0.1:8080/";

struct Target {
  /// What is dialled: may carry the token, so it is never shown.
  std::string url;
  /// What messages name: the URL without the token.
  std::string shownUrl;
  BackendToken token;
  /// The cookie of the server's port, looked at whether or not it held the token.
  std::string cookieFile;
  /// Why the default config was not used, when it was not (for hints).
  std::string configProblem;
};

/// Resolves `options` into a target. False, with a message, for a broken --config, a URL
/// that is not ws:// or wss://, or a token that cannot travel in a URL path.
bool resolveTarget(const GlobalOptions& options, Target& out, std::string& error);

}  // namespace wampd::ctl
