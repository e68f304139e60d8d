#include "router/dealer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/errors.h"

namespace wampd::core {
namespace {

bool sharedPolicy(const std::string& invoke) {
  return invoke == "roundrobin" || invoke == "random" || invoke == "first" || invoke == "last";
}

}  // namespace

Dealer::Result Dealer::call(Peer& session, const std::string& uri, const Array& args) {
  Result result;
  Request request;
  const Route* route = generation_->router.match(uri, request);
  if (!route) {
    result.outcome = Outcome::NoRoute;
    ++counters_.noSuchProcedure;
    return result;
  }
  const RpcHandlerEntry* entry = generation_->plugins.rpcHandler(route->callback());
  if (!entry) {
    spdlog::warn("procedure {}: route '{}' names RPC handler '{}', which is not loaded", uri,
                 route->name(), route->callback());
    result.outcome = Outcome::NoHandler;
    ++counters_.noSuchProcedure;
    return result;
  }
  // The generation (and so the handler) stays alive for the call even if a reload swaps it.
  std::shared_ptr<const Generation> pinned = generation_;
  result.status = entry->handler->hostCall(session, request, args, result.value);
  if (!result.status) result.outcome = Outcome::Failed;
  ++(result.status ? counters_.results : counters_.errors);
  return result;
}

Status Dealer::refusal(Callee& callee, const std::string& uri, const std::string& invoke) const {
  if (invoke != "single" && !sharedPolicy(invoke))
    return Status::error(uriOf(Fault::OptionNotAllowed),
                         "invoke policy '" + invoke + "' is not supported");
  Request ignored;
  if (const Route* route = generation_->router.match(uri, ignored);
      route && generation_->plugins.rpcHandler(route->callback()))
    return Status::error(
        uriOf(Fault::ProcedureAlreadyExists),
        "\"" + uri + "\" is served by the server's RPC handler '" + route->callback() + "'");
  auto it = registrations_.find(uri);
  if (it == registrations_.end()) return Status();
  const Registration& r = it->second;
  if (r.invoke != invoke || invoke == "single")
    return Status::error(
        uriOf(Fault::ProcedureAlreadyExists),
        "\"" + uri + "\" is already registered with invoke policy '" + r.invoke + "'");
  const bool waits = std::any_of(r.waiting.begin(), r.waiting.end(),
                                 [&](const auto& w) { return w.first == &callee; });
  if (waits || std::find(r.callees.begin(), r.callees.end(), &callee) != r.callees.end())
    return Status::error(uriOf(Fault::ProcedureAlreadyExists),
                         "this session already registered \"" + uri + "\"");
  return Status();
}

Dealer::Registered Dealer::registerProcedure(Callee& callee, const std::string& uri,
                                             const std::string& invoke) {
  if (Status why = refusal(callee, uri, invoke); !why) return {why, 0};
  auto [it, created] = registrations_.try_emplace(uri);
  Registration& r = it->second;
  if (created) {
    r.id = newId();
    r.uri = uri;
    r.invoke = invoke;
    registrationsById_[r.id] = &r;
  }
  r.callees.push_back(&callee);
  return {Status(), r.id};
}

void Dealer::registerProcedure(Callee& callee, const std::string& uri, const std::string& invoke,
                               std::function<void(const Registered&)> done) {
  if (!cluster_) return done(registerProcedure(callee, uri, invoke));
  if (Status why = refusal(callee, uri, invoke); !why) return done({why, 0});
  auto [it, created] = registrations_.try_emplace(uri);
  Registration& r = it->second;
  if (!created && r.claimed) {
    r.callees.push_back(&callee);
    return done({Status(), r.id});
  }
  r.waiting.emplace_back(&callee, std::move(done));
  if (!created) return;  // joins the claim under way
  r.id = newId();
  r.uri = uri;
  r.invoke = invoke;
  r.claimed = false;
  registrationsById_[r.id] = &r;
  cluster_->claim(uri, invoke != "single",
                  [this, uri, id = r.id](const Status& status) { claimed(uri, id, status); });
}

void Dealer::claimed(const std::string& uri, std::uint64_t registrationId, const Status& status) {
  auto it = registrations_.find(uri);
  if (it == registrations_.end() || it->second.id != registrationId) {
    // Its callees left while the cluster was asked: the claim is no one's, unless a newer
    // registration of the URI is being claimed meanwhile (then the claim is that one's).
    if (status && it == registrations_.end()) cluster_->release(uri);
    if (status && it != registrations_.end()) it->second.heldClaim = true;
    return;
  }
  Registration& r = it->second;
  auto waiting = std::move(r.waiting);
  r.waiting.clear();
  if (!status) {
    const bool held = r.heldClaim;
    registrationsById_.erase(r.id);
    registrations_.erase(it);
    // Otherwise the cluster keeps the older claim and refreshes it with no callee behind it.
    if (held) cluster_->release(uri);
    for (auto& [callee, done] : waiting) done({status, 0});
    return;
  }
  r.claimed = true;
  const std::uint64_t id = r.id;
  for (auto& [callee, done] : waiting) r.callees.push_back(callee);
  for (auto& [callee, done] : waiting) done({Status(), id});
}

bool Dealer::hasCallee(const std::string& uri) const {
  auto it = registrations_.find(uri);
  return it != registrations_.end() && it->second.claimed;
}

bool Dealer::invokes(const std::string& uri) const {
  if (hasCallee(uri)) return true;
  if (!cluster_) return false;
  Request ignored;
  const Route* route = generation_->router.match(uri, ignored);
  return !(route && generation_->plugins.rpcHandler(route->callback()));
}

void Dealer::erase(std::map<std::string, Registration>::iterator it) {
  Registration& r = it->second;
  if (!r.callees.empty() || !r.waiting.empty()) return;
  const bool wasClaimed = r.claimed || r.heldClaim;
  const std::string uri = r.uri;
  registrationsById_.erase(r.id);
  registrations_.erase(it);
  // A claim still under way is released when its answer comes (Dealer::claimed); an older
  // claim that succeeded meanwhile (heldClaim) is released now.
  if (cluster_ && wasClaimed) cluster_->release(uri);
}

bool Dealer::unregister(Callee& callee, std::uint64_t registrationId) {
  auto it = registrationsById_.find(registrationId);
  if (it == registrationsById_.end()) return false;
  Registration& r = *it->second;
  auto pos = std::find(r.callees.begin(), r.callees.end(), &callee);
  if (pos == r.callees.end()) return false;
  r.callees.erase(pos);
  erase(registrations_.find(r.uri));
  return true;
}

Callee* Dealer::pickCallee(Registration& r) {
  if (r.callees.empty()) return nullptr;
  if (r.invoke == "last") return r.callees.back();
  if (r.invoke == "random") return r.callees[random_() % r.callees.size()];
  if (r.invoke == "roundrobin") return r.callees[r.next++ % r.callees.size()];
  return r.callees.front();  // single, first
}

void Dealer::invoke(Peer& caller, const std::string& uri, const Array& args,
                    const CallOptions& options, ResultSink onResult, ErrorSink onError) {
  CallerInfo who{caller.sessionId(), options.discloseMe ? caller.authid() : std::string(),
                 options.discloseMe ? caller.authrole() : std::string()};
  if (cluster_ && !hasCallee(uri))
    return cluster_->call(who, uri, args, options, std::move(onResult), std::move(onError));
  invokeLocal(who, uri, args, options, std::move(onResult), std::move(onError));
}

void Dealer::invokeLocal(const CallerInfo& caller, const std::string& uri, const Array& args,
                         const CallOptions& options, ResultSink onResult, ErrorSink onError) {
  auto it = registrations_.find(uri);
  Callee* callee =
      it == registrations_.end() || !it->second.claimed ? nullptr : pickCallee(it->second);
  if (!callee) {
    ++counters_.noSuchProcedure;
    onError(uriOf(Fault::NoSuchProcedure), Array{Value("no callee for \"" + uri + "\"")}, nullptr);
    return;
  }
  auto invocation = std::make_unique<Invocation>();
  Invocation& inv = *invocation;
  inv.id = newId();
  inv.callee = callee;
  inv.caller = caller.session;
  inv.request = options.request;
  inv.progress = options.receiveProgress;
  inv.onResult = std::move(onResult);
  inv.onError = std::move(onError);

  Object details;
  if (options.receiveProgress) details.set("receive_progress", Value(true));
  if (options.discloseMe) {
    details.set("caller", Value(caller.session));
    details.set("caller_authid", Value(caller.authid));
    details.set("caller_authrole", Value(caller.authrole));
  }
  const std::uint64_t registration = it->second.id;

  if (options.timeoutMs > 0) {
    inv.timer = std::make_unique<asio::steady_timer>(io_);
    inv.timer->expires_after(std::chrono::milliseconds(options.timeoutMs));
    inv.timer->async_wait([this, id = inv.id](const asio::error_code& ec) {
      if (ec) return;
      auto found = invocations_.find(id);
      if (found == invocations_.end()) return;
      interrupt(*found->second, "killnowait");
      fail(id, uriOf(Fault::Timeout), "the call timed out");
    });
  }
  if (options.request != 0) invocationOfCall_[{inv.caller, inv.request}] = inv.id;
  invocations_.emplace(inv.id, std::move(invocation));
  callee->invoke(inv.id, registration, std::move(details), args, options.kwargs);
}

void Dealer::yield(Callee& callee, std::uint64_t invocation, bool progress, const Array* args,
                   const Object* kwargs) {
  auto it = invocations_.find(invocation);
  if (it == invocations_.end() || it->second->callee != &callee) return;  // canceled, timed out
  Invocation& inv = *it->second;
  const Array empty;
  if (progress) {
    if (inv.progress) inv.onResult(args ? *args : empty, kwargs, true);
    return;
  }
  ResultSink sink = std::move(inv.onResult);
  invocationOfCall_.erase({inv.caller, inv.request});
  invocations_.erase(it);
  ++counters_.results;
  sink(args ? *args : empty, kwargs, false);
}

void Dealer::calleeError(Callee& callee, std::uint64_t invocation, const std::string& uri,
                         const Array* args, const Object* kwargs) {
  auto it = invocations_.find(invocation);
  if (it == invocations_.end() || it->second->callee != &callee) return;
  ErrorSink sink = std::move(it->second->onError);
  invocationOfCall_.erase({it->second->caller, it->second->request});
  invocations_.erase(it);
  ++counters_.errors;
  sink(uri, args ? *args : Array{}, kwargs);
}

void Dealer::interrupt(Invocation& inv, const char* mode) {
  // A callee that did not announce call canceling gets "skip": no INTERRUPT (some clients
  // take one as a protocol violation); Callee::interrupt sees to that.
  inv.callee->interrupt(inv.id, mode);
}

void Dealer::fail(std::uint64_t invocation, const std::string& uri, const std::string& message) {
  auto it = invocations_.find(invocation);
  if (it == invocations_.end()) return;
  ErrorSink sink = std::move(it->second->onError);
  invocationOfCall_.erase({it->second->caller, it->second->request});
  invocations_.erase(it);
  ++(uri == uriOf(Fault::Timeout) ? counters_.timeouts : counters_.canceled);
  sink(uri, Array{Value(message)}, nullptr);
}

void Dealer::cancel(Peer& caller, std::uint64_t request, const std::string& mode) {
  cancel(caller.sessionId(), request, mode);
}

void Dealer::cancel(SessionId caller, std::uint64_t request, const std::string& mode, bool remote) {
  auto call = invocationOfCall_.find({caller, request});
  if (call == invocationOfCall_.end()) {
    if (cluster_ && !remote) cluster_->cancel(caller, request, mode);
    return;  // already answered
  }
  const std::uint64_t id = call->second;
  Invocation& inv = *invocations_.at(id);
  if (mode == "kill" && inv.callee->understandsInterrupt()) {
    interrupt(inv, "kill");  // the callee's ERROR or RESULT answers the caller
    return;
  }
  if (mode != "skip") interrupt(inv, "killnowait");
  fail(id, uriOf(Fault::Canceled), "the call was canceled");
}

void Dealer::disconnect(Peer& session, Callee* callee) {
  if (callee) withdraw(*callee);
  if (cluster_) cluster_->callerLeft(session.sessionId());
  std::vector<std::uint64_t> made;
  for (const auto& [id, inv] : invocations_)
    if (inv->caller == session.sessionId()) made.push_back(id);
  for (std::uint64_t id : made) {
    auto it = invocations_.find(id);
    if (it == invocations_.end()) continue;
    interrupt(*it->second, "killnowait");
    invocationOfCall_.erase({it->second->caller, it->second->request});
    invocations_.erase(it);
  }
}

void Dealer::withdraw(Callee& callee) {
  for (auto it = registrations_.begin(); it != registrations_.end();) {
    auto& callees = it->second.callees;
    callees.erase(std::remove(callees.begin(), callees.end(), &callee), callees.end());
    auto& waiting = it->second.waiting;
    waiting.erase(std::remove_if(waiting.begin(), waiting.end(),
                                 [&](const auto& w) { return w.first == &callee; }),
                  waiting.end());
    erase(it++);
  }
  std::vector<std::uint64_t> served;
  for (const auto& [id, inv] : invocations_)
    if (inv->callee == &callee) served.push_back(id);
  for (std::uint64_t id : served)
    fail(id, uriOf(Fault::Canceled), "callee disconnected from in-flight request");
}

}  // namespace wampd::core
