// `wampctl ticket`: an Oro authentication ticket, made the way Oro's TicketProvider makes
// one, for backends that are not Oro and for tests.
#pragma once

#include <optional>
#include <string>

#include "ctl/commands.h"

namespace wampd::ctl {

struct TicketRequest {
  /// --user; an empty name is an anonymous ticket.
  std::optional<std::string> user;
  bool anonymous = false;
  /// --password: the user's stored password hash; else it comes from the users file.
  std::optional<std::string> password;
  /// Print the base64 ticket as it is instead of URL-encoded for `?ticket=`.
  bool raw = false;
};

/// Prints a fresh ticket. The secret comes from the config (auth.secret, or $WAMPD_SECRET
/// over it), else from $WAMPD_SECRET.
int runTicket(const GlobalOptions& options, const TicketRequest& request);

}  // namespace wampd::ctl
