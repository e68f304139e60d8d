// wampctl: the backend side of wampd, speaking WAMP v1 as Oro's backend client does (or
// WAMP v2 with --v2).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "common/build_info.h"
#include "ctl/commands.h"
#include "ctl/ticket_command.h"
#include "ctl/ws_client.h"

namespace {

using wampd::ctl::GlobalOptions;

struct Arguments {
  std::string topic;
  std::string json;
  std::string procedure;
  std::vector<std::string> jsonArgs;
  std::string maintenanceState;
  std::optional<std::int64_t> userId;
  wampd::ctl::TicketRequest ticket;
};

const CLI::Validator positiveSeconds(
    [](std::string& text) -> std::string {
      char* end = nullptr;
      double seconds = std::strtod(text.c_str(), &end);
      if (end == text.c_str() || *end != '\0' || !(seconds > 0) || seconds > 86400)
        return "must be a number of seconds above 0 (at most 86400), not '" + text + "'";
      return {};
    },
    "SECONDS");

}  // namespace

int main(int argc, char** argv) {
  GlobalOptions options;
  Arguments args;

  CLI::App app{
      "Backend-side client for wampd (WAMP v1, as Oro's backend speaks it; WAMP v2 with --v2).",
      "wampctl"};
  // At most one command; a missing one is reported below, an unknown one as an extra.
  app.require_subcommand(0, 1);
  // Global options are accepted after the command too: `wampctl check --url ...`.
  app.fallthrough();
  app.set_version_flag(
      "--version",
      [] {
        std::string text = wampd::core::versionText("wampctl");
        text.pop_back();  // CLI11 ends the line itself
        return text;
      },
      "Print the version, plugin ABI and build signature, then exit");
  app.add_option("--url", options.url,
                 "Server WebSocket URL (a ?ticket= query is passed on); default: the config's "
                 "server.host and server.port, else ws://127.0.0.1:8080/");
  app.add_option("--config", options.configFile,
                 "The server's config file, for its address, secret and users file (default: "
                 "wampd's default config, when readable)");
  app.add_option("--token", options.token,
                 "The server's backend token (default: $WAMPD_BACKEND_TOKEN, else from the "
                 "config, else the cookie wampd writes for its port)");
  app.add_option("--timeout", options.timeoutSeconds,
                 "Seconds the whole command may take, connecting included")
      ->check(positiveSeconds)
      ->capture_default_str();
  wampd::ctl::WsClient::Trust trust;
  CLI::Option* ca = app.add_option("--ca", trust.caFile,
                                   "wss://: trust the CA certificates in this PEM file (default: "
                                   "the system's)")
                        ->check(CLI::ExistingFile);
  app.add_flag("--insecure", trust.insecure,
               "wss://: accept any certificate, for any host name (no verification)")
      ->excludes(ca);
  CLI::Option* v2 =
      app.add_flag("--v2", options.v2,
                   "Speak WAMP v2 (subprotocol wamp.2.json) instead of WAMP v1 (subprotocol wamp)");
  app.add_option("--realm", options.realm, "The WAMP v2 realm to join (with --v2)")
      ->needs(v2)
      ->capture_default_str();
  app.add_flag("--http", options.http,
               "Use the server's HTTP API (publish, call, topics, stats, check) instead of WAMP")
      ->excludes(v2);

  CLI::App* check = app.add_subcommand(
      "check", "Exit 0 when the server answers the handshake with WELCOME, 1 otherwise");
  CLI::App* publish = app.add_subcommand("publish", "Publish a JSON event to a topic");
  publish->add_option("topic", args.topic, "Topic URI, e.g. oro/data/update")->required();
  publish->add_option("json", args.json, "Event payload as JSON")->required();
  CLI::App* maintenance =
      app.add_subcommand("maintenance", "Publish a maintenance-mode notice to oro/maintenance");
  maintenance->add_option("state", args.maintenanceState, "on or off")
      ->required()
      ->check(CLI::IsMember({"on", "off"}));
  maintenance->add_option("--user-id", args.userId, "Id of the user who switched the mode");
  CLI::App* call = app.add_subcommand("call", "Call a procedure and print its result as JSON");
  call->add_option("procedure", args.procedure, "Procedure URI, e.g. sample/sum")->required();
  call->add_option("json", args.jsonArgs, "Arguments, each as JSON");
  CLI::App* topics = app.add_subcommand(
      "topics", "List the server's routes, their handlers and subscribers (by WAMP version)");
  CLI::App* stats = app.add_subcommand(
      "stats", "Print the server's counters: sessions, events, deliveries, slow subscribers");
  CLI::App* reload = app.add_subcommand(
      "reload",
      "Reload the server's config, routes and plugins (as the backend); print its status");
  CLI::App* ticket =
      app.add_subcommand("ticket", "Print an Oro authentication ticket (URL-encoded for ?ticket=)");
  ticket->add_option("--user", args.ticket.user,
                     "User name; its password hash comes from the config's users file ('' for "
                     "an anonymous ticket)");
  ticket->add_flag("--anonymous", args.ticket.anonymous, "An anonymous ticket");
  ticket->add_option("--password", args.ticket.password,
                     "The user's stored password hash, instead of the users file's");
  ticket->add_flag("--raw", args.ticket.raw, "Print the ticket as base64, not URL-encoded");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e);
    std::cerr << "wampctl: " << e.what() << " (see wampctl --help)\n";
    return wampd::ctl::kUsage;
  }

  wampd::ctl::WsClient::setTrust(trust);
  if (*check) return wampd::ctl::runCheck(options);
  if (*publish) return wampd::ctl::runPublish(options, args.topic, args.json);
  if (*maintenance)
    return wampd::ctl::runMaintenance(options, args.maintenanceState == "on", args.userId);
  if (*call) return wampd::ctl::runCall(options, args.procedure, args.jsonArgs);
  if (*topics) return wampd::ctl::runTopics(options);
  if (*stats) return wampd::ctl::runStats(options);
  if (*reload) return wampd::ctl::runReload(options);
  if (*ticket) return wampd::ctl::runTicket(options, args.ticket);
  std::cerr << "wampctl: no command given (see wampctl --help)\n";
  return wampd::ctl::kUsage;
}
