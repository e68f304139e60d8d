// Oro's WebSocket authentication tickets.
//
// A ticket is base64("digest;username;nonce;created"), sent URL-encoded as `?ticket=` on the
// upgrade URL. `created` is ISO-8601 (PHP's date('c')). digest is Symfony's
// MessageDigestPasswordHasher (sha512, 5000 iterations, base64) of "nonce|created|password"
// salted with the server secret; `password` is the user's stored password hash, or the
// secret itself for anonymous tickets (empty username).
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace wampd::core::auth {

struct Ticket {
  std::string digest;
  std::string username;  // empty: anonymous
  std::string nonce;
  std::string created;
  std::int64_t createdEpoch = 0;
};

/// Decodes a ticket (already URL-decoded). False, with a reason safe to log, when it is not
/// base64, not four `;`-separated fields, or `created` is not an ISO-8601 time.
bool parseTicket(std::string_view encoded, Ticket& out, std::string& reason);

/// base64(sha512 iterated 5000 times over "nonce|created|password{secret}").
std::string ticketDigest(std::string_view nonce, std::string_view created,
                         std::string_view password, std::string_view secret);

/// A fresh ticket for `username` (empty: anonymous, the password is ignored) created at `now`.
std::string makeTicket(std::string_view username, std::string_view password,
                       std::string_view secret, std::time_t now);

/// Constant-time equality, so a digest comparison leaks nothing through timing.
bool equalConstantTime(std::string_view a, std::string_view b) noexcept;

/// Parses PHP's date('c') form (also with `Z` or fractional seconds) into epoch seconds.
bool parseIso8601(std::string_view text, std::int64_t& epoch);

std::string base64Encode(std::string_view bytes);
bool base64Decode(std::string_view text, std::string& bytes);
/// Percent-decoding of a query-string value ('+' stays '+': base64 never holds a space).
std::string urlDecode(std::string_view text);
/// The value of `name` in a query string ("a=1&ticket=..."), URL-decoded; empty if absent.
std::string queryParameter(std::string_view query, std::string_view name);

}  // namespace wampd::core::auth
