#include "session/wamp2_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <ctime>

#include "auth/authenticator.h"
#include "common/errors.h"
#include "common/log_fields.h"
#include "transport/transport.h"

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

void Wamp2Session::onMessage(std::string_view payload, bool binary) {
  if (closing()) return;
  Array m;
  std::string why;
  if (binary != (serializer_ == wamp2::Serializer::MsgPack))
    return abort(Fault::ProtocolViolation, binary ? "binary frame on a wamp.2.json session"
                                                  : "text frame on a wamp.2.msgpack session");
  if (!wamp2::decode(payload, serializer_, m, why) || !wamp2::validateFromClient(m, why))
    return abort(Fault::ProtocolViolation, why);

  const auto t = static_cast<Type>(wamp2::typeOf(m));
  if (phase_ == Phase::AwaitingHello) {
    if (t == Type::Hello) return hello(m);
    if (t == Type::Abort) return abort(Fault::SessionEnded, "");
    return abort(Fault::ProtocolViolation, std::string(wamp2::typeName(static_cast<int>(t))) +
                                               " before the session was established");
  }
  if (phase_ == Phase::Challenged) {
    if (t == Type::Authenticate) return authenticate(m);
    if (t == Type::Abort) return abort(Fault::SessionEnded, "");
    return abort(Fault::ProtocolViolation, std::string(wamp2::typeName(static_cast<int>(t))) +
                                               " while authentication is pending");
  }
  switch (t) {
    case Type::Hello:
      return abort(Fault::ProtocolViolation, "HELLO on an established session");
    case Type::Authenticate:
      return abort(Fault::ProtocolViolation, "AUTHENTICATE without a CHALLENGE");
    case Type::Goodbye:
      return goodbye();
    case Type::Abort:
      return abort(Fault::SessionEnded, "");
    case Type::Publish:
      return publish(m);
    case Type::Subscribe:
      return subscribe(m);
    case Type::Unsubscribe:
      return unsubscribe(m);
    case Type::Call:
      return call(m);
    case Type::Cancel:
      return cancel(m);
    case Type::Register:
      return registerProcedure(m);
    case Type::Unregister:
      return unregister(m);
    case Type::Yield:
      return yield(m);
    case Type::Error:
      return error(m);
    default:
      return abort(Fault::ProtocolViolation, "unexpected message");
  }
}

void Wamp2Session::abort(Fault fault, const std::string& message) {
  if (closing()) return;
  if (fault == Fault::ProtocolViolation)
    spdlog::info("session {} ({}): protocol violation: {}", idText(), remoteAddress(), message);
  Object details;
  if (!message.empty()) details.set("message", Value(message));
  send(Array{type(Type::Abort), Value(std::move(details)), Value(uriOf(fault))});
  phase_ = Phase::Closed;
  closeWith(describe(fault).closeCode != 0 ? fault : Fault::SessionEnded);
}

void Wamp2Session::hello(const Array& m) {
  const std::string realm = stringAt(m, 1);
  const auto& realms = services_.host.realms();
  if (std::find(realms.begin(), realms.end(), realm) == realms.end())
    return abort(Fault::NoSuchRealm, "no realm \"" + realm + "\" on this server");
  realm_ = realm;
  const Object& details = dictAt(m, 2);
  auto feature = [&details](const char* role, const char* name) {
    const Value* roles = details.find("roles");
    const Value* r = roles ? roles->find(role) : nullptr;
    const Value* features = r ? r->find("features") : nullptr;
    const Value* f = features ? features->find(name) : nullptr;
    return f && f->asBool();
  };
  revocationSupported_ = feature("subscriber", "subscription_revocation");
  calleeCanceling_ = feature("callee", "call_canceling");
  // A ticket in the upgrade URL already authenticated the session.
  if (!identity().anonymous) return welcome("ticket");
  bool ticketOffered = false;
  if (const Value* methods = details.find("authmethods"); methods && methods->array())
    for (const Value& method : *methods->array())
      ticketOffered = ticketOffered || method.asString() == "ticket";
  if (!ticketOffered && mustAuthenticate_)
    return abort(Fault::NotAuthorized,
                 "anonymous sessions are not allowed: authenticate with authmethod \"ticket\"");
  if (ticketOffered) {
    pendingAuthid_ = text(details, "authid");
    phase_ = Phase::Challenged;
    send(Array{type(Type::Challenge), Value("ticket"), Value(Object{})});
    return;
  }
  welcome("anonymous");
}

