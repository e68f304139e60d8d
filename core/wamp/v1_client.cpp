#include "wamp/v1_client.h"

#include "common/json.h"

namespace wampd::core::wamp1 {
namespace {

Value code(Type type) {
  return Value(static_cast<int>(type));
}

bool isType(const Value& field, Type type) {
  Type actual{};
  return toType(field, actual) && actual == type;
}

}  // namespace

std::string encodePublish(std::string_view topic, const Value& event) {
  return json::serialize(Value(Array{code(Type::Publish), topic, event, Array{}, Array{}}));
}

std::string encodeCall(std::string_view callId, std::string_view procUri, const Array& args) {
  Array message{code(Type::Call), callId, procUri};
  message.insert(message.end(), args.begin(), args.end());
  return json::serialize(Value(std::move(message)));
}

bool decodeWelcome(std::string_view text, Welcome& out, std::string& error) {
  Value value;
  std::string parseError;
  if (!json::parse(text, value, &parseError)) {
    error = "server sent malformed JSON instead of WELCOME: " + parseError;
    return false;
  }
  const Array* fields = value.array();
  if (!fields || fields->size() < 4 || !isType((*fields)[0], Type::Welcome) ||
      !(*fields)[1].isString()) {
    error = "server sent something other than a WAMP v1 WELCOME: " + std::string(text);
    return false;
  }
  if ((*fields)[2].asInt(-1) != kProtocolVersion) {
    error = "server speaks WAMP protocol version " + json::serialize((*fields)[2]) + ", not 1";
    return false;
  }
  out.sessionId = std::string((*fields)[1].asString());
  out.serverIdent = (*fields)[3].isString() ? std::string((*fields)[3].asString())
                                            : json::serialize((*fields)[3]);
  return true;
}

bool decodeCallReply(std::string_view text, std::string_view callId, CallReply& out) {
  Value value;
  if (!json::parse(text, value)) return false;
  const Array* fields = value.array();
  if (!fields || fields->size() < 2 || !(*fields)[1].isString() ||
      (*fields)[1].asString() != callId)
    return false;
  if (isType((*fields)[0], Type::CallResult) && fields->size() >= 3) {
    out = CallReply{};
    out.result = (*fields)[2];
    return true;
  }
  if (isType((*fields)[0], Type::CallError) && fields->size() >= 4) {
    out = CallReply{};
    out.isError = true;
    out.errorUri = std::string((*fields)[2].asString());
    out.errorDesc = (*fields)[3].isString() ? std::string((*fields)[3].asString())
                                            : json::serialize((*fields)[3]);
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

}  // namespace wampd::core::wamp1
