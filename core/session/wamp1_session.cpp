#include "session/wamp1_session.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "common/log_fields.h"
#include "transport/transport.h"

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

void Wamp1Session::onMessage(std::string_view payload, bool binary) {
  if (closing()) return;
  if (binary) return fail(Fault::MalformedMessage, "binary frames carry no WAMP v1 message");
  wamp1::Message message;
  wamp1::DecodeError error;
  if (!wamp1::decode(payload, message, error)) return fail(error.fault, error.detail);
  std::visit(
      [&](auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, wamp1::Prefix>) prefix(m);
        if constexpr (std::is_same_v<T, wamp1::Call>) call(m);
        if constexpr (std::is_same_v<T, wamp1::Subscribe>) subscribe(m);
        if constexpr (std::is_same_v<T, wamp1::Unsubscribe>) unsubscribe(m);
        if constexpr (std::is_same_v<T, wamp1::Publish>) publish(m);
      },
      message);
}

void Wamp1Session::prefix(wamp1::Prefix& m) {
  if (m.uri.size() > kMaxUriLength) return fail(Fault::LimitExceeded, "prefix URI too long");
  if (prefixes_.size() >= kMaxPrefixes && !prefixes_.count(m.prefix))
    return fail(Fault::LimitExceeded, "more than " + std::to_string(kMaxPrefixes) + " prefixes");
  prefixes_[std::move(m.prefix)] = std::move(m.uri);
}

void Wamp1Session::call(wamp1::Call& m) {
  const std::string uri = wamp1::expandCurie(m.procUri, prefixes_);
  // The reply may come after this session left: it finds the session again by id.
  auto reply = [host = &services_.host, id = sessionId(), callId = m.callId, uri, args = m.args](
                   const Status& status, const Value& result) {
    auto* live = static_cast<Wamp1Session*>(host->findSession(id));
    if (live && !live->closing()) live->answerCall(callId, uri, args, status, result, true);
  };
  if (services_.host.builtin(*this, uri, m.args, reply)) return;
  if (services_.dealer.hasCallee(uri)) {
    // A WAMP v2 callee serves it; a v1 caller sees one result (progress is v2 only).
    services_.dealer.invoke(
        *this, uri, m.args, Dealer::CallOptions{},
        [reply](const Array& a, const Object* kwargs, bool progress) {
          if (progress) return;
          if (a.size() == 1 && !kwargs) return reply(Status(), a[0]);
          if (a.empty() && kwargs) return reply(Status(), Value(*kwargs));
          reply(Status(), Value(a));
        },
        [reply](const std::string& errorUri, const Array& a, const Object*) {
          const std::string message =
              !a.empty() && a[0].isString() ? std::string(a[0].asString()) : errorUri;
          reply(Status::error(errorUri, message), Value());
        });
    return;
  }
  Dealer::Result r = services_.dealer.call(*this, uri, m.args);
  if (r.outcome == Dealer::Outcome::Done) {
    link().sendText(wamp1::encodeCallResult(m.callId, r.value));
    return;
  }
  if (r.outcome == Dealer::Outcome::NoRoute) {
    r.status =
        Status::error(uriOf(Fault::NoSuchProcedure), "No route matches procedure \"" + uri + "\"");
  } else if (r.outcome == Dealer::Outcome::NoHandler) {
    r.status = Status::error(uriOf(Fault::NoSuchProcedure),
                             "A RPC handler for \"" + uri + "\" has not been registered");
  } else {
    spdlog::info("procedure {} failed for session {}: {}", uri, idText(), r.status.message());
  }
  answerCall(m.callId, uri, m.args, r.status, r.value, r.outcome == Dealer::Outcome::Failed);
}

