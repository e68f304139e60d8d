#include "auth/authenticator.h"

#include <doctest/doctest.h>

#include <cctype>

#include "auth/ticket.h"
#include "php_tickets.h"
#include "temp_dir.h"

using namespace wampd;
using namespace wampd::core;
using namespace wampd::core::auth;
using wampd::test::phpTicket;

namespace {

constexpr std::time_t kNow = 1704164645;  // 2024-01-02T03:04:05Z
const std::string kSecret = "ThisIsTheKernelSecret";
const std::string kAliceHash = "$2y$13$aliceAliceAliceAliceAliceAliceAliceAliceAliceAlic";
const std::string kBobHash = "bob-stored-hash-0123456789";
const std::string kToken = "backend-token-0123456789abcdef";

const char* const kUsers = R"(users:
  - { username: alice, id: 5, password: '$2y$13$aliceAliceAliceAliceAliceAliceAliceAliceAliceAlic',
      roles: [ROLE_USER, ROLE_ADMINISTRATOR], organizations: [1, 2] }
  - { username: bob, id: 6, password: 'bob-stored-hash-0123456789' }
)";

std::string urlEncoded(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string withTicket(const std::string& ticket, const std::string& path = "/") {
  return path + "?ticket=" + urlEncoded(ticket);
}

// A ticket with one character of its digest changed, everything else as PHP made it.
std::string tampered(const std::string& ticket) {
  std::string decoded;
  REQUIRE(base64Decode(ticket, decoded));
  decoded[3] = decoded[3] == 'A' ? 'B' : 'A';
  return base64Encode(decoded);
}

struct Fixture {
  test::TempDir dir;
  AuthConfig config;
  std::shared_ptr<UserDirectory> users;

  Fixture() {
    config.secret = kSecret;
    config.usersFile = dir.write("users.yml", kUsers);
    users = std::make_shared<UserDirectory>(config.usersFile);
  }

  Decision authenticate(const std::string& resource, const std::string& origin = "",
                        const std::string& address = "10.0.0.9", std::time_t now = kNow) const {
    return Authenticator(config, users).authenticate(resource, origin, address, now);
  }

  // Refused, and the reason contains `expected` and nothing secret.
  void checkRefused(const Decision& d, const std::string& expected) const {
    CHECK_FALSE(d.accept);
    CHECK(d.httpStatus == 403);
    CHECK_MESSAGE(d.reason.find(expected) != std::string::npos, d.reason);
    CHECK(d.reason.find(kSecret) == std::string::npos);
    CHECK(d.reason.find(kAliceHash) == std::string::npos);
    CHECK(d.reason.find(kBobHash) == std::string::npos);
  }
};

}  // namespace

TEST_CASE("a user's ticket made by PHP is accepted, with the user's identity") {
  Fixture f;
  const std::string ticket = phpTicket(kSecret, "alice", kAliceHash, kNow);
  for (const std::string& resource :
       {withTicket(ticket), "/?ticket=" + ticket, withTicket(ticket, "/ws/path")}) {
    INFO(resource);
    const Decision d = f.authenticate(resource);
    REQUIRE_MESSAGE(d.accept, d.reason);
    CHECK_FALSE(d.identity.anonymous);
    CHECK_FALSE(d.identity.backend);
    CHECK(d.identity.username == "alice");
    CHECK(d.identity.userId == 5);
    CHECK(d.identity.roles == std::vector<std::string>{"ROLE_USER", "ROLE_ADMINISTRATOR"});
    CHECK(d.identity.organizations == std::vector<std::int64_t>{1, 2});
  }
}

TEST_CASE("a ticket created in another time zone is accepted") {
  Fixture f;
  for (const char* zone : {"Asia/Kolkata", "America/New_York", "Pacific/Chatham"}) {
    INFO(zone);
    const Decision d = f.authenticate(withTicket(phpTicket(kSecret, "bob", kBobHash, kNow, zone)));
    CHECK_MESSAGE(d.accept, d.reason);
    CHECK(d.identity.userId == 6);
  }
}

TEST_CASE("an anonymous ticket made by PHP gives an anonymous identity") {
  Fixture f;
  const Decision d = f.authenticate(withTicket(phpTicket(kSecret, "", "", kNow)));
  REQUIRE_MESSAGE(d.accept, d.reason);
  CHECK(d.identity.anonymous);
  CHECK_FALSE(d.identity.backend);
  CHECK(d.identity.username.empty());
  CHECK(d.identity.userId == 0);
}

