#include "wamp/v2_client.h"

#include "common/errors.h"
#include "common/json.h"

namespace wampd::core::wamp2 {
namespace {

Value code(Type type) {
  return Value(static_cast<int>(type));
}

std::string encodeJson(const Array& message) {
  return encode(message, Serializer::Json);
}

bool isType(const Array& message, Type type) {
  return typeOf(message) == static_cast<int>(type);
}

std::string textAt(const Array& message, std::size_t index) {
  return index < message.size() && message[index].isString()
             ? std::string(message[index].asString())
             : std::string();
}

const Object* dictAt(const Array& message, std::size_t index) {
  return index < message.size() ? message[index].object() : nullptr;
}

std::string detailText(const Object* details, std::string_view key) {
  const Value* field = details ? details->find(key) : nullptr;
  return field && field->isString() ? std::string(field->asString()) : std::string();
}

// "wamp.error.no_such_realm: no realm "x" on this server", from ABORT or GOODBYE.
std::string describeEnd(const Array& message) {
  std::string text = textAt(message, 2);
  if (std::string why = detailText(dictAt(message, 1), "message"); !why.empty()) text += ": " + why;
  return text;
}

// Ends the session for ABORT and GOODBYE; false for anything else.
bool readEnd(const Array& message, std::string& error) {
  if (isType(message, Type::Abort) && message.size() >= 3) {
    error = "the server aborted the session: " + describeEnd(message);
    return true;
  }
  if (isType(message, Type::Goodbye) && message.size() >= 3) {
    error = "the server ended the session: " + describeEnd(message);
    return true;
  }
  return false;
}

bool answers(const Value& field, std::uint64_t request) {
  return field.isInteger() && field.asUInt() == request;
}

Value resultOf(const Array& message) {
  const Array* args = message.size() > 3 ? message[3].array() : nullptr;
  const Object* kwargs = dictAt(message, 4);
  const Array noArgs;
  if (!args) args = &noArgs;
  if (kwargs && !kwargs->empty()) return Value(Object{{"args", *args}, {"kwargs", *kwargs}});
  if (args->size() == 1) return (*args)[0];
  return Value(*args);
}

CallReply errorOf(const Array& message) {
  CallReply reply;
  reply.isError = true;
  reply.errorUri = textAt(message, 4);
  reply.reason = reply.errorUri;
  const Array* args = message.size() > 5 ? message[5].array() : nullptr;
  if (args && args->size() == 1 && (*args)[0].isString())
    reply.errorDesc = std::string((*args)[0].asString());
  else if (args && !args->empty())
    reply.errorDesc = json::serialize(Value(*args));
  if (const Object* kwargs = dictAt(message, 6); kwargs && !kwargs->empty())
    reply.errorDetails = Value(*kwargs);
  return reply;
}

}  // namespace

std::string encodeHello(std::string_view realm, std::string_view agent) {
  Object roles{{"publisher", Object{{"features", Object{}}}},
               {"caller", Object{{"features", Object{}}}}};
  return encodeJson(
      Array{code(Type::Hello), realm, Object{{"agent", agent}, {"roles", std::move(roles)}}});
}

std::string encodePublish(std::uint64_t request, std::string_view topic, const Value& payload) {
  return encodeJson(
      Array{code(Type::Publish), request, Object{{"acknowledge", true}}, topic, Array{payload}});
}

std::string encodeCall(std::uint64_t request, std::string_view procedure, const Array& args) {
  return encodeJson(Array{code(Type::Call), request, Object{}, procedure, args});
}

std::string encodeGoodbye() {
  return encodeJson(Array{code(Type::Goodbye), Object{}, uriOf(Fault::Leaving)});
}

bool decodeWelcome(std::string_view text, Welcome& out, std::string& error) {
  Array message;
  std::string why;
  if (!decode(text, Serializer::Json, message, why)) {
    error = "server sent malformed JSON instead of WELCOME: " + why;
    return false;
  }
  if (readEnd(message, error)) return false;
  if (isType(message, Type::Challenge)) {
    error = "the server asks for authentication (" + textAt(message, 1) +
            "), which wampctl cannot answer: give a ticket as ?ticket= in --url";
    return false;
  }
  if (!isType(message, Type::Welcome) || message.size() < 3 || !message[1].isInteger() ||
      !message[2].isObject()) {
    error = "server sent something other than a WAMP v2 WELCOME: " + std::string(text);
    return false;
  }
  const Object* details = message[2].object();
  out.sessionId = message[1].asUInt();
  out.realm = detailText(details, "realm");
  out.authid = detailText(details, "authid");
  out.authrole = detailText(details, "authrole");
  return true;
}

Reading readAnswer(std::string_view text, Type requestType, std::uint64_t request, CallReply& reply,
                   std::string& error) {
  Array message;
  std::string why;
  if (!decode(text, Serializer::Json, message, why)) {
    error = "server sent malformed JSON: " + why;
    return Reading::Ended;
  }
  if (readEnd(message, error)) return Reading::Ended;
  if (isType(message, Type::Error) && message.size() >= 5 &&
      message[1].asInt() == static_cast<int>(requestType) && answers(message[2], request)) {
    reply = errorOf(message);
    return Reading::Answered;
  }
  if (requestType == Type::Publish && isType(message, Type::Published) && message.size() >= 3 &&
      answers(message[1], request)) {
    reply = CallReply{};
    reply.result = message[2];
    return Reading::Answered;
  }
  if (requestType == Type::Call && isType(message, Type::Result) && message.size() >= 3 &&
      answers(message[1], request)) {
    const Object* details = dictAt(message, 2);
    if (const Value* progress = details ? details->find("progress") : nullptr;
        progress && progress->asBool())
      return Reading::Unrelated;
    reply = CallReply{};
    reply.result = resultOf(message);
    return Reading::Answered;
  }
  return Reading::Unrelated;
}

bool endsSession(std::string_view text) {
  Array message;
  std::string ignored;
  return decode(text, Serializer::Json, message, ignored) &&
         (isType(message, Type::Goodbye) || isType(message, Type::Abort));
}

}  // namespace wampd::core::wamp2
