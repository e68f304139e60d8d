#include "ctl/backend_token.h"

#include <cstdlib>

#include "auth/authenticator.h"
#include "auth/backend_cookie.h"

namespace wampd::ctl {
namespace {

std::string environment(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

}  // namespace

BackendToken findBackendToken(const std::string& flagToken, const core::ServerConfig* config,
                              const std::string& cookieFile) {
  if (!flagToken.empty()) return {flagToken, "--token"};
  if (std::string token = environment("WAMPD_BACKEND_TOKEN"); !token.empty())
    return {token, "$WAMPD_BACKEND_TOKEN"};
  // loadServerConfig has already put $WAMPD_SECRET over auth.secret, as the server does.
  const std::string secretSource = environment("WAMPD_SECRET").empty()
                                       ? "auth.secret in " + (config ? config->file : "")
                                       : std::string("$WAMPD_SECRET");
  if (config && !config->auth.backendToken.empty())
    return {config->auth.backendToken, "auth.backend_token in " + config->file};
  if (config && !config->auth.secret.empty())
    return {core::auth::deriveBackendToken(config->auth.secret), secretSource};
  if (std::string secret = environment("WAMPD_SECRET"); !config && !secret.empty())
    return {core::auth::deriveBackendToken(secret), "$WAMPD_SECRET"};
  if (auto cookie = core::auth::readCookie(cookieFile))
    return {*cookie, "the cookie " + cookieFile};
  return {};
}

std::string redact(std::string text, std::string_view secret) {
  if (secret.empty()) return text;
  static constexpr std::string_view kPlaceholder = "<backend token>";
  for (std::size_t at = text.find(secret); at != std::string::npos;
       at = text.find(secret, at + kPlaceholder.size()))
    text.replace(at, secret.size(), kPlaceholder);
  return text;
}

}  // namespace wampd::ctl
