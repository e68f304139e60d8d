// The dealer over fake peers and callees: plugin procedures through routes, registrations
// and their invoke policies, invocations and their answers, canceling, timeouts, and
// sessions that leave with calls in flight.
#include "router/dealer.h"

#include <doctest/doctest.h>

#include <asio/io_context.hpp>
#include <chrono>
#include <optional>

#include "common/errors.h"
#include "fake_peer.h"

namespace wampd::core {
namespace {

using testing::FakeCallee;
using testing::FakePeer;
using testing::GenerationBuilder;
using testing::hosted;
using testing::SumProcedure;

/// What reached a call's sinks.
struct Answers {
  std::vector<std::pair<Array, bool>> results;  // args, progress
  std::vector<std::string> errors;              // error URIs
  std::vector<Array> errorArgs;
  Dealer::ResultSink resultSink() {
    return [this](const Array& args, const Object*, bool progress) {
      results.emplace_back(args, progress);
    };
  }
  Dealer::ErrorSink errorSink() {
    return [this](const std::string& uri, const Array& args, const Object*) {
      errors.push_back(uri);
      errorArgs.push_back(args);
    };
  }
};

struct DealerFixture {
  asio::io_context io;
  Dealer dealer{io};
  FakePeer caller{1, FakePeer::user("alice"), 2};
  FakePeer calleeSession{2, {}, 2};
  FakeCallee callee;

