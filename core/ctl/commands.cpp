#include "ctl/commands.h"

#include <chrono>
#include <iostream>

#include "common/errors.h"
#include "common/json.h"
#include "ctl/backend_session.h"
#include "ctl/target.h"
#include "ctl/topics_table.h"

namespace wampd::ctl {
namespace {

int fail(const Target& target, int code, const std::string& message) {
  std::cerr << "wampctl: " << redact(message, target.token.value) << '\n';
  return code;
}

int failUsage(const std::string& message) {
  std::cerr << "wampctl: " << message << '\n';
  return kUsage;
}

WsClient::Clock::time_point deadlineFrom(const GlobalOptions& options) {
  return WsClient::Clock::now() + std::chrono::duration_cast<WsClient::Clock::duration>(
                                      std::chrono::duration<double>(options.timeoutSeconds));
}

bool parseJsonArgument(const std::string& what, const std::string& text, Value& out,
                       std::string& error) {
  std::string reason;
  if (core::json::parse(text, out, &reason)) return true;
  error = what + " is not valid JSON (" + reason + "): " + text;
  return false;
}

// Why the server may not have taken wampctl for the backend.
std::string backendHint(const Target& target) {
  if (!target.token.value.empty())
    return "; the server did not take wampctl for the backend with the token from " +
           target.token.source;
  std::string hint =
      "; wampctl is not the backend: it found no backend token (give --token or "
      "$WAMPD_BACKEND_TOKEN, --config with the server's auth.secret, or run it as the user "
      "running wampd so that it can read " +
      target.cookieFile + ")";
  if (!target.configProblem.empty()) hint += "; " + target.configProblem;
  return hint;
}

int publish(const GlobalOptions& options, const std::string& topic, const Value& payload) {
  Target target;
  std::string error;
  if (!resolveTarget(options, target, error)) return failUsage(error);
  auto session = makeBackendSession(options, target.token.value, deadlineFrom(options));
  if (!session->open(target.url, target.shownUrl, error)) return fail(target, kFailed, error);
  CallReply refusal;
  switch (session->publishAndClose(topic, payload, refusal, error)) {
    case PublishOutcome::Accepted:
      return kOk;
    case PublishOutcome::Refused:
      if (refusal.errorDesc.rfind("Not allowed to publish", 0) == 0) error += backendHint(target);
      return fail(target, kFailed, error);
    case PublishOutcome::Failed:
      break;
  }
  return fail(target, kFailed, error);
}

// Calls and ends the session. kOk when an answer came, a result or an error, in `reply`;
// otherwise the failure is reported.
int exchange(const GlobalOptions& options, const std::string& procedure, const Array& args,
             Target& target, CallReply& reply) {
  std::string error;
  if (!resolveTarget(options, target, error)) return failUsage(error);
  auto session = makeBackendSession(options, target.token.value, deadlineFrom(options));
  if (!session->open(target.url, target.shownUrl, error) ||
      !session->call(procedure, args, reply, error))
    return fail(target, kFailed, error);
  session->close();
  return kOk;
}

std::string describeCallError(const std::string& procedure, const CallReply& reply) {
  std::string message = "call to '" + procedure + "' failed: " + reply.errorUri;
  if (!reply.errorDesc.empty()) message += ": " + reply.errorDesc;
  if (reply.errorDetails) message += " " + core::json::serialize(*reply.errorDetails);
  return message;
}

// Calls and reports an error answer on stderr; the result stays in `result` for the caller.
int call(const GlobalOptions& options, const std::string& procedure, const Array& args,
         Value& result) {
  Target target;
  CallReply reply;
  if (int code = exchange(options, procedure, args, target, reply); code != kOk) return code;
  if (reply.isError) return fail(target, kFailed, describeCallError(procedure, reply));
  result = std::move(reply.result);
  return kOk;
}

}  // namespace

int runCheck(const GlobalOptions& options) {
  Target target;
  std::string error;
  if (!resolveTarget(options, target, error)) return failUsage(error);
  auto session = makeBackendSession(options, target.token.value, deadlineFrom(options));
  if (!session->open(target.url, target.shownUrl, error)) return fail(target, kFailed, error);
  std::cout << "WELCOME from " << target.shownUrl << ": " << session->describeWelcome() << '\n';
  session->close();
  return kOk;
}

int runPublish(const GlobalOptions& options, const std::string& topic, const std::string& json) {
  Value payload;
  std::string error;
  if (!parseJsonArgument("the payload", json, payload, error)) return failUsage(error);
  return publish(options, topic, payload);
}

int runMaintenance(const GlobalOptions& options, bool on, std::optional<std::int64_t> userId) {
  Value payload(Object{{"isOn", on}, {"userId", userId ? Value(*userId) : Value()}});
  return publish(options, "oro/maintenance", payload);
}

int runCall(const GlobalOptions& options, const std::string& procedure,
            const std::vector<std::string>& jsonArgs) {
  Array args;
  std::string error;
  for (std::size_t i = 0; i < jsonArgs.size(); ++i) {
    Value arg;
    if (!parseJsonArgument("argument " + std::to_string(i + 1), jsonArgs[i], arg, error))
      return failUsage(error);
    args.push_back(std::move(arg));
  }
  Value result;
  int code = call(options, procedure, args, result);
  if (code == kOk) std::cout << core::json::serialize(result) << '\n';
  return code;
}

int runTopics(const GlobalOptions& options) {
  Value result;
  int code = call(options, "wampd.topics", {}, result);
  if (code != kOk) return code;
  std::vector<TopicRow> rows;
  std::string error;
  if (!parseTopics(result, rows, error)) {
    std::cerr << "wampctl: " << error << '\n';
    return kFailed;
  }
  std::cout << renderTopicsTable(rows);
  return kOk;
}

int runStats(const GlobalOptions& options) {
  Value result;
  int code = call(options, "wampd.stats", {}, result);
  if (code != kOk) return code;
  const Object* counters = result.object();
  if (!counters) {
    std::cerr << "wampctl: wampd.stats returned something other than an object\n";
    return kFailed;
  }
  for (const auto& [name, value] : *counters)
    std::cout << name << ": " << core::json::serialize(value) << '\n';
  return kOk;
}

int runReload(const GlobalOptions& options) {
  static const std::string kProcedure = "wampd.reload";
  Target target;
  CallReply reply;
  if (int code = exchange(options, kProcedure, {}, target, reply); code != kOk) return code;
  if (reply.isError) {
    // The server's message already reads "reload failed (...), generation N keeps serving:
    // FILE:LINE:COL: what".
    const core::Fault fault = core::faultForUri(reply.reason);
    if (fault == core::Fault::ReloadFailed) return fail(target, kFailed, reply.errorDesc);
    if (fault == core::Fault::NotAuthorized)
      return fail(target, kFailed,
                  "the server refused the reload: " + reply.errorDesc + backendHint(target));
    return fail(target, kFailed, describeCallError(kProcedure, reply));
  }
  const Value* status = reply.result.find("status");
  if (!status || !status->isString())
    return fail(target, kFailed,
                "wampd.reload answered without a status: " + core::json::serialize(reply.result));
  std::cout << status->asString() << '\n';
  return kOk;
}

}  // namespace wampd::ctl