TEST_CASE("a ticket is good for 300 s and no longer") {
  Fixture f;
  const Decision oldest =
      f.authenticate(withTicket(phpTicket(kSecret, "alice", kAliceHash, kNow - 300)));
  CHECK_MESSAGE(oldest.accept, oldest.reason);
  f.checkRefused(f.authenticate(withTicket(phpTicket(kSecret, "alice", kAliceHash, kNow - 301))),
                 "expired");
  f.checkRefused(f.authenticate(withTicket(phpTicket(kSecret, "", "", kNow - 3600))), "expired");
}

TEST_CASE("a ticket may be created at most 30 s in the future") {
  Fixture f;
  const Decision latest =
      f.authenticate(withTicket(phpTicket(kSecret, "alice", kAliceHash, kNow + 30)));
  CHECK_MESSAGE(latest.accept, latest.reason);
  f.checkRefused(f.authenticate(withTicket(phpTicket(kSecret, "alice", kAliceHash, kNow + 31))),
                 "in the future");
}

TEST_CASE("the configured ticket lifetime is honoured") {
  Fixture f;
  f.config.ticketMaxAge = 10;
  f.config.ticketMaxFuture = 0;
  f.checkRefused(f.authenticate(withTicket(phpTicket(kSecret, "", "", kNow - 11))), "expired");
  f.checkRefused(f.authenticate(withTicket(phpTicket(kSecret, "", "", kNow + 1))), "future");
  CHECK(f.authenticate(withTicket(phpTicket(kSecret, "", "", kNow - 10))).accept);
}

TEST_CASE("a tampered digest is refused") {
  Fixture f;
  f.checkRefused(
      f.authenticate(withTicket(tampered(phpTicket(kSecret, "alice", kAliceHash, kNow)))),
      "digest does not match for user 'alice'");
  f.checkRefused(f.authenticate(withTicket(tampered(phpTicket(kSecret, "", "", kNow)))),
                 "digest does not match (anonymous)");
}

TEST_CASE("a ticket naming another user than the digest's is refused") {
  Fixture f;
  std::string decoded;
  REQUIRE(base64Decode(phpTicket(kSecret, "alice", kAliceHash, kNow), decoded));
  const std::size_t first = decoded.find(';');
  const std::size_t second = decoded.find(';', first + 1);
  decoded.replace(first + 1, second - first - 1, "bob");
  f.checkRefused(f.authenticate(withTicket(base64Encode(decoded))), "digest does not match");
}

TEST_CASE("an unknown user's ticket is refused") {
  Fixture f;
  f.checkRefused(f.authenticate(withTicket(phpTicket(kSecret, "mallory", "whatever", kNow))),
                 "unknown user 'mallory'");
}

TEST_CASE("a ticket made with a wrong secret or password is refused") {
  Fixture f;
  f.checkRefused(f.authenticate(withTicket(phpTicket("not-the-secret", "alice", kAliceHash, kNow))),
                 "digest does not match");
  f.checkRefused(f.authenticate(withTicket(phpTicket("not-the-secret", "", "", kNow))),
                 "digest does not match");
  f.checkRefused(f.authenticate(withTicket(phpTicket(kSecret, "alice", kBobHash, kNow))),
                 "digest does not match");
}

TEST_CASE("garbage tickets are refused with the reason") {
  Fixture f;
  f.checkRefused(f.authenticate("/?ticket=***"), "not base64");
  f.checkRefused(f.authenticate("/?ticket=%00%01"), "not base64");
  f.checkRefused(f.authenticate(withTicket(base64Encode("a;b;c"))), "four fields");
  f.checkRefused(f.authenticate(withTicket(base64Encode("digest;alice;nonce;2024-01-02"))),
                 "ISO-8601");
}

TEST_CASE("a refusal quotes a ticket's user name without control characters") {
  // The reason goes to the log and into the 403's HTTP status line: a user name carrying
  // CR LF would forge log lines and split the HTTP response.
  Fixture f;
  const std::string forged =
      base64Encode("digest;evil\r\nX-Injected: yes\x1b[2J;nonce;2024-01-02T03:04:05+00:00");
  const Decision d = f.authenticate(withTicket(forged));
  REQUIRE_FALSE(d.accept);
  CHECK(d.reason.find("unknown user") != std::string::npos);
  for (char c : d.reason) {
    INFO("reason: " << d.reason);
    CHECK(static_cast<unsigned char>(c) >= 0x20);
    CHECK(c != '\x7f');
  }
}

