#include "ctl/commands.h"

#include <chrono>
#include <iostream>

#include "common/json.h"
#include "ctl/topics_table.h"
#include "ctl/wamp_session.h"

namespace wampd::ctl {
namespace {

int fail(int code, const std::string& message) {
  std::cerr << "wampctl: " << message << '\n';
  return code;
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

int publish(const GlobalOptions& options, const std::string& topic, const Value& payload) {
  WampSession session(deadlineFrom(options));
  std::string error;
  if (!session.open(options.url, error) || !session.publishAndClose(topic, payload, error))
    return fail(kFailed, error);
  return kOk;
}

// Calls and reports a CALLERROR on stderr; the result stays in `result` for the caller.
int call(const GlobalOptions& options, const std::string& procedure, const Array& args,
         Value& result) {
  WampSession session(deadlineFrom(options));
  std::string error;
  wamp::CallReply reply;
  if (!session.open(options.url, error) || !session.call(procedure, args, reply, error))
    return fail(kFailed, error);
  session.close();
  if (reply.isError) {
    std::string message =
        "call to '" + procedure + "' failed: " + reply.errorUri + ": " + reply.errorDesc;
    if (reply.errorDetails) message += " " + core::json::serialize(*reply.errorDetails);
    return fail(kFailed, message);
  }
  result = std::move(reply.result);
  return kOk;
}

}  // namespace

int runCheck(const GlobalOptions& options) {
  WampSession session(deadlineFrom(options));
  std::string error;
  if (!session.open(options.url, error)) return fail(kFailed, error);
  std::cout << "WELCOME from " << options.url << ": session " << session.welcome().sessionId
            << ", server " << session.welcome().serverIdent << '\n';
  session.close();
  return kOk;
}

int runPublish(const GlobalOptions& options, const std::string& topic, const std::string& json) {
  Value payload;
  std::string error;
  if (!parseJsonArgument("the payload", json, payload, error)) return fail(kUsage, error);
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
      return fail(kUsage, error);
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
  if (!parseTopics(result, rows, error)) return fail(kFailed, error);
  std::cout << renderTopicsTable(rows);
  return kOk;
}

}  // namespace wampd::ctl
