#include "ctl/ticket_command.h"

#include <cstdlib>
#include <ctime>
#include <iostream>

#include "auth/ticket.h"
#include "auth/user_directory.h"
#include "ctl/ctl_config.h"
#include "ctl/server_url.h"

namespace wampd::ctl {
namespace {

// Messages here name users and files, never the secret or a password hash.
int fail(int code, const std::string& message) {
  std::cerr << "wampctl: " << message << '\n';
  return code;
}

std::string secretFrom(const ConfigLookup& lookup) {
  if (lookup.config) return lookup.config->auth.secret;
  const char* secret = std::getenv("WAMPD_SECRET");
  return secret ? secret : "";
}

// The stored password hash of `user`: --password, else the config's users file.
int passwordOf(const std::string& user, const TicketRequest& request, const ConfigLookup& lookup,
               std::string& password) {
  if (request.password) {
    password = *request.password;
    return kOk;
  }
  if (!lookup.config || lookup.config->auth.usersFile.empty()) {
    std::string message = "cannot make a ticket for '" + user +
                          "': no users file is configured (auth.users_file); give the user's "
                          "stored password hash with --password";
    if (!lookup.problem.empty()) message += " (" + lookup.problem + ")";
    return fail(kFailed, message);
  }
  const std::string& file = lookup.config->auth.usersFile;
  core::auth::UserMap users;
  try {
    users = core::auth::loadUsersFile(file);
  } catch (const core::ConfigError& e) {
    return fail(kFailed, e.what());
  }
  auto it = users.find(user);
  if (it == users.end())
    return fail(kFailed, "cannot make a ticket: there is no user '" + user + "' in " + file +
                             " (a user from a plugin's provider needs --password)");
  password = it->second.password;
  return kOk;
}

}  // namespace

int runTicket(const GlobalOptions& options, const TicketRequest& request) {
  if (request.anonymous && request.user && !request.user->empty())
    return fail(kUsage, "give either --user NAME or --anonymous, not both");
  if (!request.anonymous && !request.user)
    return fail(kUsage, "ticket needs --user NAME (or --anonymous)");
  const std::string user = request.anonymous ? std::string() : *request.user;
  if (user.find(';') != std::string::npos)
    return fail(kUsage, "a user name in a ticket cannot contain ';'");
  if (user.empty() && request.password)
    return fail(kUsage, "an anonymous ticket takes no --password: its password is the secret");

  ConfigLookup lookup;
  std::string error;
  if (!lookUpConfig(options.configFile, lookup, error)) return fail(kUsage, error);
  const std::string secret = secretFrom(lookup);
  if (secret.empty()) {
    std::string message =
        "cannot make a ticket: the server's secret is unknown (set auth.secret in the config "
        "given with --config, or $WAMPD_SECRET)";
    if (!lookup.problem.empty()) message += "; " + lookup.problem;
    return fail(kFailed, message);
  }
  std::string password;
  if (!user.empty())
    if (int code = passwordOf(user, request, lookup, password); code != kOk) return code;

  const std::string ticket = core::auth::makeTicket(user, password, secret, std::time(nullptr));
  std::cout << (request.raw ? ticket : percentEncode(ticket)) << '\n';
  return kOk;
}

}  // namespace wampd::ctl