TEST_CASE("a bad ticket is refused even where anonymous connections are allowed") {
  Fixture f;
  REQUIRE(f.config.allowAnonymous);
  CHECK_FALSE(f.authenticate(withTicket(tampered(phpTicket(kSecret, "", "", kNow)))).accept);
}

TEST_CASE("without a secret no ticket can be verified") {
  Fixture f;
  f.config.secret.clear();
  f.checkRefused(f.authenticate(withTicket(phpTicket(kSecret, "alice", kAliceHash, kNow))),
                 "auth.secret is not configured");
}

TEST_CASE("a connection without a ticket is anonymous, when allowed") {
  Fixture f;
  Decision d = f.authenticate("/");
  REQUIRE(d.accept);
  CHECK(d.identity.anonymous);
  CHECK_FALSE(d.identity.backend);
  CHECK(f.authenticate("/?other=1&ticket=").accept);

  f.config.allowAnonymous = false;
  f.checkRefused(f.authenticate("/"), "anonymous connections are not allowed");
  // An anonymous ticket is a ticket: Oro's backend and anonymous pages send one.
  CHECK(f.authenticate(withTicket(phpTicket(kSecret, "", "", kNow))).accept);
}

TEST_CASE("the backend proves itself with the token as the last path segment") {
  Fixture f;
  f.config.backendToken = kToken;
  for (const std::string& resource :
       {"/" + kToken, "/ws/" + kToken, "/" + kToken + "/",
        "/" + kToken + "?ticket=" + urlEncoded(phpTicket(kSecret, "", "", kNow))}) {
    INFO(resource);
    const Decision d = f.authenticate(resource);
    REQUIRE_MESSAGE(d.accept, d.reason);
    CHECK(d.identity.backend);
    CHECK(d.identity.anonymous);
  }
  for (const std::string& resource :
       {std::string("/"), "/" + kToken + "x", "/x" + kToken, "/" + kToken + "/ws",
        "/?token=" + kToken, "/" + kToken.substr(0, kToken.size() - 1)}) {
    INFO(resource);
    const Decision d = f.authenticate(resource);
    CHECK(d.accept);
    CHECK_FALSE(d.identity.backend);
  }
}

TEST_CASE("the backend may also carry a user's ticket") {
  Fixture f;
  f.config.backendToken = kToken;
  const Decision d =
      f.authenticate(withTicket(phpTicket(kSecret, "alice", kAliceHash, kNow), "/" + kToken));
  REQUIRE(d.accept);
  CHECK(d.identity.backend);
  CHECK(d.identity.username == "alice");
}

TEST_CASE("the backend needs no ticket where anonymous connections are refused") {
  Fixture f;
  f.config.allowAnonymous = false;
  f.config.backendToken = kToken;
  const Decision d = f.authenticate("/" + kToken);
  REQUIRE(d.accept);
  CHECK(d.identity.backend);
  f.config.trustedAddresses = {"127.0.0.1"};
  CHECK(f.authenticate("/", "", "127.0.0.1").accept);
}

TEST_CASE("trusted source addresses are the backend") {
  Fixture f;
  f.config.trustedAddresses = {"127.0.0.1", "::1"};
  CHECK(f.authenticate("/", "", "127.0.0.1").identity.backend);
  CHECK(f.authenticate("/", "", "::1").identity.backend);
  CHECK_FALSE(f.authenticate("/", "", "127.0.0.2").identity.backend);
  CHECK_FALSE(f.authenticate("/", "", "10.0.0.9").identity.backend);
}

