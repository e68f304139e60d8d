#include "ctl/http_session.h"

#include "common/json.h"
#include "ctl/http_client.h"
#include "ctl/server_url.h"

namespace wampd::ctl {
namespace {

// An API refusal's message: its {"error": ...}, else the body as it came.
std::string refusalText(int status, const Value& answer, const std::string& body) {
  const Value* error = answer.find("error");
  return "HTTP " + std::to_string(status) + ": " +
         (error && error->isString() ? std::string(error->asString()) : body);
}

}  // namespace

bool HttpSession::open(const std::string&, const std::string& shownUrl, std::string& error) {
  WsUrl url;
  if (!parseWsUrl(shownUrl, url, error)) return false;
  if (url.scheme != "ws") {
    error = "--http speaks plain HTTP: give a ws:// URL (for wss://, leave out --http)";
    return false;
  }
  host_ = url.host;
  port_ = url.port;
  shown_ = "http://" + url.host + ":" + std::to_string(url.port) + "/";
  int status = 0;
  Value answer;
  if (!exchange("GET", "/health", "", status, answer, error)) return false;
  if (status != 200) {
    error = shown_ + "health answered HTTP " + std::to_string(status);
    return false;
  }
  health_ = "HTTP API at " + shown_ + ", health " + core::json::serialize(answer);
  return true;
}

bool HttpSession::exchange(const std::string& method, const std::string& path,
                           const std::string& body, int& status, Value& answer,
                           std::string& error) {
  HttpCall call;
  call.host = host_;
  call.port = port_;
  call.method = method;
  call.path = path;
  call.bearerToken = token_;
  call.body = body;
  HttpReply reply;
  if (!httpExchange(call, shown_, deadline_, reply, error)) return false;
  status = reply.status;
  if (!core::json::parse(reply.body, answer)) answer = Value(reply.body);
  lastBody_ = reply.body;
  return true;
}

PublishOutcome HttpSession::publishAndClose(const std::string& topic, const Value& payload,
                                            CallReply& refusal, std::string& error) {
  int status = 0;
  Value answer;
  const std::string body =
      core::json::serialize(Value(Object{{"topic", Value(topic)}, {"data", payload}}));
  if (!exchange("POST", "/api/publish", body, status, answer, error)) return PublishOutcome::Failed;
  if (status == 200) return PublishOutcome::Accepted;
  refusal.isError = true;
  const Value* message = answer.find("error");
  refusal.errorDesc = message && message->isString() ? std::string(message->asString()) : lastBody_;
  // Worded as over WAMP, so that wampctl adds its hint on where the token came from.
  if (status == 401) refusal.errorDesc = "Not allowed to publish: " + refusal.errorDesc;
  error = "publish to '" + topic + "' refused: " + refusalText(status, answer, lastBody_);
  return status >= 400 && status < 500 ? PublishOutcome::Refused : PublishOutcome::Failed;
}

bool HttpSession::call(const std::string& procedure, const Array& args, CallReply& reply,
                       std::string& error) {
  if (procedure == "wampd.reload") {
    error = "reload is not part of the HTTP API: run `wampctl reload` without --http";
    return false;
  }
  int status = 0;
  Value answer;
  bool answered = false;
  if (procedure == "wampd.topics" || procedure == "wampd.stats") {
    answered = exchange("GET", procedure == "wampd.topics" ? "/api/topics" : "/api/stats", "",
                        status, answer, error);
  } else {
    const std::string body = core::json::serialize(
        Value(Object{{"procedure", Value(procedure)}, {"args", Value(args)}}));
    answered = exchange("POST", "/api/call", body, status, answer, error);
  }
  if (!answered) return false;
  if (status == 200) {
    const Value* result = answer.find("result");
    reply.result = procedure == "wampd.topics" || procedure == "wampd.stats" ? answer
                   : result                                                  ? *result
                                                                             : Value();
    return true;
  }
  reply.isError = true;
  reply.errorUri = "HTTP " + std::to_string(status);
  const Value* message = answer.find("error");
  reply.errorDesc = message && message->isString() ? std::string(message->asString()) : lastBody_;
  return true;
}

}  // namespace wampd::ctl
