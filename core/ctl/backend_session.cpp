#include "ctl/backend_session.h"

#include "ctl/http_session.h"
#include "ctl/wamp2_session.h"
#include "ctl/wamp_session.h"

namespace wampd::ctl {

std::unique_ptr<BackendSession> makeBackendSession(const GlobalOptions& options,
                                                   const std::string& token,
                                                   WsClient::Clock::time_point deadline) {
  if (options.http) return std::make_unique<HttpSession>(deadline, token);
  if (options.v2) return std::make_unique<Wamp2Session>(deadline, options.realm);
  return std::make_unique<WampSession>(deadline);
}

}  // namespace wampd::ctl