void Wamp2Session::authenticate(const Array& m) {
  auth::Decision decision;
  decision.identity = identity();  // keeps the backend proof of the handshake
  const std::string ticket = stringAt(m, 1);
  if (!services_.host.authenticator().authenticateTicket(ticket, std::time(nullptr), decision)) {
    spdlog::warn("session {} ({}): ticket authentication failed: {}", idText(), remoteAddress(),
                 decision.reason);
    return abort(Fault::AuthenticationFailed, decision.reason);
  }
  if (!pendingAuthid_.empty() && !decision.identity.anonymous &&
      decision.identity.username != pendingAuthid_)
    return abort(Fault::AuthenticationFailed,
                 "the ticket is not for authid \"" + pendingAuthid_ + "\"");
  setIdentity(std::move(decision.identity));
  welcome("ticket");
}

void Wamp2Session::welcome(const std::string& authmethod) {
  phase_ = Phase::Established;
  Object details{{"realm", Value(realm_)},         {"authid", Value(authid())},
                 {"authrole", Value(authrole())},  {"authmethod", Value(authmethod)},
                 {"authprovider", Value("wampd")}, {"roles", Value(roleFeatures())}};
  send(Array{type(Type::Welcome), Value(sessionId()), Value(std::move(details))});
}

void Wamp2Session::goodbye() {
  send(Array{type(Type::Goodbye), Value(Object{}), Value(uriOf(Fault::SessionEnded))});
  phase_ = Phase::Closed;
  closeWith(Fault::SessionEnded);
}

bool Wamp2Session::checkRequestId(std::uint64_t id) {
  if (id > lastRequestId_ && id - lastRequestId_ <= kMaxRequestIdStep) {
    lastRequestId_ = id;
    return true;
  }
  abort(Fault::ProtocolViolation,
        "request id " + std::to_string(id) + " does not follow " + std::to_string(lastRequestId_));
  return false;
}

void Wamp2Session::sendError(int requestType, std::uint64_t request, Fault fault,
                             const std::string& message) {
  sendError(requestType, request, std::string(describe(fault).uri), message);
}

void Wamp2Session::sendError(int requestType, std::uint64_t request, const std::string& uri,
                             const std::string& message) {
  Array m{type(Type::Error), Value(requestType), Value(request), Value(Object{}), Value(uri)};
  if (!message.empty()) m.push_back(Value(Array{Value(message)}));
  send(m);
}

void Wamp2Session::publish(const Array& m) {
  const std::uint64_t request = idAt(m, 1);
  if (!checkRequestId(request)) return;
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
    return abort(Fault::ProtocolViolation, "PUBLISH: " + why);
  const std::string topic = stringAt(m, 3);
  const LogFields about{LogFields::text("topic", topic)};
  const Array* args = listAt(m, 4);
  const Object* kwargs = kwargsAt(m, 5);
  const bool acknowledge = flag(options, "acknowledge");

  SessionIds exclude = ids(options, "exclude");
  if (flag(options, "exclude_me", true)) exclude.push_back(sessionId());
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
  const Broker::Result r = services_.broker.publish(*this, topic, event, exclude, eligible, &extra);
  constexpr int kPublish = static_cast<int>(Type::Publish);
  switch (r.outcome) {
    case Broker::Outcome::Done:
      if (acknowledge) send(Array{type(Type::Published), Value(request), Value(r.id)});
      return;
    case Broker::Outcome::NoRoute:
      if (acknowledge)
        sendError(kPublish, request, Fault::InvalidUri, "no route matches \"" + topic + "\"");
      return;
    case Broker::Outcome::NoHandler:
      if (acknowledge)
        sendError(kPublish, request, Fault::NoSuchSubscription,
                  "the topic's handler is not loaded");
      return;
    default:
      if (acknowledge) sendError(kPublish, request, r.status.uri(), r.status.message());
      return;
  }
}