// Gos's CALLERROR: the procedure URI as error URI, an HTTP-like code in the details.
void Wamp1Session::answerCall(const Value& callId, const std::string& uri, const Array& args,
                              const Status& status, const Value& result, bool fromHandler) {
  if (status) {
    link().sendText(wamp1::encodeCallResult(callId, result));
    return;
  }
  const Fault fault = faultForUri(status.uri());
  Object details{
      {"code", Value(describe(fault).detailsCode)}, {"rpc", Value(uri)}, {"params", Value(args)}};
  if (fromHandler) details.set("error", Value(status.uri()));
  link().sendText(wamp1::encodeCallError(callId, uri, status.message(), Value(std::move(details))));
}

void Wamp1Session::subscribe(wamp1::Subscribe& m) {
  const std::string uri = wamp1::expandCurie(m.topic, prefixes_);
  const LogFields about{LogFields::text("topic", uri)};
  answerTopic(uri, services_.broker.subscribe(*this, uri), "onSubscribe");
}

void Wamp1Session::unsubscribe(wamp1::Unsubscribe& m) {
  const std::string uri = wamp1::expandCurie(m.topic, prefixes_);
  const LogFields about{LogFields::text("topic", uri)};
  answerTopic(uri, services_.broker.unsubscribe(*this, uri), "onUnSubscribe");
}

void Wamp1Session::publish(wamp1::Publish& m) {
  const std::string uri = wamp1::expandCurie(m.topic, prefixes_);
  const LogFields about{LogFields::text("topic", uri)};
  const SessionIds exclude = excludeList(m.exclude, sessionId());
  SessionIds eligible = sessionList(m.eligible);
  // Ratchet restricts delivery whenever the list is not empty, so one naming no session id
  // reaches no one (session id 0 is never assigned); only an empty list means "everyone".
  if (m.eligible.array() && !m.eligible.array()->empty() && eligible.empty()) eligible.push_back(0);
  answerTopic(uri, services_.broker.publish(*this, uri, m.event, exclude, eligible), "onPublish");
}

void Wamp1Session::answerTopic(const std::string& topic, const Broker::Result& result,
                               const char* event) {
  switch (result.outcome) {
    case Broker::Outcome::NoRoute:
      return fail(Fault::NoRoute, "no route matches \"" + topic + "\"");
    case Broker::Outcome::LimitReached:
      return fail(Fault::LimitExceeded, "too many subscriptions");
    case Broker::Outcome::Failed: {
      const Fault fault = faultForUri(result.status.uri());
      spdlog::info("topic {}: {} failed for session {}: {}", topic, event, idText(),
                   result.status.message());
      Object details{{"code", Value(describe(fault).detailsCode)},
                     {"topic", Value(topic)},
                     {"event", Value(event)}};
      link().sendText(wamp1::encodeCallError(Value(topic), topic, result.status.message(),
                                             Value(std::move(details))));
      return;
    }
    default:
      return;
  }
}

void Wamp1Session::subscriptionRevoked(const std::string& topic, std::uint64_t,
                                       const Status& why) noexcept {
  if (closing()) return;
  Object details{{"code", Value(describe(faultForUri(why.uri())).detailsCode)},
                 {"topic", Value(topic)},
                 {"event", Value("reload")}};
  link().sendText(
      wamp1::encodeCallError(Value(topic), topic, why.message(), Value(std::move(details))));
}

bool Wamp1Session::deliver(Event& event) noexcept {
  SharedFramePtr& frame = event.frame(kFrameSlot);
  try {
    if (!frame) frame = Transport::prepareText(wamp1::encodeEvent(event.topic, event.payload));
  } catch (const std::exception& e) {
    spdlog::error("topic {}: cannot encode a WAMP v1 event: {}", event.topic, e.what());
    return false;
  }
  link().send(frame);
  return true;
}

void Wamp1Session::shutdown() noexcept {
  if (!closing()) closeWith(Fault::ServerShutdown);
}

void Wamp1Session::fail(Fault fault, const std::string& detail) {
  spdlog::info("session {} ({}): closing with {}: {}", idText(), remoteAddress(),
               describe(fault).closeCode, detail);
  closeWith(fault);
}

}  // namespace wampd::core
