#include "session/wamp1_protocol.h"

#include <spdlog/spdlog.h>

#include <charconv>

namespace wampd::core {
namespace {

// Session ids in exclude/eligible lists: v1 sends decimal strings; integers also work.
SessionIds sessionList(const Value& list) {
  SessionIds ids;
  const Array* a = list.array();
  if (!a) return ids;
  ids.reserve(a->size());
  for (const Value& v : *a) {
    if (v.isInteger()) {
      ids.push_back(v.asUInt());
    } else if (v.isString()) {
      std::string_view s = v.asString();
      SessionId id = 0;
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
      if (ec == std::errc() && end == s.data() + s.size()) ids.push_back(id);
    }
  }
  return ids;
}

// Ratchet's reading of PUBLISH's exclude: an array lists session ids; anything else is
// PHP-truthy "exclude me".
SessionIds excludeList(const Value& exclude, SessionId self) {
  if (exclude.isArray()) return sessionList(exclude);
  bool truthy = false;
  switch (exclude.type()) {
    case Value::Type::Bool:
      truthy = exclude.asBool();
      break;
    case Value::Type::Int:
    case Value::Type::UInt:
      truthy = exclude.asUInt() != 0 || exclude.asInt() != 0;
      break;
    case Value::Type::Double:
      truthy = exclude.asDouble() != 0.0;
      break;
    case Value::Type::String:
      truthy = !exclude.asString().empty() && exclude.asString() != "0";
      break;
    default:
      break;
  }
  return truthy ? SessionIds{self} : SessionIds{};
}

}  // namespace

void Wamp1Protocol::onMessage(Session& s, std::string_view payload, bool binary) {
  if (s.closing) return;
  if (binary)
    return closeWith(s, Fault::MalformedMessage, "binary frames carry no WAMP v1 message");
  wamp1::Message message;
  wamp1::DecodeError error;
  if (!wamp1::decode(payload, message, error)) return closeWith(s, error.fault, error.detail);
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, wamp1::Prefix>) prefix(s, m);
        if constexpr (std::is_same_v<T, wamp1::Call>) call(s, m);
        if constexpr (std::is_same_v<T, wamp1::Subscribe>) subscribe(s, m);
        if constexpr (std::is_same_v<T, wamp1::Unsubscribe>) unsubscribe(s, m);
        if constexpr (std::is_same_v<T, wamp1::Publish>) publish(s, m);
      },
      message);
}

void Wamp1Protocol::prefix(Session& s, wamp1::Prefix& m) {
  if (m.uri.size() > kMaxUriLength)
    return closeWith(s, Fault::LimitExceeded, "prefix URI too long");
  if (s.prefixes.size() >= kMaxPrefixes && !s.prefixes.count(m.prefix))
    return closeWith(s, Fault::LimitExceeded,
                     "more than " + std::to_string(kMaxPrefixes) + " prefixes");
  s.prefixes[std::move(m.prefix)] = std::move(m.uri);
}

void Wamp1Protocol::call(Session& s, wamp1::Call& m) {
  const std::string uri = wamp1::expandCurie(m.procUri, s.prefixes);
  if (builtins_) {
    auto reply = [this, id = s.sessionId(), callId = m.callId, uri, args = m.args](
                     const Status& status, const Value& result) {
      if (Session* live = sessions_(id); live && !live->closing)
        answerCall(*live, callId, uri, args, status, result, true);
    };
    if (builtins_(s, uri, m.args, std::move(reply))) return;
  }
  if (dealer_.hasCallee(uri)) {
    // A WAMP v2 callee serves it; a v1 caller sees one result (progress is v2 only).
    auto answer = [this, id = s.sessionId(), callId = m.callId, uri, args = m.args](
                      const Status& status, const Value& result) {
      if (Session* live = sessions_(id); live && !live->closing)
        answerCall(*live, callId, uri, args, status, result, true);
    };
    dealer_.invoke(
        s, uri, m.args, Dealer::CallOptions{},
        [answer](const Array& a, const Object* kwargs, bool progress) {
          if (progress) return;
          if (a.size() == 1 && !kwargs) return answer(Status(), a[0]);
          if (a.empty() && kwargs) return answer(Status(), Value(*kwargs));
          answer(Status(), Value(a));
        },
        [answer](const std::string& errorUri, const Array& a, const Object*) {
          const std::string message =
              !a.empty() && a[0].isString() ? std::string(a[0].asString()) : errorUri;
          answer(Status::error(errorUri, message), Value());
        });
    return;
  }
  Dealer::Result r = dealer_.call(s, uri, m.args);
  if (r.outcome == Dealer::Outcome::Done) {
    s.link().sendText(wamp1::encodeCallResult(m.callId, r.value));
    return;
  }
  if (r.outcome == Dealer::Outcome::NoRoute) {
    r.status = Status::error(describe(Fault::NoSuchProcedure).uri.data(),
                             "No route matches procedure \"" + uri + "\"");
  } else if (r.outcome == Dealer::Outcome::NoHandler) {
    r.status = Status::error(describe(Fault::NoSuchProcedure).uri.data(),
                             "A RPC handler for \"" + uri + "\" has not been registered");
  } else {
    spdlog::info("procedure {} failed for session {}: {}", uri, s.idText(), r.status.message());
  }
  answerCall(s, m.callId, uri, m.args, r.status, r.value, r.outcome == Dealer::Outcome::Failed);
}