void Wamp2Session::subscribe(const Array& m) {
  const std::uint64_t request = idAt(m, 1);
  if (!checkRequestId(request)) return;
  std::string why;
  if (!checkOptions(dictAt(m, 2), {{"match", Option::String}}, why))
    return abort(Fault::ProtocolViolation, "SUBSCRIBE: " + why);
  const std::string match = text(dictAt(m, 2), "match", "exact");
  const std::string topic = stringAt(m, 3);
  const LogFields about{LogFields::text("topic", topic)};
  constexpr int kSubscribe = static_cast<int>(Type::Subscribe);
  if (match != "exact" && match != "prefix" && match != "wildcard")
    return sendError(kSubscribe, request, Fault::OptionNotAllowed,
                     "match policy \"" + match + "\" is not supported");
  const Broker::Result r = match == "exact"
                               ? services_.broker.subscribe(*this, topic)
                               : services_.broker.subscribePattern(*this, match, topic);
  switch (r.outcome) {
    case Broker::Outcome::Done:
    case Broker::Outcome::Duplicate:
      if (ClusterPort* cluster = services_.broker.cluster()) {
        // SUBSCRIBED once this node receives the topic (or pattern) from the other nodes: a
        // publication elsewhere right after it is not missed.
        unconfirmed_.push_back(r.id);
        SessionHost* host = &services_.host;
        auto confirm = [host, id = sessionId(), request, subscription = r.id] {
          auto* self = static_cast<Wamp2Session*>(host->findSession(id));
          if (!self) return;
          auto& pending = self->unconfirmed_;
          auto it = std::find(pending.begin(), pending.end(), subscription);
          if (it == pending.end()) return;
          pending.erase(it);
          if (!self->closing())
            self->send(Array{type(Type::Subscribed), Value(request), Value(subscription)});
        };
        if (match == "exact")
          cluster->whenReceiving(topic, std::move(confirm));
        else
          cluster->whenReceivingPattern(match, topic, std::move(confirm));
        return;
      }
      return send(Array{type(Type::Subscribed), Value(request), Value(r.id)});
    case Broker::Outcome::NoRoute:
      return sendError(kSubscribe, request, Fault::InvalidUri,
                       "no route matches \"" + topic + "\"");
    case Broker::Outcome::NoHandler:
      return sendError(kSubscribe, request, Fault::NoSuchSubscription,
                       "the topic's handler is not loaded");
    case Broker::Outcome::LimitReached:
      return abort(Fault::ProtocolViolation, "too many subscriptions");
    default:
      return sendError(kSubscribe, request, r.status.uri(), r.status.message());
  }
}

void Wamp2Session::unsubscribe(const Array& m) {
  const std::uint64_t request = idAt(m, 1);
  if (!checkRequestId(request)) return;
  const Broker::Result r = services_.broker.unsubscribeById(*this, idAt(m, 2));
  if (r.outcome == Broker::Outcome::NotSubscribed)
    return sendError(static_cast<int>(Type::Unsubscribe), request, Fault::NoSuchSubscription, "");
  send(Array{type(Type::Unsubscribed), Value(request)});
}

void Wamp2Session::subscriptionRevoked(const std::string&, std::uint64_t subscriptionId,
                                       const Status& why) noexcept {
  if (closing() || !revocationSupported_) return;
  send(Array{
      type(Type::Unsubscribed), Value(0),
      Value(Object{{"subscription", Value(subscriptionId)}, {"reason", Value(why.message())}})});
}

