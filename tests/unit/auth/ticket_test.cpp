#include "auth/ticket.h"

#include <doctest/doctest.h>

#include "php_tickets.h"

using namespace wampd::core::auth;
using wampd::test::phpDigest;
using wampd::test::phpTicket;

namespace {

constexpr std::int64_t kJan2 = 1704164645;  // 2024-01-02T03:04:05Z

std::int64_t epochOf(std::string_view text) {
  std::int64_t epoch = -1;
  REQUIRE_MESSAGE(parseIso8601(text, epoch), text);
  return epoch;
}

bool parses(std::string_view text) {
  std::int64_t epoch = 0;
  return parseIso8601(text, epoch);
}

}  // namespace

TEST_CASE("base64 encodes and decodes RFC 4648's test vectors") {
  const std::pair<std::string, std::string> vectors[] = {
      {"f", "Zg=="},        {"fo", "Zm8="},        {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    CHECK(base64Encode(plain) == encoded);
    std::string decoded;
    REQUIRE(base64Decode(encoded, decoded));
    CHECK(decoded == plain);
  }
  CHECK(base64Encode("") == "");
}

TEST_CASE("base64 round-trips binary bytes, zeros included") {
  const std::string bytes("\x00\xff\x10\x00", 4);
  std::string decoded;
  REQUIRE(base64Decode(base64Encode(bytes), decoded));
  CHECK(decoded == bytes);
  REQUIRE(base64Decode("AP8Q", decoded));  // PHP: base64_encode("\x00\xff\x10")
  CHECK(decoded == std::string("\x00\xff\x10", 3));
}

TEST_CASE("base64Decode refuses what is not base64") {
  std::string out = "untouched";
  CHECK_FALSE(base64Decode("", out));
  CHECK_FALSE(base64Decode("Zm9", out));       // not a multiple of 4
  CHECK_FALSE(base64Decode("Zm9v!A==", out));  // a character outside the alphabet
  CHECK_FALSE(base64Decode("Zm9v YQ=", out));
  CHECK_FALSE(base64Decode("Zm9-", out));  // base64url is not accepted
  CHECK(out == "untouched");
}

TEST_CASE("urlDecode decodes percent escapes and leaves the rest alone") {
  CHECK(urlDecode("a%2Bb%2Fc%3D%3d") == "a+b/c==");
  CHECK(urlDecode("a+b") == "a+b");  // base64's '+' survives a query string unencoded
  CHECK(urlDecode("100%") == "100%");
  CHECK(urlDecode("%2") == "%2");
  CHECK(urlDecode("%zz") == "%zz");
  CHECK(urlDecode("%41%42") == "AB");
  CHECK(urlDecode("") == "");
}

TEST_CASE("queryParameter finds a parameter by exact name and decodes it") {
  CHECK(queryParameter("ticket=abc", "ticket") == "abc");
  CHECK(queryParameter("a=1&ticket=x%2By%3D&b=2", "ticket") == "x+y=");
  CHECK(queryParameter("ticketx=1&xticket=2", "ticket") == "");
  CHECK(queryParameter("a=1", "ticket") == "");
  CHECK(queryParameter("ticket", "ticket") == "");
  CHECK(queryParameter("", "ticket") == "");
  CHECK(queryParameter("ticket=first&ticket=second", "ticket") == "first");
}

TEST_CASE("parseIso8601 reads PHP's date('c') with any offset") {
  CHECK(epochOf("2024-01-02T03:04:05+00:00") == kJan2);
  CHECK(epochOf("2024-01-02T05:04:05+02:00") == kJan2);
  CHECK(epochOf("2024-01-01T21:34:05-05:30") == kJan2);
  CHECK(epochOf("2024-01-02T08:34:05+0530") == kJan2);
  CHECK(epochOf("2024-02-29T23:59:59+00:00") == 1709251199);  // a leap day
}

TEST_CASE("parseIso8601 reads Z, fractional seconds and a space separator") {
  CHECK(epochOf("2024-01-02T03:04:05Z") == kJan2);
  CHECK(epochOf("2024-01-02T03:04:05z") == kJan2);
  CHECK(epochOf("2024-01-02T03:04:05.123456Z") == kJan2);
  CHECK(epochOf("2024-01-02T04:04:05.5+01:00") == kJan2);
  CHECK(epochOf("2024-01-02 03:04:05+00:00") == kJan2);
}

TEST_CASE("parseIso8601 refuses garbage") {
  CHECK_FALSE(parses(""));
  CHECK_FALSE(parses("garbage"));
  CHECK_FALSE(parses("2024-01-02"));
  CHECK_FALSE(parses("2024-01-02T03:04:05"));  // no offset: the local time is ambiguous
  CHECK_FALSE(parses("2024/01/02T03:04:05Z"));
  CHECK_FALSE(parses("2024-01-02X03:04:05Z"));
  CHECK_FALSE(parses("2024-13-02T03:04:05Z"));
  CHECK_FALSE(parses("2024-00-02T03:04:05Z"));
  CHECK_FALSE(parses("2024-01-00T03:04:05Z"));
  CHECK_FALSE(parses("2024-01-32T03:04:05Z"));
  CHECK_FALSE(parses("2024-01-02T24:04:05Z"));
  CHECK_FALSE(parses("2024-01-02T03:60:05Z"));
  CHECK_FALSE(parses("2024-01-02T03:04:05+24:00"));
  CHECK_FALSE(parses("2024-01-02T03:04:05+00:60"));
  CHECK_FALSE(parses("2024-01-02T03:04:05+0"));
  CHECK_FALSE(parses("2024-01-02T03:04:05+00:00x"));
  CHECK_FALSE(parses("2024-01-02T03:04:05Zjunk"));
  CHECK_FALSE(parses("2O24-01-02T03:04:05Z"));
  CHECK_FALSE(parses("+2024-01-02T03:04:05Z"));
  CHECK_FALSE(parses("2024-01-02T03:04:05.Z"));  // a decimal point needs digits after it
}

TEST_CASE("ticketDigest equals PHP's Symfony-style digest") {
  const struct {
    const char* nonce;
    const char* created;
    const char* password;
    const char* secret;
  } cases[] = {
      {"219d18684d9c5302", "2024-01-02T03:04:05+00:00", "$2y$13$abcdefghijklmnopqrstuv", "s3cret"},
      {"n", "2024-01-02T05:04:05+02:00", "", "ThisTokenIsNotSoSecretChangeIt"},
      {"nonce", "c", "pässwörd with spaces and ; | {", "sécret"},
      {"nonce", "c", "password", ""},  // no secret: Symfony leaves the password unsalted
  };
  for (const auto& c : cases) {
    INFO(c.nonce << " " << c.created);
    CHECK(ticketDigest(c.nonce, c.created, c.password, c.secret) ==
          phpDigest(c.nonce, c.created, c.password, c.secret));
  }
}

TEST_CASE("parseTicket reads PHP's tickets field by field") {
  const std::string encoded =
      phpTicket("s3cret", "admin", "hash", kJan2, "Asia/Kolkata", "abcdef0123456789");
  Ticket ticket;
  std::string reason;
  REQUIRE(parseTicket(encoded, ticket, reason));
  CHECK(ticket.username == "admin");
  CHECK(ticket.nonce == "abcdef0123456789");
  CHECK(ticket.created == "2024-01-02T08:34:05+05:30");
  CHECK(ticket.createdEpoch == kJan2);
  CHECK(ticket.digest == phpDigest("abcdef0123456789", ticket.created, "hash", "s3cret"));

  REQUIRE(parseTicket(phpTicket("s3cret", "", "", kJan2), ticket, reason));
  CHECK(ticket.username.empty());
}

TEST_CASE("parseTicket refuses garbage with a reason") {
  Ticket ticket;
  std::string reason;
  CHECK_FALSE(parseTicket("not base64!", ticket, reason));
  CHECK(reason == "ticket is not base64");
  CHECK_FALSE(parseTicket("", ticket, reason));
  CHECK(reason == "ticket is not base64");
  CHECK_FALSE(parseTicket(std::string(5000, 'A'), ticket, reason));
  CHECK(reason == "ticket is not base64");

  CHECK_FALSE(parseTicket(base64Encode("digest;user;2024-01-02T03:04:05Z"), ticket, reason));
  CHECK(reason.find("four fields") != std::string::npos);
  CHECK_FALSE(parseTicket(base64Encode("d;u;n;2024-01-02T03:04:05Z;extra"), ticket, reason));
  CHECK(reason.find("four fields") != std::string::npos);
  CHECK_FALSE(parseTicket(base64Encode("d;u;n;yesterday"), ticket, reason));
  CHECK(reason.find("ISO-8601") != std::string::npos);
}

TEST_CASE("makeTicket makes a ticket PHP's digest agrees with") {
  const std::time_t now = kJan2;
  Ticket ticket;
  std::string reason;
  REQUIRE(parseTicket(makeTicket("admin", "stored-hash", "s3cret", now), ticket, reason));
  CHECK(ticket.username == "admin");
  CHECK(ticket.createdEpoch == now);
  CHECK_FALSE(ticket.nonce.empty());
  CHECK(ticket.digest == phpDigest(ticket.nonce, ticket.created, "stored-hash", "s3cret"));

  // Anonymous: the secret is the password, whatever password is given.
  REQUIRE(parseTicket(makeTicket("", "ignored", "s3cret", now), ticket, reason));
  CHECK(ticket.username.empty());
  CHECK(ticket.digest == phpDigest(ticket.nonce, ticket.created, "s3cret", "s3cret"));
}

TEST_CASE("makeTicket uses a fresh nonce each time") {
  Ticket a, b;
  std::string reason;
  REQUIRE(parseTicket(makeTicket("u", "p", "s", kJan2), a, reason));
  REQUIRE(parseTicket(makeTicket("u", "p", "s", kJan2), b, reason));
  CHECK(a.nonce != b.nonce);
  CHECK(a.digest != b.digest);
}

TEST_CASE("equalConstantTime compares content and length") {
  CHECK(equalConstantTime("abc", "abc"));
  CHECK(equalConstantTime("", ""));
  CHECK_FALSE(equalConstantTime("abc", "abd"));
  CHECK_FALSE(equalConstantTime("abc", "abcd"));
  CHECK_FALSE(equalConstantTime("abc", ""));
}
