// Tickets, digests and HMACs made by oro_ticket.php through Debian's php-cli: an
// implementation of Oro's and Symfony's algorithms that shares nothing with wampd's.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace wampd::test {

inline std::string shellQuoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

/// stdout of `php oro_ticket.php ARGS...`, without its final newline; fails the test when
/// PHP is missing or the script fails.
inline std::string runOroTicketPhp(const std::vector<std::string>& args) {
  std::string command = "php " + shellQuoted(WAMPD_SOURCE_DIR "/tests/unit/auth/oro_ticket.php");
  for (const std::string& arg : args) command += " " + shellQuoted(arg);
  command += " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE_MESSAGE(pipe != nullptr, "cannot run php");
  std::string out;
  char buffer[512];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = ::pclose(pipe);
  REQUIRE_MESSAGE(
      (WIFEXITED(status) && WEXITSTATUS(status) == 0),
      "php oro_ticket.php failed (php-cli is installed by scripts/setup-deps --test): " << out);
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

inline std::string phpTicket(const std::string& secret, const std::string& username,
                             const std::string& password, std::int64_t created,
                             const std::string& timezone = "UTC", const std::string& nonce = "") {
  std::vector<std::string> args{"ticket", secret, username, password, std::to_string(created),
                                timezone};
  if (!nonce.empty()) args.push_back(nonce);
  return runOroTicketPhp(args);
}

inline std::string phpDigest(const std::string& nonce, const std::string& created,
                             const std::string& password, const std::string& secret) {
  return runOroTicketPhp({"digest", nonce, created, password, secret});
}

inline std::string phpHmacSha256(const std::string& key, const std::string& message) {
  return runOroTicketPhp({"hmac", key, message});
}

}  // namespace wampd::test
