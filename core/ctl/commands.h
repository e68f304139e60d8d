// wampctl's commands. Each returns the process exit code and reports failures on stderr
// in one line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace wampd::ctl {

/// Exit codes.
inline constexpr int kOk = 0;
inline constexpr int kFailed = 1;  // the server is down, refused, timed out or said no
inline constexpr int kUsage = 2;   // bad arguments; nothing was sent

struct GlobalOptions {
  /// --url; empty: the config's listener, else ws://127.0.0.1:8080/.
  std::string url;
  /// --token: the backend token (see backend_token.h for where else it is looked for).
  std::string token;
  /// --config; empty: the default config, when readable.
  std::string configFile;
  double timeoutSeconds = 5.0;
  /// --v2: speak WAMP v2 (wamp.2.json) in `realm` instead of v1.
  bool v2 = false;
  std::string realm = "realm1";
  /// --http: use the server's HTTP API (POST /api/publish, /api/call, GET /api/topics,
  /// /api/stats) instead of a WAMP session.
  bool http = false;
};

/// Oro's connection check: 0 when the server answers WELCOME.
int runCheck(const GlobalOptions& options);

/// Publishes `json` (which must parse) to `topic`.
int runPublish(const GlobalOptions& options, const std::string& topic, const std::string& json);

/// Publishes {"isOn": on, "userId": userId or null} to oro/maintenance.
int runMaintenance(const GlobalOptions& options, bool on, std::optional<std::int64_t> userId);

/// Calls `procedure` with each of `jsonArgs` (each must parse) and prints the result as JSON.
int runCall(const GlobalOptions& options, const std::string& procedure,
            const std::vector<std::string>& jsonArgs);

/// Prints the server's routes (its `wampd.topics` procedure) as a table, with the generation
/// they belong to.
int runTopics(const GlobalOptions& options);
/// Prints the server's counters (its `wampd.stats` procedure), one `name: value` per line.
int runStats(const GlobalOptions& options);

/// Asks the server to reload (its backend-only `wampd.reload` procedure) and prints its
/// status line; a failed reload's reason (file:line:col: what) goes to stderr with exit 1.
int runReload(const GlobalOptions& options);

}  // namespace wampd::ctl
