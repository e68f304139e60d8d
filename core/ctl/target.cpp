#include "ctl/target.h"

#include <string>
#include <vector>

#include "auth/backend_cookie.h"
#include "ctl/ctl_config.h"
#include "ctl/server_url.h"

namespace wampd::ctl {

bool resolveTarget(const GlobalOptions& options, Target& out, std::string& error) {
  out = Target{};
  ConfigLookup lookup;
  if (!lookUpConfig(options.configFile, lookup, error)) return false;
  out.configProblem = lookup.problem;
  const core::ServerConfig* config = lookup.config ? &*lookup.config : nullptr;

  // The first listener: the one whose port names wampd's cookie.
  const auto first = config ? config->listeners().front() : core::ListenConfig{};
  out.shownUrl = !options.url.empty() ? options.url
                 : config             ? urlForListener(first.host, first.port, first.tls)
                                      : std::string(kDefaultUrl);
  WsUrl parsed;
  if (!parseWsUrl(out.shownUrl, parsed, error)) return false;
  // The first cookie wampctl can read, else the first place (named in hints).
  const std::vector<std::string> cookies = core::auth::cookieCandidates(parsed.port);
  out.cookieFile = cookies.front();
  for (const std::string& path : cookies)
    if (core::auth::readCookie(path)) {
      out.cookieFile = path;
      break;
    }
  out.token = findBackendToken(options.token, config, out.cookieFile);
  if (out.token.value.empty()) {
    out.url = out.shownUrl;
    return true;
  }
  if (!isPlainPathSegment(out.token.value)) {
    error = "the backend token from " + out.token.source +
            " cannot be sent in a URL path: use only letters, digits and -._~!$&'()*+,;=:@";
    return false;
  }
  out.url = withLastPathSegment(out.shownUrl, out.token.value);
  return true;
}

}  // namespace wampd::ctl
