#include "session/wamp2_protocol.h"

#include <spdlog/spdlog.h>

#include <ctime>

#include "common/errors.h"

namespace wampd::core {
namespace {

using wamp2::Type;

Value type(Type t) {
  return Value(static_cast<int>(t));
}

const Object& dictAt(const Array& m, std::size_t i) {
  static const Object kEmpty;
  const Object* o = i < m.size() ? m[i].object() : nullptr;
  return o ? *o : kEmpty;
}
const Array* listAt(const Array& m, std::size_t i) {
  return i < m.size() ? m[i].array() : nullptr;
}
const Object* kwargsAt(const Array& m, std::size_t i) {
  return i < m.size() ? m[i].object() : nullptr;
}
std::uint64_t idAt(const Array& m, std::size_t i) {
  return m[i].asUInt();
}
std::string stringAt(const Array& m, std::size_t i) {
  return std::string(m[i].asString());
}

bool flag(const Object& o, std::string_view key, bool fallback = false) {
  const Value* v = o.find(key);
  return v && v->isBool() ? v->asBool() : fallback;
}
std::string text(const Object& o, std::string_view key, std::string fallback = {}) {
  const Value* v = o.find(key);
  return v && v->isString() ? std::string(v->asString()) : fallback;
}
// An id given as an integer, or as a double holding one exactly (JavaScript msgpack
// encoders write integers above 2^32 as doubles).
bool asId(const Value& v, SessionId& id) {
  if (v.isInteger()) {
    id = v.asUInt();
    return v.asInt() >= 0 && id <= wamp2::kMaxId;
  }
  const double d = v.asDouble(-1);
  if (!(d >= 0 && d <= static_cast<double>(wamp2::kMaxId)) ||
      d != static_cast<double>(static_cast<SessionId>(d)))
    return false;
  id = static_cast<SessionId>(d);
  return true;
}

SessionIds ids(const Object& o, std::string_view key) {
  SessionIds out;
  SessionId id = 0;
  if (const Value* v = o.find(key); v && v->array())
    for (const Value& item : *v->array())
      if (asId(item, id)) out.push_back(id);
  return out;
}

enum class Option { Bool, Int, String, IdList, StringList };

// The types of the options wampd acts on. A wrongly typed one is a protocol violation (an
// `exclude` that is silently ignored would deliver to the excluded); unknown options are
// ignored, as the spec asks; null means "not given".
bool checkOptions(const Object& o, std::initializer_list<std::pair<const char*, Option>> rules,
                  std::string& why) {
  for (const auto& [name, kind] : rules) {
    const Value* v = o.find(name);
    if (!v || v->isNull()) continue;
    bool ok = false;
    SessionId id = 0;
    switch (kind) {
      case Option::Bool:
        ok = v->isBool();
        break;
      case Option::Int:
        ok = v->isInteger() && v->asInt() >= 0;
        break;
      case Option::String:
        ok = v->isString();
        break;
      case Option::IdList:
        ok = v->array() != nullptr;
        for (std::size_t i = 0; ok && i < v->array()->size(); ++i) ok = asId((*v->array())[i], id);
        break;
      case Option::StringList:
        ok = v->array() != nullptr;
        for (std::size_t i = 0; ok && i < v->array()->size(); ++i) ok = (*v->array())[i].isString();
        break;
    }
    if (!ok) {
      static constexpr const char* kNames[] = {"a boolean", "a non-negative integer", "a string",
                                               "a list of ids", "a list of strings"};
      why = std::string("option '") + name + "' must be " + kNames[static_cast<int>(kind)];
      return false;
    }
  }
  return true;
}
std::vector<std::string> names(const Object& o, std::string_view key) {
  std::vector<std::string> out;
  if (const Value* v = o.find(key); v && v->array())
    for (const Value& item : *v->array())
      if (item.isString()) out.emplace_back(item.asString());
  return out;
}

// What a v1 subscriber or a plugin handler sees of a v2 publication: the single argument,
// the keyword arguments alone, or the argument list.
Value eventOf(const Array* args, const Object* kwargs) {
  if (args && args->size() == 1 && (!kwargs || kwargs->empty())) return (*args)[0];
  if ((!args || args->empty()) && kwargs) return Value(*kwargs);
  return args ? Value(*args) : Value(Array{});
}

Object roleFeatures() {
  Object broker{{"features", Value(Object{{"publisher_identification", Value(true)},
                                          {"publisher_exclusion", Value(true)},
                                          {"subscriber_blackwhite_listing", Value(true)},
                                          {"subscription_revocation", Value(true)},
                                          {"pattern_based_subscription", Value(true)}})}};
  Object dealer{{"features", Value(Object{{"progressive_call_results", Value(true)},
                                          {"call_canceling", Value(true)},
                                          {"call_timeout", Value(true)},
                                          {"caller_identification", Value(true)},
                                          {"shared_registration", Value(true)}})}};
  return Object{{"broker", Value(std::move(broker))}, {"dealer", Value(std::move(dealer))}};
}

}  // namespace

void Wamp2Protocol::onMessage(Session& s, std::string_view payload, bool binary) {
  if (s.closing) return;
  Array m;
  std::string why;
  if (binary != (s.serializer == wamp2::Serializer::MsgPack))
    return abort(s, "wamp.error.protocol_violation",
                 binary ? "binary frame on a wamp.2.json session"
                        : "text frame on a wamp.2.msgpack session");
  if (!wamp2::decode(payload, s.serializer, m, why) || !wamp2::validateFromClient(m, why))
    return abort(s, "wamp.error.protocol_violation", why);

  const auto t = static_cast<Type>(wamp2::typeOf(m));
  if (s.phase == Session::Phase::AwaitingHello) {
    if (t == Type::Hello) return hello(s, m);
    if (t == Type::Abort) return abort(s, "wamp.close.goodbye_and_out", "");
    return abort(
        s, "wamp.error.protocol_violation",
        std::string(wamp2::typeName(static_cast<int>(t))) + " before the session was established");
  }
  if (s.phase == Session::Phase::Challenged) {
    if (t == Type::Authenticate) return authenticate(s, m);
    if (t == Type::Abort) return abort(s, "wamp.close.goodbye_and_out", "");
    return abort(
        s, "wamp.error.protocol_violation",
        std::string(wamp2::typeName(static_cast<int>(t))) + " while authentication is pending");
  }
  switch (t) {
    case Type::Hello:
      return abort(s, "wamp.error.protocol_violation", "HELLO on an established session");
    case Type::Authenticate:
      return abort(s, "wamp.error.protocol_violation", "AUTHENTICATE without a CHALLENGE");
    case Type::Goodbye:
      return goodbye(s);
    case Type::Abort:
      return abort(s, "wamp.close.goodbye_and_out", "");
    case Type::Publish:
      return publish(s, m);
    case Type::Subscribe:
      return subscribe(s, m);
    case Type::Unsubscribe:
      return unsubscribe(s, m);
    case Type::Call:
      return call(s, m);
    case Type::Cancel:
      return cancel(s, m);
    case Type::Register:
      return registerProcedure(s, m);
    case Type::Unregister:
      return unregister(s, m);
    case Type::Yield:
      return yield(s, m);
    case Type::Error:
      return error(s, m);
    default:
      return abort(s, "wamp.error.protocol_violation", "unexpected message");
  }
}

void Wamp2Protocol::abort(Session& s, const std::string& reason, const std::string& message) {
  if (s.closing) return;
  if (reason == "wamp.error.protocol_violation")
    spdlog::info("session {} ({}): protocol violation: {}", s.idText(), s.remoteAddress(), message);
  Object details;
  if (!message.empty()) details.set("message", Value(message));
  s.sendV2(Array{type(Type::Abort), Value(std::move(details)), Value(reason)});
  s.phase = Session::Phase::Closed;
  s.closing = true;
  const FaultInfo& info = describe(
      reason == "wamp.error.protocol_violation" ? Fault::ProtocolViolation : Fault::SessionEnded);
  s.link().close(info.closeCode, info.reason);
}

void Wamp2Protocol::hello(Session& s, const Array& m) {
  const std::string realm = stringAt(m, 1);
  const auto& realms = realms_();
  if (std::find(realms.begin(), realms.end(), realm) == realms.end())
    return abort(s, "wamp.error.no_such_realm", "no realm \"" + realm + "\" on this server");
  s.realm = realm;
  const Object& details = dictAt(m, 2);
  auto feature = [&details](const char* role, const char* name) {
    const Value* roles = details.find("roles");
    const Value* r = roles ? roles->find(role) : nullptr;
    const Value* features = r ? r->find("features") : nullptr;
    const Value* f = features ? features->find(name) : nullptr;
    return f && f->asBool();
  };
  s.revocationSupported = feature("subscriber", "subscription_revocation");
  s.calleeCanceling = feature("callee", "call_canceling");
  // A ticket in the upgrade URL already authenticated the session.
  if (!s.identity().anonymous) return welcome(s, "ticket");
  bool ticketOffered = false;
  if (const Value* methods = details.find("authmethods"); methods && methods->array())
    for (const Value& method : *methods->array())
      ticketOffered = ticketOffered || method.asString() == "ticket";
  if (!ticketOffered && s.mustAuthenticate)
    return abort(s, "wamp.error.not_authorized",
                 "anonymous sessions are not allowed: authenticate with authmethod \"ticket\"");
  if (ticketOffered) {
    s.pendingAuthid = text(details, "authid");
    s.phase = Session::Phase::Challenged;
    s.sendV2(Array{type(Type::Challenge), Value("ticket"), Value(Object{})});
    return;
  }
  welcome(s, "anonymous");
}

void Wamp2Protocol::authenticate(Session& s, const Array& m) {
  auth::Decision decision;
  decision.identity = s.identity();  // keeps the backend proof of the handshake
  const std::string ticket = stringAt(m, 1);
  if (!authenticator_().authenticateTicket(ticket, std::time(nullptr), decision)) {
    spdlog::warn("session {} ({}): ticket authentication failed: {}", s.idText(), s.remoteAddress(),
                 decision.reason);
    return abort(s, "wamp.error.authentication_failed", decision.reason);
  }
  if (!s.pendingAuthid.empty() && !decision.identity.anonymous &&
      decision.identity.username != s.pendingAuthid)
    return abort(s, "wamp.error.authentication_failed",
                 "the ticket is not for authid \"" + s.pendingAuthid + "\"");
  s.setIdentity(std::move(decision.identity));
  welcome(s, "ticket");
}

void Wamp2Protocol::welcome(Session& s, const std::string& authmethod) {
  s.phase = Session::Phase::Established;
  Object details{{"realm", Value(s.realm)},         {"authid", Value(s.authid())},
                 {"authrole", Value(s.authrole())}, {"authmethod", Value(authmethod)},
                 {"authprovider", Value("wampd")},  {"roles", Value(roleFeatures())}};
  s.sendV2(Array{type(Type::Welcome), Value(s.sessionId()), Value(std::move(details))});
}

void Wamp2Protocol::goodbye(Session& s) {
  s.sendV2(Array{type(Type::Goodbye), Value(Object{}), Value("wamp.close.goodbye_and_out")});
  s.phase = Session::Phase::Closed;
  s.closing = true;
  const FaultInfo& info = describe(Fault::SessionEnded);
  s.link().close(info.closeCode, info.reason);
}

bool Wamp2Protocol::checkRequestId(Session& s, std::uint64_t id) {
  if (id > s.lastRequestId && id - s.lastRequestId <= kMaxRequestIdStep) {
    s.lastRequestId = id;
    return true;
  }
  abort(s, "wamp.error.protocol_violation",
        "request id " + std::to_string(id) + " does not follow " + std::to_string(s.lastRequestId));
  return false;
}

void Wamp2Protocol::sendError(Session& s, int requestType, std::uint64_t request,
                              const std::string& uri, const std::string& message) {
  Array m{type(Type::Error), Value(requestType), Value(request), Value(Object{}), Value(uri)};
  if (!message.empty()) m.push_back(Value(Array{Value(message)}));
  s.sendV2(m);
}

void Wamp2Protocol::publish(Session& s, const Array& m) {
  const std::uint64_t request = idAt(m, 1);
  if (!checkRequestId(s, request)) return;
  const Object& options = dictAt(m, 2);
  std::string why;
  if (!checkOptions(options,
                    {{"acknowledge", Option::Bool},
                     {"exclude_me", Option::Bool},
                     {"disclose_me", Option::Bool},
                     {"exclude", Option::IdList},
                     {"eligible", Option::IdList},
                     {"exclude_authid", Option::StringList},
                     {"eligible_authid", Option::StringList},
                     {"exclude_authrole", Option::StringList},
                     {"eligible_authrole", Option::StringList}},
                    why))
    return abort(s, "wamp.error.protocol_violation", "PUBLISH: " + why);
  const std::string topic = stringAt(m, 3);
  const Array* args = listAt(m, 4);
  const Object* kwargs = kwargsAt(m, 5);
  const bool acknowledge = flag(options, "acknowledge");

  SessionIds exclude = ids(options, "exclude");
  if (flag(options, "exclude_me", true)) exclude.push_back(s.sessionId());
  SessionIds eligible = ids(options, "eligible");
  // An explicit eligible list naming no one reaches no one (an empty list means "no
  // restriction" only in Ratchet's v1 convention); session id 0 is never assigned.
  if (options.find("eligible") && eligible.empty()) eligible.push_back(0);
  Broker::PublishOptions extra;
  extra.discloseMe = flag(options, "disclose_me");
  extra.eligibleAuthid = names(options, "eligible_authid");
  extra.excludeAuthid = names(options, "exclude_authid");
  extra.eligibleAuthrole = names(options, "eligible_authrole");
  extra.excludeAuthrole = names(options, "exclude_authrole");
  extra.args = args;
  extra.kwargs = kwargs;

  const Value event = eventOf(args, kwargs);
  const Broker::Result r = broker_.publish(s, topic, event, exclude, eligible, &extra);
  constexpr int kPublish = static_cast<int>(Type::Publish);
  switch (r.outcome) {
    case Broker::Outcome::Done:
      if (acknowledge) s.sendV2(Array{type(Type::Published), Value(request), Value(r.id)});
      return;
    case Broker::Outcome::NoRoute:
      if (acknowledge)
        sendError(s, kPublish, request, "wamp.error.invalid_uri",
                  "no route matches \"" + topic + "\"");
      return;
    case Broker::Outcome::NoHandler:
      if (acknowledge)
        sendError(s, kPublish, request, "wamp.error.no_such_subscription",
                  "the topic's handler is not loaded");
      return;
    default:
      if (acknowledge) sendError(s, kPublish, request, r.status.uri(), r.status.message());
      return;
  }
}

void Wamp2Protocol::subscribe(Session& s, const Array& m) {
  const std::uint64_t request = idAt(m, 1);
  if (!checkRequestId(s, request)) return;
  std::string why;
  if (!checkOptions(dictAt(m, 2), {{"match", Option::String}}, why))
    return abort(s, "wamp.error.protocol_violation", "SUBSCRIBE: " + why);
  const std::string match = text(dictAt(m, 2), "match", "exact");
  const std::string topic = stringAt(m, 3);
  constexpr int kSubscribe = static_cast<int>(Type::Subscribe);
  if (match != "exact" && match != "prefix" && match != "wildcard")
    return sendError(s, kSubscribe, request, "wamp.error.option_not_allowed",
                     "match policy \"" + match + "\" is not supported");
  const Broker::Result r =
      match == "exact" ? broker_.subscribe(s, topic) : broker_.subscribePattern(s, match, topic);
  switch (r.outcome) {
    case Broker::Outcome::Done:
    case Broker::Outcome::Duplicate:
      return s.sendV2(Array{type(Type::Subscribed), Value(request), Value(r.id)});
    case Broker::Outcome::NoRoute:
      return sendError(s, kSubscribe, request, "wamp.error.invalid_uri",
                       "no route matches \"" + topic + "\"");
    case Broker::Outcome::NoHandler:
      return sendError(s, kSubscribe, request, "wamp.error.no_such_subscription",
                       "the topic's handler is not loaded");
    case Broker::Outcome::LimitReached:
      return abort(s, "wamp.error.protocol_violation", "too many subscriptions");
    default:
      return sendError(s, kSubscribe, request, r.status.uri(), r.status.message());
  }
}

void Wamp2Protocol::unsubscribe(Session& s, const Array& m) {
  const std::uint64_t request = idAt(m, 1);
  if (!checkRequestId(s, request)) return;
  const Broker::Result r = broker_.unsubscribeById(s, idAt(m, 2));
  if (r.outcome == Broker::Outcome::NotSubscribed)
    return sendError(s, static_cast<int>(Type::Unsubscribe), request,
                     "wamp.error.no_such_subscription", "");
  s.sendV2(Array{type(Type::Unsubscribed), Value(request)});
}

void Wamp2Protocol::revoked(Session& s, std::uint64_t subscriptionId, const Status& why) {
  if (s.closing || !s.revocationSupported) return;
  s.sendV2(Array{
      type(Type::Unsubscribed), Value(0),
      Value(Object{{"subscription", Value(subscriptionId)}, {"reason", Value(why.message())}})});
}

void Wamp2Protocol::call(Session& s, const Array& m) {
  const std::uint64_t request = idAt(m, 1);
  if (!checkRequestId(s, request)) return;
  const Object& options = dictAt(m, 2);
  std::string why;
  if (!checkOptions(options,
                    {{"receive_progress", Option::Bool},
                     {"timeout", Option::Int},
                     {"disclose_me", Option::Bool}},
                    why))
    return abort(s, "wamp.error.protocol_violation", "CALL: " + why);
  const std::string procedure = stringAt(m, 3);
  const Array empty;
  const Array& args = listAt(m, 4) ? *listAt(m, 4) : empty;
  const Object* kwargs = kwargsAt(m, 5);
  constexpr int kCall = static_cast<int>(Type::Call);

  auto resultTo = [this, id = s.sessionId(), request](const Array& a, const Object* kw,
                                                      bool progress) {
    Session* live = sessions_(id);
    if (!live || live->closing) return;
    Object details;
    if (progress) details.set("progress", Value(true));
    Array reply{type(Type::Result), Value(request), Value(std::move(details)), Value(a)};
    if (kw) reply.push_back(Value(*kw));
    live->sendV2(reply);
  };
  auto errorTo = [this, id = s.sessionId(), request](const std::string& uri, const Array& a,
                                                     const Object* kw) {
    Session* live = sessions_(id);
    if (!live || live->closing) return;
    Array reply{type(Type::Error), Value(kCall), Value(request),
                Value(Object{}),   Value(uri),   Value(a)};
    if (kw) reply.push_back(Value(*kw));
    live->sendV2(reply);
  };

  if (builtins_) {
    auto reply = [resultTo, errorTo](const Status& status, const Value& result) {
      if (status)
        resultTo(Array{result}, nullptr, false);
      else
        errorTo(status.uri(), Array{Value(status.message())}, nullptr);
    };
    if (builtins_(s, procedure, args, std::move(reply))) return;
  }
  if (dealer_.hasCallee(procedure)) {
    Dealer::CallOptions call;
    call.request = request;
    call.receiveProgress = flag(options, "receive_progress");
    if (const Value* t = options.find("timeout"); t && t->isInteger() && t->asInt() > 0)
      call.timeoutMs = t->asUInt();
    call.discloseMe = flag(options, "disclose_me");
    call.kwargs = kwargs;
    dealer_.invoke(s, procedure, args, call, resultTo, errorTo);
    return;
  }
  Dealer::Result r = dealer_.call(s, procedure, args);
  if (r.outcome == Dealer::Outcome::Done) return resultTo(Array{r.value}, nullptr, false);
  if (r.outcome == Dealer::Outcome::Failed)
    return errorTo(r.status.uri(), Array{Value(r.status.message())}, nullptr);
  errorTo("wamp.error.no_such_procedure", Array{Value("no procedure \"" + procedure + "\"")},
          nullptr);
}

void Wamp2Protocol::cancel(Session& s, const Array& m) {
  std::string why;
  if (!checkOptions(dictAt(m, 2), {{"mode", Option::String}}, why))
    return abort(s, "wamp.error.protocol_violation", "CANCEL: " + why);
  const std::string mode = text(dictAt(m, 2), "mode", "killnowait");
  if (mode != "skip" && mode != "kill" && mode != "killnowait")
    return abort(s, "wamp.error.protocol_violation",
                 "CANCEL: mode must be skip, kill or killnowait");
  dealer_.cancel(s, idAt(m, 1), mode);
}

void Wamp2Protocol::registerProcedure(Session& s, const Array& m) {
  const std::uint64_t request = idAt(m, 1);
  if (!checkRequestId(s, request)) return;
  const Object& options = dictAt(m, 2);
  std::string why;
  if (!checkOptions(options, {{"match", Option::String}, {"invoke", Option::String}}, why))
    return abort(s, "wamp.error.protocol_violation", "REGISTER: " + why);
  if (text(options, "match", "exact") != "exact")
    return sendError(s, static_cast<int>(Type::Register), request, "wamp.error.option_not_allowed",
                     "pattern-based registrations are not supported");
  const Dealer::Registered r =
      dealer_.registerProcedure(s, stringAt(m, 3), text(options, "invoke", "single"));
  if (!r.status)
    return sendError(s, static_cast<int>(Type::Register), request, r.status.uri(),
                     r.status.message());
  s.sendV2(Array{type(Type::Registered), Value(request), Value(r.id)});
}

void Wamp2Protocol::unregister(Session& s, const Array& m) {
  const std::uint64_t request = idAt(m, 1);
  if (!checkRequestId(s, request)) return;
  if (!dealer_.unregister(s, idAt(m, 2)))
    return sendError(s, static_cast<int>(Type::Unregister), request,
                     "wamp.error.no_such_registration", "");
  s.sendV2(Array{type(Type::Unregistered), Value(request)});
}

void Wamp2Protocol::yield(Session& s, const Array& m) {
  std::string why;
  if (!checkOptions(dictAt(m, 2), {{"progress", Option::Bool}}, why))
    return abort(s, "wamp.error.protocol_violation", "YIELD: " + why);
  dealer_.yield(s, idAt(m, 1), flag(dictAt(m, 2), "progress"), listAt(m, 3), kwargsAt(m, 4));
}

void Wamp2Protocol::error(Session& s, const Array& m) {
  if (m[1].asInt() != static_cast<int>(Type::Invocation))
    return abort(s, "wamp.error.protocol_violation", "a client sends ERROR only for INVOCATION");
  dealer_.calleeError(s, idAt(m, 2), stringAt(m, 4), listAt(m, 5), kwargsAt(m, 6));
}

}  // namespace wampd::core
