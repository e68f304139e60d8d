#include "ctl/wamp_messages.h"

#include "common/json.h"

namespace wampd::ctl::wamp {
namespace {

constexpr std::int64_t kWelcome = 0;
constexpr std::int64_t kCall = 2;
constexpr std::int64_t kCallResult = 3;
constexpr std::int64_t kCallError = 4;
constexpr std::int64_t kPublish = 7;
constexpr std::int64_t kProtocolVersion = 1;

}  // namespace

std::string publishMessage(std::string_view topic, const Value& payload) {
  return core::json::serialize(Value(Array{kPublish, topic, payload, Array{}, Array{}}));
}

std::string callMessage(std::string_view callId, std::string_view procedure, const Array& args) {
  Array message{kCall, callId, procedure};
  message.insert(message.end(), args.begin(), args.end());
  return core::json::serialize(Value(std::move(message)));
}

bool parseWelcome(std::string_view text, Welcome& out, std::string& error) {
  Value value;
  std::string parseError;
  if (!core::json::parse(text, value, &parseError)) {
    error = "server sent malformed JSON instead of WELCOME: " + parseError;
    return false;
  }
  const Array* fields = value.array();
  if (!fields || fields->size() < 4 || !(*fields)[0].isInteger() ||
      (*fields)[0].asInt() != kWelcome || !(*fields)[1].isString()) {
    error = "server sent something other than a WAMP v1 WELCOME: " + std::string(text);
    return false;
  }
  if ((*fields)[2].asInt(-1) != kProtocolVersion) {
    error =
        "server speaks WAMP protocol version " + core::json::serialize((*fields)[2]) + ", not 1";
    return false;
  }
  out.sessionId = std::string((*fields)[1].asString());
  out.serverIdent = (*fields)[3].isString() ? std::string((*fields)[3].asString())
                                            : core::json::serialize((*fields)[3]);
  return true;
}

bool parseCallReply(std::string_view text, std::string_view callId, CallReply& out) {
  Value value;
  if (!core::json::parse(text, value)) return false;
  const Array* fields = value.array();
  if (!fields || fields->size() < 2 || !(*fields)[0].isInteger() || !(*fields)[1].isString() ||
      (*fields)[1].asString() != callId)
    return false;
  std::int64_t type = (*fields)[0].asInt();
  if (type == kCallResult && fields->size() >= 3) {
    out = CallReply{};
    out.result = (*fields)[2];
    return true;
  }
  if (type == kCallError && fields->size() >= 4) {
    out = CallReply{};
    out.isError = true;
    out.errorUri = std::string((*fields)[2].asString());
    out.errorDesc = (*fields)[3].isString() ? std::string((*fields)[3].asString())
                                            : core::json::serialize((*fields)[3]);
    out.reason = out.errorUri;
    if (fields->size() >= 5) {
      out.errorDetails = (*fields)[4];
      if (const Value* kind = out.errorDetails->find("error"); kind && kind->isString())
        out.reason = std::string(kind->asString());
    }
    return true;
  }
  return false;
}

}  // namespace wampd::ctl::wamp