TEST_CASE("the backend token: configured, else derived from the secret, else random") {
  Fixture f;
  f.config.backendToken = kToken;
  CHECK(Authenticator(f.config, f.users).backendToken() == kToken);

  f.config.backendToken.clear();
  CHECK(Authenticator(f.config, f.users).backendToken() == deriveBackendToken(kSecret));

  f.config.secret.clear();
  const std::string first = Authenticator(f.config, f.users).backendToken();
  const std::string second = Authenticator(f.config, f.users).backendToken();
  CHECK(first.size() == 64);
  CHECK(first.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(first != second);
}

TEST_CASE("deriveBackendToken is hex HMAC-SHA256(secret, 'wampd backend'), as PHP computes it") {
  CHECK(deriveBackendToken(kSecret) == test::phpHmacSha256(kSecret, "wampd backend"));
  CHECK(deriveBackendToken("another") == test::phpHmacSha256("another", "wampd backend"));
  CHECK(deriveBackendToken("").empty());
}

TEST_CASE("an origin not allowed is refused before anything else") {
  Fixture f;
  f.config.allowedOrigins = {"https://oro.example.com", "127.0.0.1"};
  const std::string ticket = withTicket(phpTicket(kSecret, "alice", kAliceHash, kNow));
  f.checkRefused(f.authenticate(ticket, "https://evil.example.com"),
                 "origin 'https://evil.example.com' is not allowed");
  CHECK(f.authenticate(ticket, "https://oro.example.com").accept);
  CHECK(f.authenticate(ticket, "127.0.0.1").accept);
  CHECK(f.authenticate(ticket, "http://127.0.0.1:8080").accept);
}

TEST_CASE("originAllowed: exact entries, or a bare host matching the origin's host") {
  const std::vector<std::string> none;
  CHECK(originAllowed(none, "https://anything.example"));
  CHECK(originAllowed(none, ""));

  const std::vector<std::string> allowed{"https://oro.example.com", "127.0.0.1", "[::1]"};
  CHECK(originAllowed(allowed, "https://oro.example.com"));
  CHECK_FALSE(originAllowed(allowed, "http://oro.example.com"));
  CHECK_FALSE(originAllowed(allowed, "https://oro.example.com:8443"));
  CHECK_FALSE(originAllowed(allowed, "https://oro.example.com.evil.net"));
  CHECK(originAllowed(allowed, "127.0.0.1"));
  CHECK(originAllowed(allowed, "http://127.0.0.1"));
  CHECK(originAllowed(allowed, "http://127.0.0.1:8080"));
  CHECK(originAllowed(allowed, "http://[::1]:8080"));
  CHECK_FALSE(originAllowed(allowed, "127.0.0.10"));
  CHECK_FALSE(originAllowed(allowed, "http://127.0.0.1.evil.net"));
  CHECK_FALSE(originAllowed(allowed, "null"));
  CHECK_FALSE(originAllowed(allowed, ""));
}

TEST_CASE("mayPublish: anyone, authenticated, backend") {
  Identity anonymous;
  Identity user;
  user.anonymous = false;
  user.username = "alice";
  Identity backend;
  backend.backend = true;

  CHECK(mayPublish("anyone", anonymous));
  CHECK(mayPublish("anyone", user));
  CHECK(mayPublish("anyone", backend));
  CHECK_FALSE(mayPublish("authenticated", anonymous));
  CHECK(mayPublish("authenticated", user));
  CHECK(mayPublish("authenticated", backend));
  CHECK_FALSE(mayPublish("backend", anonymous));
  CHECK_FALSE(mayPublish("backend", user));
  CHECK(mayPublish("backend", backend));
}

TEST_CASE("a deferred digest: cheap checks now, the digest handed over for a verifier thread") {
  Fixture f;
  const Authenticator authenticator(f.config, f.users);
  const auto deferred = [&](const std::string& resource) {
    return authenticator.authenticate(resource, "", "10.0.0.9", kNow, false,
                                      /*deferDigest=*/true);
  };
  SUBCASE("a good ticket carries the user and a digest that matches") {
    const Decision d = deferred(withTicket(phpTicket(kSecret, "alice", kAliceHash, kNow)));
    REQUIRE_MESSAGE(d.accept, d.reason);
    REQUIRE(d.digest.has_value());
    CHECK(d.digest->password == kAliceHash);
    CHECK(d.digest->secret == kSecret);
    CHECK(digestMatches(*d.digest));
    CHECK(d.identity.username == "alice");
    CHECK(d.identity.userId == 5);
  }
  SUBCASE("a tampered digest passes the cheap checks and fails on the verifier") {
    const Decision d =
        deferred(withTicket(tampered(phpTicket(kSecret, "alice", kAliceHash, kNow))));
    REQUIRE(d.accept);
    REQUIRE(d.digest.has_value());
    CHECK_FALSE(digestMatches(*d.digest));
    CHECK(d.digestFailure.find("digest does not match for user 'alice'") != std::string::npos);
  }
  SUBCASE("format, age and unknown users are refused without a digest to compute") {
    f.checkRefused(deferred("/?ticket=notbase64!"), "not base64");
    f.checkRefused(deferred(withTicket(phpTicket(kSecret, "alice", kAliceHash, kNow - 3600))),
                   "expired");
    f.checkRefused(deferred(withTicket(phpTicket(kSecret, "mallory", "x", kNow))),
                   "unknown user 'mallory'");
    CHECK_FALSE(deferred(withTicket(phpTicket(kSecret, "mallory", "x", kNow))).digest);
  }
  SUBCASE("no ticket needs no verifier") {
    const Decision d = deferred("/");
    CHECK(d.accept);
    CHECK_FALSE(d.digest);
  }
}