void Wamp2Session::call(const Array& m) {
  const std::uint64_t request = idAt(m, 1);
  if (!checkRequestId(request)) return;
  const Object& options = dictAt(m, 2);
  std::string why;
  if (!checkOptions(options,
                    {{"receive_progress", Option::Bool},
                     {"timeout", Option::Int},
                     {"disclose_me", Option::Bool}},
                    why))
    return abort(Fault::ProtocolViolation, "CALL: " + why);
  const std::string procedure = stringAt(m, 3);
  const Array empty;
  const Array& args = listAt(m, 4) ? *listAt(m, 4) : empty;
  const Object* kwargs = kwargsAt(m, 5);
  constexpr int kCall = static_cast<int>(Type::Call);

  // Answers may come after this session left: they find the session again by id.
  auto resultTo = [host = &services_.host, id = sessionId(), request](
                      const Array& a, const Object* kw, bool progress) {
    auto* live = static_cast<Wamp2Session*>(host->findSession(id));
    if (!live || live->closing()) return;
    Object details;
    if (progress) details.set("progress", Value(true));
    Array reply{type(Type::Result), Value(request), Value(std::move(details)), Value(a)};
    if (kw) reply.push_back(Value(*kw));
    live->send(reply);
  };
  auto errorTo = [host = &services_.host, id = sessionId(), request](
                     const std::string& uri, const Array& a, const Object* kw) {
    auto* live = static_cast<Wamp2Session*>(host->findSession(id));
    if (!live || live->closing()) return;
    Array reply{type(Type::Error), Value(kCall), Value(request),
                Value(Object{}),   Value(uri),   Value(a)};
    if (kw) reply.push_back(Value(*kw));
    live->send(reply);
  };

  auto reply = [resultTo, errorTo](const Status& status, const Value& result) {
    if (status)
      resultTo(Array{result}, nullptr, false);
    else
      errorTo(status.uri(), Array{Value(status.message())}, nullptr);
  };
  if (services_.host.builtin(*this, procedure, args, std::move(reply))) return;
  if (services_.dealer.invokes(procedure)) {
    Dealer::CallOptions call;
    call.request = request;
    call.receiveProgress = flag(options, "receive_progress");
    if (const Value* t = options.find("timeout"); t && t->isInteger() && t->asInt() > 0)
      call.timeoutMs = t->asUInt();
    call.discloseMe = flag(options, "disclose_me");
    call.kwargs = kwargs;
    services_.dealer.invoke(*this, procedure, args, call, resultTo, errorTo);
    return;
  }
  Dealer::Result r = services_.dealer.call(*this, procedure, args);
  if (r.outcome == Dealer::Outcome::Done) return resultTo(Array{r.value}, nullptr, false);
  if (r.outcome == Dealer::Outcome::Failed)
    return errorTo(r.status.uri(), Array{Value(r.status.message())}, nullptr);
  errorTo(uriOf(Fault::NoSuchProcedure), Array{Value("no procedure \"" + procedure + "\"")},
          nullptr);
}

void Wamp2Session::cancel(const Array& m) {
  std::string why;
  if (!checkOptions(dictAt(m, 2), {{"mode", Option::String}}, why))
    return abort(Fault::ProtocolViolation, "CANCEL: " + why);
  const std::string mode = text(dictAt(m, 2), "mode", "killnowait");
  if (mode != "skip" && mode != "kill" && mode != "killnowait")
    return abort(Fault::ProtocolViolation, "CANCEL: mode must be skip, kill or killnowait");
  services_.dealer.cancel(*this, idAt(m, 1), mode);
}

void Wamp2Session::registerProcedure(const Array& m) {
  const std::uint64_t request = idAt(m, 1);
  if (!checkRequestId(request)) return;
  const Object& options = dictAt(m, 2);
  std::string why;
  if (!checkOptions(options, {{"match", Option::String}, {"invoke", Option::String}}, why))
    return abort(Fault::ProtocolViolation, "REGISTER: " + why);
  if (text(options, "match", "exact") != "exact")
    return sendError(static_cast<int>(Type::Register), request, Fault::OptionNotAllowed,
                     "pattern-based registrations are not supported");
  // In cluster mode the answer comes once Redis agreed: the session may have left by then.
  services_.dealer.registerProcedure(
      *this, stringAt(m, 3), text(options, "invoke", "single"),
      [host = &services_.host, id = sessionId(), request](const Dealer::Registered& r) {
        auto* live = static_cast<Wamp2Session*>(host->findSession(id));
        if (!live || live->closing()) return;
        if (!r.status)
          return live->sendError(static_cast<int>(Type::Register), request, r.status.uri(),
                                 r.status.message());
        live->send(Array{type(Type::Registered), Value(request), Value(r.id)});
      });
}

