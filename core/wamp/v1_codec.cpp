#include "wamp/v1_codec.h"

#include "common/json.h"

namespace wampd::core::wamp1 {
namespace {

bool fail(DecodeError& error, Fault fault, std::string detail) {
  error.fault = fault;
  error.detail = std::move(detail);
  return false;
}

bool stringAt(const Array& a, std::size_t i, std::string& out) {
  if (i >= a.size() || !a[i].isString()) return false;
  out = std::string(a[i].asString());
  return true;
}

}  // namespace

bool toType(const Value& code, Type& type) noexcept {
  if (code.type() != Value::Type::Int) return false;
  const std::int64_t number = code.asInt();
  if (number < static_cast<int>(Type::Welcome) || number > static_cast<int>(Type::Event))
    return false;
  type = static_cast<Type>(number);
  return true;
}

bool decode(std::string_view text, Message& out, DecodeError& error) {
  Value root;
  std::string parseError;
  if (!json::parse(text, root, &parseError))
    return fail(error, Fault::MalformedMessage, "invalid JSON: " + parseError);
  Array* a = root.array();
  if (!a || a->empty())
    return fail(error, Fault::MalformedMessage, "a WAMP message must be a non-empty array");
  if (!(*a)[0].isInteger())
    return fail(error, Fault::MalformedMessage, "the message type must be an integer");

  Type type{};
  if (!toType((*a)[0], type))
    return fail(error, Fault::UnknownMessageType,
                "unknown message type " + json::serialize((*a)[0]));
  switch (type) {
    case Type::Prefix: {
      Prefix m;
      if (a->size() != 3 || !stringAt(*a, 1, m.prefix) || !stringAt(*a, 2, m.uri))
        return fail(error, Fault::MalformedMessage, "PREFIX is [1, prefix, uri]");
      out = std::move(m);
      return true;
    }
    case Type::Call: {
      Call m;
      if (a->size() < 3 || !((*a)[1].isString() || (*a)[1].isInteger()) ||
          !stringAt(*a, 2, m.procUri))
        return fail(error, Fault::MalformedMessage, "CALL is [2, callId, procUri, args...]");
      m.callId = std::move((*a)[1]);
      m.args.assign(std::make_move_iterator(a->begin() + 3), std::make_move_iterator(a->end()));
      out = std::move(m);
      return true;
    }
    case Type::Subscribe: {
      Subscribe m;
      if (a->size() != 2 || !stringAt(*a, 1, m.topic))
        return fail(error, Fault::MalformedMessage, "SUBSCRIBE is [5, topic]");
      out = std::move(m);
      return true;
    }
    case Type::Unsubscribe: {
      Unsubscribe m;
      if (a->size() != 2 || !stringAt(*a, 1, m.topic))
        return fail(error, Fault::MalformedMessage, "UNSUBSCRIBE is [6, topic]");
      out = std::move(m);
      return true;
    }
    case Type::Publish: {
      Publish m;
      if (a->size() < 3 || a->size() > 5 || !stringAt(*a, 1, m.topic))
        return fail(error, Fault::MalformedMessage,
                    "PUBLISH is [7, topic, event, exclude?, eligible?]");
      m.event = std::move((*a)[2]);
      if (a->size() > 3) m.exclude = std::move((*a)[3]);
      if (a->size() > 4) {
        if (!(*a)[4].isArray())
          return fail(error, Fault::MalformedMessage, "PUBLISH eligible must be an array");
        m.eligible = std::move((*a)[4]);
      }
      out = std::move(m);
      return true;
    }
    case Type::Welcome:
    case Type::CallResult:
    case Type::CallError:
    case Type::Event:
      return fail(
          error, Fault::UnknownMessageType,
          "message type " + std::to_string(static_cast<int>(type)) + " is sent only by servers");
  }
  return fail(error, Fault::UnknownMessageType,
              "unknown message type " + std::to_string(static_cast<int>(type)));
}

std::string expandCurie(std::string_view uri, const PrefixMap& prefixes) {
  const std::size_t colon = uri.find(':');
  if (colon == std::string_view::npos) return std::string(uri);
  auto it = prefixes.find(uri.substr(0, colon));
  if (it == prefixes.end()) return std::string(uri);
  std::string expanded = it->second;
  expanded.append(uri.substr(colon + 1));
  return expanded;
}

std::string encodeWelcome(std::string_view sessionId, std::string_view serverIdent) {
  return json::serialize(Array{Value(static_cast<int>(Type::Welcome)), Value(sessionId),
                               Value(kProtocolVersion), Value(serverIdent)});
}

std::string encodeCallResult(const Value& callId, const Value& result) {
  return json::serialize(Array{Value(3), callId, result});
}

std::string encodeCallError(const Value& callId, std::string_view errorUri, std::string_view desc,
                            const Value& details) {
  Array a{Value(4), callId, Value(errorUri), Value(desc)};
  if (!details.isNull()) a.push_back(details);
  return json::serialize(Value(std::move(a)));
}

std::string encodeEvent(std::string_view topic, const Value& event) {
  std::string out = "[8,";
  json::serializeTo(Value(topic), out);
  out.push_back(',');
  json::serializeTo(event, out);
  out.push_back(']');
  return out;
}

}  // namespace wampd::core::wamp1