  DealerFixture() {
    dealer.setGeneration(GenerationBuilder()
                             .route("sum", "calc/sum", "sum")
                             .route("orphan", "calc/orphan", "not.loaded")
                             .rpc(hosted<SumProcedure>("sum"))
                             .build());
  }
  std::uint64_t registerAs(FakeCallee& who, const std::string& uri,
                           const std::string& invoke = "single") {
    const Dealer::Registered r = dealer.registerProcedure(who, uri, invoke);
    REQUIRE(r.status.isOk());
    return r.id;
  }
  void invoke(Answers& answers, const Dealer::CallOptions& options = {},
              const std::string& uri = "app.echo", const Array& args = Array{Value(1)}) {
    dealer.invoke(caller, uri, args, options, answers.resultSink(), answers.errorSink());
  }
  static Dealer::CallOptions request(std::uint64_t id) {
    Dealer::CallOptions options;
    options.request = id;
    return options;
  }
};

TEST_CASE_FIXTURE(DealerFixture, "a plugin procedure answers through its route") {
  Dealer::Result r = dealer.call(caller, "calc/sum", Array{Value(2), Value(3)});
  CHECK(r.outcome == Dealer::Outcome::Done);
  CHECK(r.value == Value(std::int64_t{5}));

  CHECK(dealer.call(caller, "calc/nothing", Array{}).outcome == Dealer::Outcome::NoRoute);
  CHECK(dealer.call(caller, "calc/orphan", Array{}).outcome == Dealer::Outcome::NoHandler);

  r = dealer.call(caller, "calc/sum", Array{Value("two")});
  CHECK(r.outcome == Dealer::Outcome::Failed);
  CHECK(r.status.uri() == "wamp.error.invalid_argument");
}

TEST_CASE_FIXTURE(DealerFixture, "registrations that cannot be made") {
  FakeCallee other;
  registerAs(callee, "app.echo");
  Dealer::Registered r = dealer.registerProcedure(other, "app.echo", "single");
  CHECK(r.status.uri() == "wamp.error.procedure_already_exists");
  CHECK(r.id == 0);

  r = dealer.registerProcedure(callee, "calc/sum", "single");
  CHECK(r.status.uri() == "wamp.error.procedure_already_exists");
  CHECK_FALSE(dealer.hasCallee("calc/sum"));

  r = dealer.registerProcedure(callee, "app.other", "everyone");
  CHECK(r.status.uri() == "wamp.error.option_not_allowed");
  CHECK_FALSE(dealer.hasCallee("app.other"));
}

TEST_CASE_FIXTURE(DealerFixture, "a route whose handler is not loaded does not block a callee") {
  CHECK(dealer.registerProcedure(callee, "calc/orphan", "single").status.isOk());
}

TEST_CASE_FIXTURE(DealerFixture, "roundrobin takes the callees in turn") {
  FakeCallee second, third;
  const std::uint64_t id = registerAs(callee, "app.echo", "roundrobin");
  CHECK(registerAs(second, "app.echo", "roundrobin") == id);
  CHECK(registerAs(third, "app.echo", "roundrobin") == id);
  // The same callee twice is refused even under a shared policy.
  CHECK(dealer.registerProcedure(second, "app.echo", "roundrobin").status.uri() ==
        "wamp.error.procedure_already_exists");

  Answers answers;
  for (int i = 0; i < 4; ++i) invoke(answers);
  CHECK(callee.invoked.size() == 2);
  CHECK(second.invoked.size() == 1);
  CHECK(third.invoked.size() == 1);
}

TEST_CASE_FIXTURE(DealerFixture, "first and last pick the oldest and the newest callee") {
  FakeCallee second;
  registerAs(callee, "app.first", "first");
  registerAs(second, "app.first", "first");
  registerAs(callee, "app.last", "last");
  registerAs(second, "app.last", "last");

  Answers answers;
  invoke(answers, {}, "app.first");
  invoke(answers, {}, "app.first");
  CHECK(callee.invoked.size() == 2);
  CHECK(second.invoked.empty());
  invoke(answers, {}, "app.last");
  CHECK(second.invoked.size() == 1);
  CHECK(callee.invoked.size() == 2);
}

TEST_CASE_FIXTURE(DealerFixture, "callees of one procedure must share one policy") {
  FakeCallee second;
  registerAs(callee, "app.echo", "roundrobin");
  CHECK(dealer.registerProcedure(second, "app.echo", "first").status.uri() ==
        "wamp.error.procedure_already_exists");
  CHECK(dealer.registerProcedure(second, "app.echo", "single").status.uri() ==
        "wamp.error.procedure_already_exists");
}

TEST_CASE_FIXTURE(DealerFixture, "unregistering the last callee removes the procedure") {
  const std::uint64_t id = registerAs(callee, "app.echo");
  FakeCallee stranger;
  CHECK_FALSE(dealer.unregister(stranger, id));
  CHECK(dealer.unregister(callee, id));
  CHECK_FALSE(dealer.hasCallee("app.echo"));
  CHECK_FALSE(dealer.unregister(callee, id));

  Answers answers;
  invoke(answers);
  CHECK(answers.errors == std::vector<std::string>{"wamp.error.no_such_procedure"});
}

/// A cluster that answers claims when the test says so, and records what it was asked.
struct FakeCluster final : CallPort {
  std::vector<std::pair<std::string, std::function<void(Status)>>> claims;
  std::vector<std::string> released, called;
  std::vector<std::pair<SessionId, std::uint64_t>> canceled;
  std::vector<SessionId> left;
  void claim(const std::string& uri, bool, std::function<void(Status)> done) override {
    claims.emplace_back(uri, std::move(done));
  }
  void release(const std::string& uri) noexcept override { released.push_back(uri); }
  void call(const CallerInfo&, const std::string& uri, const Array&, const CallOptions&, ResultSink,
            ErrorSink) override {
    called.push_back(uri);
  }
  bool cancel(SessionId caller, std::uint64_t request, const std::string&) override {
    canceled.emplace_back(caller, request);
    return true;
  }
  void callerLeft(SessionId caller) noexcept override { left.push_back(caller); }
};

struct ClusterFixture : DealerFixture {
  FakeCluster cluster;
  std::vector<Dealer::Registered> answers;
  ClusterFixture() { dealer.setCluster(&cluster); }
  void registerLater(FakeCallee& who, const std::string& uri,
                     const std::string& invoke = "single") {
    dealer.registerProcedure(who, uri, invoke,
                             [this](const Dealer::Registered& r) { answers.push_back(r); });
  }
};

TEST_CASE_FIXTURE(ClusterFixture, "in a cluster REGISTERED waits for the claim") {
  FakeCallee second;
  registerLater(callee, "app.echo", "roundrobin");
  registerLater(second, "app.echo", "roundrobin");  // joins the claim under way
  REQUIRE(cluster.claims.size() == 1);
  CHECK(answers.empty());
  CHECK_FALSE(dealer.hasCallee("app.echo"));
  Answers calls;
  invoke(calls);  // not served here yet: to the cluster
  CHECK(cluster.called == std::vector<std::string>{"app.echo"});
  CHECK(callee.invoked.empty());

  cluster.claims[0].second(Status());
  REQUIRE(answers.size() == 2);
  CHECK(answers[0].status.isOk());
  CHECK(answers[0].id == answers[1].id);
  CHECK(dealer.hasCallee("app.echo"));
  invoke(calls);
  CHECK(callee.invoked.size() == 1);

  // The last callee gone, the claim goes.
  CHECK(dealer.unregister(callee, answers[0].id));
  CHECK(cluster.released.empty());
  dealer.withdraw(second);
  CHECK(cluster.released == std::vector<std::string>{"app.echo"});
}

TEST_CASE_FIXTURE(ClusterFixture, "a refused claim refuses every callee that waited") {
  registerLater(callee, "app.echo");
  cluster.claims[0].second(Status::error("wamp.error.procedure_already_exists", "on node b"));
  REQUIRE(answers.size() == 1);
  CHECK(answers[0].status.uri() == "wamp.error.procedure_already_exists");
  CHECK_FALSE(dealer.hasCallee("app.echo"));
  // Nothing left behind: the next REGISTER asks the cluster again.
  registerLater(callee, "app.echo");
  CHECK(cluster.claims.size() == 2);
  CHECK(cluster.released.empty());
}

TEST_CASE_FIXTURE(ClusterFixture, "a callee that leaves while its claim is asked releases it") {
  registerLater(callee, "app.echo");
  dealer.withdraw(callee);
  CHECK(cluster.released.empty());  // the claim is not made yet
  cluster.claims[0].second(Status());
  CHECK(answers.empty());  // no one to answer
  CHECK(cluster.released == std::vector<std::string>{"app.echo"});
  CHECK_FALSE(dealer.hasCallee("app.echo"));
}

TEST_CASE_FIXTURE(ClusterFixture,
                  "an older claim that succeeded is released when the newer one is refused") {
  // Callee 1 registers and leaves before Redis answers; callee 2 registers meanwhile.
  FakeCallee second;
  registerLater(callee, "app.echo");
  dealer.withdraw(callee);
  registerLater(second, "app.echo");
  REQUIRE(cluster.claims.size() == 2);
  cluster.claims[0].second(Status());  // Redis holds app.echo for this node now
  CHECK(cluster.released.empty());     // the newer registration may still get it
  cluster.claims[1].second(Status::error(uriOf(Fault::ClusterUnavailable), "connection lost"));
  REQUIRE(answers.size() == 1);
  CHECK_FALSE(answers[0].status.isOk());
  CHECK(cluster.released == std::vector<std::string>{"app.echo"});
}

TEST_CASE_FIXTURE(ClusterFixture,
                  "an older claim that succeeded is released when the newer callee leaves") {
  FakeCallee second;
  registerLater(callee, "app.echo");
  dealer.withdraw(callee);
  registerLater(second, "app.echo");
  cluster.claims[0].second(Status());
  dealer.withdraw(second);
  CHECK(cluster.released == std::vector<std::string>{"app.echo"});
  cluster.claims[1].second(Status::error(uriOf(Fault::ClusterUnavailable), "connection lost"));
  CHECK(answers.empty());
  CHECK(cluster.released.size() == 1);
}

TEST_CASE_FIXTURE(ClusterFixture,
                  "plugin procedures stay on this node; cancels and leaves reach the cluster") {
  CHECK_FALSE(dealer.invokes("calc/sum"));
  CHECK(dealer.invokes("app.elsewhere"));
  dealer.cancel(caller, 5, "kill");
  CHECK(cluster.canceled == std::vector<std::pair<SessionId, std::uint64_t>>{{1, 5}});
  dealer.cancel(SessionId{1}, 6, "kill", true);  // another node's CANCEL: not sent back out
  CHECK(cluster.canceled.size() == 1);
  dealer.disconnect(caller, nullptr);
  CHECK(cluster.left == std::vector<SessionId>{1});
}

TEST_CASE_FIXTURE(DealerFixture, "the callee gets the invocation with its details and payload") {
  const std::uint64_t registration = registerAs(callee, "app.echo");
  Dealer::CallOptions options = request(7);
  options.receiveProgress = true;
  options.discloseMe = true;
  const Object kwargs{{"k", Value("v")}};
  options.kwargs = &kwargs;
  Answers answers;
  invoke(answers, options, "app.echo", Array{Value("a"), Value(2)});

  REQUIRE(callee.invoked.size() == 1);
  const testing::Invoked& inv = callee.invoked[0];
  CHECK(inv.invocation != 0);
  CHECK(inv.registration == registration);
  CHECK(inv.args == Array{Value("a"), Value(2)});
  CHECK(inv.hasKwargs);
  CHECK(inv.kwargs == kwargs);
  REQUIRE(inv.details.find("receive_progress"));
  CHECK(*inv.details.find("receive_progress") == Value(true));
  REQUIRE(inv.details.find("caller"));
  CHECK(*inv.details.find("caller") == Value(std::uint64_t{1}));
  CHECK(*inv.details.find("caller_authid") == Value("alice"));
  CHECK(*inv.details.find("caller_authrole") == Value("user"));
  CHECK(answers.results.empty());
  CHECK(answers.errors.empty());
}

TEST_CASE_FIXTURE(DealerFixture, "a caller that does not disclose itself stays anonymous") {
  registerAs(callee, "app.echo");
  Answers answers;
  invoke(answers, request(1));
  REQUIRE(callee.invoked.size() == 1);
  CHECK(callee.invoked[0].details.empty());
  CHECK_FALSE(callee.invoked[0].hasKwargs);
}

TEST_CASE_FIXTURE(DealerFixture, "a yield reaches the result sink once") {
  registerAs(callee, "app.echo");
  Answers answers;
  invoke(answers, request(1));
  REQUIRE(callee.invoked.size() == 1);
  const std::uint64_t id = callee.invoked[0].invocation;
  const Array result{Value("done")};
  dealer.yield(callee, id, false, &result, nullptr);
  dealer.yield(callee, id, false, &result, nullptr);
  REQUIRE(answers.results.size() == 1);
  CHECK(answers.results[0].first == result);
  CHECK_FALSE(answers.results[0].second);
  CHECK(answers.errors.empty());
  // Answered: a CANCEL now finds nothing to cancel.
  dealer.cancel(caller, 1, "kill");
  CHECK(callee.interrupts.empty());
}

TEST_CASE_FIXTURE(DealerFixture, "progressive yields reach only a caller that asked for them") {
  registerAs(callee, "app.echo");
  Answers wanted, unwanted;
  Dealer::CallOptions options = request(1);
  options.receiveProgress = true;
  invoke(wanted, options);
  invoke(unwanted, request(2));
  REQUIRE(callee.invoked.size() == 2);

  const Array part{Value(1)}, last{Value(2)};
  for (const testing::Invoked& inv : callee.invoked) {
    dealer.yield(callee, inv.invocation, true, &part, nullptr);
    dealer.yield(callee, inv.invocation, true, &part, nullptr);
    dealer.yield(callee, inv.invocation, false, &last, nullptr);
  }
  REQUIRE(wanted.results.size() == 3);
  CHECK(wanted.results[0].second);
  CHECK(wanted.results[1].second);
  CHECK_FALSE(wanted.results[2].second);
  CHECK(wanted.results[2].first == last);
  REQUIRE(unwanted.results.size() == 1);
  CHECK_FALSE(unwanted.results[0].second);
}

TEST_CASE_FIXTURE(DealerFixture, "a callee's error reaches the error sink") {
  registerAs(callee, "app.echo");
  Answers answers;
  invoke(answers, request(1));
  const Array args{Value("why")};
  dealer.calleeError(callee, callee.invoked[0].invocation, "app.error.oops", &args, nullptr);
  CHECK(answers.errors == std::vector<std::string>{"app.error.oops"});
  CHECK(answers.errorArgs[0] == args);
  CHECK(answers.results.empty());
  // Answered: a late yield is dropped.
  dealer.yield(callee, callee.invoked[0].invocation, false, nullptr, nullptr);
  CHECK(answers.results.empty());
}

TEST_CASE_FIXTURE(DealerFixture, "a yield or error from another callee is ignored") {
  FakeCallee impostor;
  registerAs(callee, "app.echo");
  Answers answers;
  invoke(answers, request(1));
  const std::uint64_t id = callee.invoked[0].invocation;
  dealer.yield(impostor, id, false, nullptr, nullptr);
  dealer.calleeError(impostor, id, "app.error.oops", nullptr, nullptr);
  CHECK(answers.results.empty());
  CHECK(answers.errors.empty());
  dealer.yield(callee, id, false, nullptr, nullptr);
  CHECK(answers.results.size() == 1);
}

TEST_CASE_FIXTURE(DealerFixture, "cancel with skip fails the call and leaves the callee alone") {
  registerAs(callee, "app.echo");
  Answers answers;
  invoke(answers, request(5));
  dealer.cancel(caller, 5, "skip");
  CHECK(answers.errors == std::vector<std::string>{"wamp.error.canceled"});
  CHECK(callee.interrupts.empty());
  dealer.yield(callee, callee.invoked[0].invocation, false, nullptr, nullptr);
  CHECK(answers.results.empty());
}

TEST_CASE_FIXTURE(DealerFixture, "cancel with killnowait interrupts and fails the call at once") {
  registerAs(callee, "app.echo");
  Answers answers;
  invoke(answers, request(5));
  dealer.cancel(caller, 5, "killnowait");
  CHECK(answers.errors == std::vector<std::string>{"wamp.error.canceled"});
  REQUIRE(callee.interrupts.size() == 1);
  CHECK(callee.interrupts[0].first == callee.invoked[0].invocation);
  CHECK(callee.interrupts[0].second == "killnowait");
}

TEST_CASE_FIXTURE(DealerFixture, "cancel with kill leaves the answer to the callee") {
  registerAs(callee, "app.echo");
  Answers answers;
  invoke(answers, request(5));
  dealer.cancel(caller, 5, "kill");
  REQUIRE(callee.interrupts.size() == 1);
  CHECK(callee.interrupts[0].second == "kill");
  CHECK(answers.errors.empty());
  dealer.calleeError(callee, callee.invoked[0].invocation, "wamp.error.canceled", nullptr, nullptr);
  CHECK(answers.errors == std::vector<std::string>{"wamp.error.canceled"});
}

TEST_CASE_FIXTURE(DealerFixture, "cancel with kill for a callee without INTERRUPT fails at once") {
  FakeCallee deaf(/*understands=*/false);
  registerAs(deaf, "app.echo");
  Answers answers;
  invoke(answers, request(5));
  dealer.cancel(caller, 5, "kill");
  CHECK(answers.errors == std::vector<std::string>{"wamp.error.canceled"});
  // Never "kill": the callee could not answer it, and the caller would wait for ever.
  for (const auto& i : deaf.interrupts) CHECK(i.second != "kill");
}

TEST_CASE_FIXTURE(DealerFixture, "cancel names the caller's own request only") {
  registerAs(callee, "app.echo");
  Answers answers;
  invoke(answers, request(5));
  FakePeer stranger(9, {}, 2);
  dealer.cancel(stranger, 5, "killnowait");
  dealer.cancel(caller, 6, "killnowait");
  CHECK(answers.errors.empty());
  CHECK(callee.interrupts.empty());
}

TEST_CASE_FIXTURE(DealerFixture, "a call that outlives its timeout fails with wamp.error.timeout") {
  registerAs(callee, "app.echo");
  Answers answers, patient;
  Dealer::CallOptions options = request(1);
  options.timeoutMs = 20;
  invoke(answers, options);
  invoke(patient, request(2));
  io.run_for(std::chrono::milliseconds(200));
  CHECK(answers.errors == std::vector<std::string>{"wamp.error.timeout"});
  REQUIRE(callee.interrupts.size() == 1);
  CHECK(callee.interrupts[0].first == callee.invoked[0].invocation);
  CHECK(patient.errors.empty());
  // Too late.
  dealer.yield(callee, callee.invoked[0].invocation, false, nullptr, nullptr);
  CHECK(answers.results.empty());
}

TEST_CASE_FIXTURE(DealerFixture, "an answer before the timeout stops it") {
  registerAs(callee, "app.echo");
  Answers answers;
  Dealer::CallOptions options = request(1);
  options.timeoutMs = 20;
  invoke(answers, options);
  dealer.yield(callee, callee.invoked[0].invocation, false, nullptr, nullptr);
  io.run_for(std::chrono::milliseconds(100));
  CHECK(answers.results.size() == 1);
  CHECK(answers.errors.empty());
}

TEST_CASE_FIXTURE(DealerFixture,
                  "a callee that leaves fails its calls and loses its registrations") {
  FakeCallee stays;
  registerAs(callee, "app.echo", "roundrobin");
  registerAs(stays, "app.echo", "roundrobin");
  registerAs(callee, "app.alone");
  Answers first, second;
  invoke(first, request(1));   // to `callee`
  invoke(second, request(2));  // to `stays`
  REQUIRE(callee.invoked.size() == 1);
  REQUIRE(stays.invoked.size() == 1);

  dealer.disconnect(calleeSession, &callee);
  CHECK(first.errors == std::vector<std::string>{"wamp.error.canceled"});
  CHECK(second.errors.empty());
  CHECK_FALSE(dealer.hasCallee("app.alone"));
  CHECK(dealer.hasCallee("app.echo"));

  Answers third;
  invoke(third, request(3));
  CHECK(stays.invoked.size() == 2);
  CHECK(callee.invoked.size() == 1);
}

TEST_CASE_FIXTURE(DealerFixture, "a caller that leaves has its calls interrupted, unanswered") {
  registerAs(callee, "app.echo");
  Answers answers;
  invoke(answers, request(1));
  dealer.disconnect(caller, nullptr);
  REQUIRE(callee.interrupts.size() == 1);
  CHECK(callee.interrupts[0].first == callee.invoked[0].invocation);
  dealer.yield(callee, callee.invoked[0].invocation, false, nullptr, nullptr);
  CHECK(answers.results.empty());
  CHECK(answers.errors.empty());
  CHECK(dealer.hasCallee("app.echo"));
}

}  // namespace
}  // namespace wampd::core