// Gos's CALLERROR: the procedure URI as error URI, an HTTP-like code in the details.
void Wamp1Protocol::answerCall(Session& s, const Value& callId, const std::string& uri,
                               const Array& args, const Status& status, const Value& result,
                               bool fromHandler) {
  if (status) {
    s.link().sendText(wamp1::encodeCallResult(callId, result));
    return;
  }
  const Fault fault = faultForUri(status.uri());
  Object details{
      {"code", Value(describe(fault).detailsCode)}, {"rpc", Value(uri)}, {"params", Value(args)}};
  if (fromHandler) details.set("error", Value(status.uri()));
  s.link().sendText(
      wamp1::encodeCallError(callId, uri, status.message(), Value(std::move(details))));
}

void Wamp1Protocol::subscribe(Session& s, wamp1::Subscribe& m) {
  const std::string uri = wamp1::expandCurie(m.topic, s.prefixes);
  answerTopic(s, uri, broker_.subscribe(s, uri), "onSubscribe");
}

void Wamp1Protocol::unsubscribe(Session& s, wamp1::Unsubscribe& m) {
  const std::string uri = wamp1::expandCurie(m.topic, s.prefixes);
  answerTopic(s, uri, broker_.unsubscribe(s, uri), "onUnSubscribe");
}

void Wamp1Protocol::publish(Session& s, wamp1::Publish& m) {
  const std::string uri = wamp1::expandCurie(m.topic, s.prefixes);
  const SessionIds exclude = excludeList(m.exclude, s.sessionId());
  const SessionIds eligible = sessionList(m.eligible);
  answerTopic(s, uri, broker_.publish(s, uri, m.event, exclude, eligible), "onPublish");
}

void Wamp1Protocol::answerTopic(Session& s, const std::string& topic, const Broker::Result& result,
                                const char* event) {
  switch (result.outcome) {
    case Broker::Outcome::NoRoute:
      return closeWith(s, Fault::NoRoute, "no route matches \"" + topic + "\"");
    case Broker::Outcome::LimitReached:
      return closeWith(s, Fault::LimitExceeded, "too many subscriptions");
    case Broker::Outcome::Failed: {
      const Fault fault = faultForUri(result.status.uri());
      spdlog::info("topic {}: {} failed for session {}: {}", topic, event, s.idText(),
                   result.status.message());
      Object details{{"code", Value(describe(fault).detailsCode)},
                     {"topic", Value(topic)},
                     {"event", Value(event)}};
      s.link().sendText(wamp1::encodeCallError(Value(topic), topic, result.status.message(),
                                               Value(std::move(details))));
      return;
    }
    default:
      return;
  }
}

void Wamp1Protocol::revoked(Session& s, const std::string& topic, const Status& why) {
  if (s.closing) return;
  Object details{{"code", Value(describe(faultForUri(why.uri())).detailsCode)},
                 {"topic", Value(topic)},
                 {"event", Value("reload")}};
  s.link().sendText(
      wamp1::encodeCallError(Value(topic), topic, why.message(), Value(std::move(details))));
}

void Wamp1Protocol::closeWith(Session& s, Fault fault, const std::string& detail) {
  const FaultInfo& info = describe(fault);
  spdlog::info("session {} ({}): closing with {}: {}", s.idText(), s.remoteAddress(),
               info.closeCode, detail);
  s.closing = true;
  s.link().close(info.closeCode, info.reason);
}

}  // namespace wampd::core
