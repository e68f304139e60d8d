#include "auth/authenticator.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>

#include "auth/backend_cookie.h"
#include "auth/ticket.h"

namespace wampd::core::auth {
namespace {

std::string_view hostOf(std::string_view origin) {
  const std::size_t scheme = origin.find("://");
  if (scheme != std::string_view::npos) origin.remove_prefix(scheme + 3);
  const std::size_t slash = origin.find('/');
  if (slash != std::string_view::npos) origin = origin.substr(0, slash);
  if (!origin.empty() && origin.front() == '[') {  // [v6]:port
    const std::size_t close = origin.find(']');
    return close == std::string_view::npos ? origin : origin.substr(0, close + 1);
  }
  const std::size_t colon = origin.rfind(':');
  return colon == std::string_view::npos ? origin : origin.substr(0, colon);
}

std::string_view lastPathSegment(std::string_view resource) {
  std::string_view path = resource.substr(0, resource.find('?'));
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string deriveBackendToken(std::string_view secret) {
  if (secret.empty()) return {};
  static constexpr std::string_view kLabel = "wampd backend";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(kLabel.data()), kLabel.size(), mac, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[mac[i] >> 4]);
    hex.push_back(kHex[mac[i] & 0xF]);
  }
  return hex;
}

bool originAllowed(const std::vector<std::string>& allowed, std::string_view origin) {
  if (allowed.empty()) return true;
  for (const std::string& entry : allowed)
    if (entry == origin || (entry.find("://") == std::string::npos && entry == hostOf(origin)))
      return true;
  return false;
}

bool mayPublish(std::string_view policy, const Identity& identity) {
  if (policy == "backend") return identity.backend;
  if (policy == "authenticated") return identity.backend || !identity.anonymous;
  return policy == "anyone";  // an unknown policy allows no one
}

std::string printable(std::string_view untrusted) {
  constexpr std::size_t kMax = 64;
  std::string out;
  for (unsigned char c : untrusted.substr(0, kMax)) {
    if (c < 0x20 || c == 0x7F || c == '\'') {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (untrusted.size() > kMax) out += "...";
  return out;
}

Authenticator::Authenticator(AuthConfig config, std::shared_ptr<UserDirectory> users,
                             std::string fallbackToken)
    : config_(std::move(config)), users_(std::move(users)) {
  if (!config_.backendToken.empty())
    backendToken_ = config_.backendToken;
  else if (!config_.secret.empty())
    backendToken_ = deriveBackendToken(config_.secret);
  else
    backendToken_ = fallbackToken.empty() ? randomToken() : std::move(fallbackToken);
}

Decision Authenticator::authenticate(std::string_view resource, std::string_view origin,
                                     std::string_view remoteAddress, std::time_t now,
                                     bool ticketLater, bool deferDigest) const {
  Decision decision;
  if (!originAllowed(config_.allowedOrigins, origin)) {
    decision.reason = "origin '" + printable(origin) + "' is not allowed";
    return decision;
  }
  const auto& trusted = config_.trustedAddresses;
  decision.identity.backend =
      std::find(trusted.begin(), trusted.end(), remoteAddress) != trusted.end() ||
      (!backendToken_.empty() && equalConstantTime(lastPathSegment(resource), backendToken_));

  const std::size_t question = resource.find('?');
  const std::string ticket = question == std::string_view::npos
                                 ? std::string()
                                 : queryParameter(resource.substr(question + 1), "ticket");
  if (ticket.empty()) {
    if (!config_.allowAnonymous && !decision.identity.backend && ticketLater) {
      decision.ticketRequired = true;
    } else if (!config_.allowAnonymous && !decision.identity.backend) {
      decision.reason = "no ticket, and anonymous connections are not allowed";
      return decision;
    }
    decision.accept = true;
    return decision;
  }
  if (!verifyTicket(ticket, now, decision, deferDigest)) return decision;
  decision.accept = true;
  return decision;
}

bool Authenticator::verifyTicket(const std::string& encoded, std::time_t now, Decision& decision,
                                 bool deferDigest) const {
  Ticket ticket;
  if (!parseTicket(encoded, ticket, decision.reason)) return false;
  if (config_.secret.empty()) {
    decision.reason = "tickets cannot be verified: auth.secret is not configured";
    return false;
  }
  const std::int64_t age = static_cast<std::int64_t>(now) - ticket.createdEpoch;
  if (age > config_.ticketMaxAge) {
    decision.reason = "ticket expired (created " + std::to_string(age) + " s ago)";
    return false;
  }
  if (-age > config_.ticketMaxFuture) {
    decision.reason = "ticket created " + std::to_string(-age) + " s in the future";
    return false;
  }
  std::string password = config_.secret;
  User user;
  if (!ticket.username.empty()) {
    if (!users_ || !users_->find(ticket.username, user)) {
      decision.reason = "unknown user '" + printable(ticket.username) + "'";
      return false;
    }
    password = user.password;
  }
  std::string failure =
      "ticket digest does not match" + (ticket.username.empty()
                                            ? std::string(" (anonymous)")
                                            : " for user '" + printable(ticket.username) + "'");
  DigestCheck check{std::move(ticket.nonce), std::move(ticket.created), std::move(password),
                    config_.secret, std::move(ticket.digest)};
  if (deferDigest) {
    decision.digest = std::move(check);
    decision.digestFailure = std::move(failure);
  } else if (!digestMatches(check)) {
    decision.reason = std::move(failure);
    return false;
  }
  if (!ticket.username.empty()) {
    Identity& id = decision.identity;
    id.anonymous = false;
    id.username = user.username;
    id.userId = user.id;
    id.roles = user.roles;
    id.organizations = user.organizations;
  }
  return true;
}

}  // namespace wampd::core::auth