void Wamp2Session::unregister(const Array& m) {
  const std::uint64_t request = idAt(m, 1);
  if (!checkRequestId(request)) return;
  if (!services_.dealer.unregister(*this, idAt(m, 2)))
    return sendError(static_cast<int>(Type::Unregister), request, Fault::NoSuchRegistration, "");
  send(Array{type(Type::Unregistered), Value(request)});
}

void Wamp2Session::yield(const Array& m) {
  std::string why;
  if (!checkOptions(dictAt(m, 2), {{"progress", Option::Bool}}, why))
    return abort(Fault::ProtocolViolation, "YIELD: " + why);
  services_.dealer.yield(*this, idAt(m, 1), flag(dictAt(m, 2), "progress"), listAt(m, 3),
                         kwargsAt(m, 4));
}

void Wamp2Session::error(const Array& m) {
  if (m[1].asInt() != static_cast<int>(Type::Invocation))
    return abort(Fault::ProtocolViolation, "a client sends ERROR only for INVOCATION");
  services_.dealer.calleeError(*this, idAt(m, 2), stringAt(m, 4), listAt(m, 5), kwargsAt(m, 6));
}

void Wamp2Session::send(const Array& message) {
  std::string bytes = wamp2::encode(message, serializer_);
  if (serializer_ == wamp2::Serializer::Json)
    link().sendText(std::move(bytes));
  else
    link().sendBinary(std::move(bytes));
}

bool Wamp2Session::deliver(Event& event) noexcept {
  if (!unconfirmed_.empty() &&
      std::find(unconfirmed_.begin(), unconfirmed_.end(), event.subscription) != unconfirmed_.end())
    return true;
  SharedFramePtr& frame = event.frame(frameSlot());
  if (!frame) {
    Object details;
    if (event.viaPattern) details.set("topic", Value(std::string(event.topic)));
    if (event.publisher) {
      details.set("publisher", Value(event.publisher->sessionId()));
      details.set("publisher_authid", Value(event.publisherAuthid));
      details.set("publisher_authrole", Value(event.publisherAuthrole));
    }
    Array message{type(Type::Event), Value(event.subscription), Value(event.publication),
                  Value(std::move(details))};
    if (event.args) {
      message.push_back(Value(*event.args));
      if (event.kwargs) message.push_back(Value(*event.kwargs));
    } else {
      message.push_back(Value(Array{event.payload}));
    }
    try {
      std::string bytes = wamp2::encode(message, serializer_);
      frame = serializer_ == wamp2::Serializer::Json ? Transport::prepareText(bytes)
                                                     : Transport::prepareBinary(bytes);
    } catch (const std::exception& e) {
      spdlog::error("topic {}: cannot encode a WAMP v2 event: {}", event.topic, e.what());
      return false;
    }
  }
  link().send(frame);
  return true;
}

void Wamp2Session::invoke(std::uint64_t invocation, std::uint64_t registration, Object details,
                          const Array& args, const Object* kwargs) noexcept {
  Array message{type(Type::Invocation), Value(invocation), Value(registration),
                Value(std::move(details)), Value(args)};
  if (kwargs) message.push_back(Value(*kwargs));
  send(message);
}

void Wamp2Session::interrupt(std::uint64_t invocation, const char* mode) noexcept {
  if (closing() || !calleeCanceling_) return;
  send(Array{type(Type::Interrupt), Value(invocation), Value(Object{{"mode", Value(mode)}})});
}

void Wamp2Session::shutdown() noexcept {
  // No GOODBYE: autobahn-js and wampy take a router's GOODBYE, whatever its reason, as the end
  // and stop auto-reconnecting; a transport that closes without one brings them back, as it
  // does python3-autobahn's Component.
  if (!closing()) closeWith(Fault::ServerShutdown);
}

}  // namespace wampd::core
