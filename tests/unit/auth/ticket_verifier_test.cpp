// The ticket verifier pool on real threads: verdicts, the queue bound, the per-address limit
// and stopping with work pending. Also built with ThreadSanitizer (WAMPD_TSAN).
#include "auth/ticket_verifier.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "auth/ticket.h"

using namespace wampd::core::auth;
using namespace std::chrono_literals;

namespace {

const std::string kSecret = "ThisIsTheKernelSecret";

DigestCheck check(bool valid, const std::string& nonce = "bm9uY2U=") {
  DigestCheck c{nonce, "2024-01-02T03:04:05+00:00", "stored-hash", kSecret, {}};
  c.expected = ticketDigest(c.nonce, c.created, c.password, c.secret);
  if (!valid) c.expected[0] = c.expected[0] == 'A' ? 'B' : 'A';
  return c;
}

// Collects verdicts from verifier threads.
struct Verdicts {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Verdict> got;

  TicketVerifier::Done sink() {
    return [this](Verdict v) {
      std::lock_guard lock(mutex);
      got.push_back(v);
      changed.notify_all();
    };
  }
  bool waitFor(std::size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 30s, [&] { return got.size() >= count; });
  }
  std::size_t count(Verdict v) {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (Verdict g : got) n += g == v;
    return n;
  }
};

// Holds every verifier thread inside `done` until released, so the pool's state is known.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool open = false;
  int inside = 0;

  TicketVerifier::Done hold(Verdicts& verdicts) {
    auto sink = verdicts.sink();
    return [this, sink](Verdict v) {
      std::unique_lock lock(mutex);
      ++inside;
      changed.notify_all();
      changed.wait(lock, [&] { return open; });
      lock.unlock();
      sink(v);
    };
  }
  void waitInside(int n) {
    std::unique_lock lock(mutex);
    REQUIRE(changed.wait_for(lock, 30s, [&] { return inside >= n; }));
  }
  void release() {
    std::lock_guard lock(mutex);
    open = true;
    changed.notify_all();
  }
};

}  // namespace

TEST_CASE("digestMatches agrees with ticketDigest") {
  CHECK(digestMatches(check(true)));
  CHECK_FALSE(digestMatches(check(false)));
}

TEST_CASE("verdicts arrive for every job, valid and invalid") {
  TicketVerifier verifier({2, 100, 100, 0ms});
  CHECK(verifier.threads() == 2);
  Verdicts verdicts;
  for (int i = 0; i < 20; ++i)
    REQUIRE(verifier.submit("10.0.0." + std::to_string(i), check(i % 2 == 0), verdicts.sink()) ==
            TicketVerifier::Admission::Queued);
  REQUIRE(verdicts.waitFor(20));
  CHECK(verdicts.count(Verdict::Valid) == 10);
  CHECK(verdicts.count(Verdict::Invalid) == 10);
}

TEST_CASE("zero threads means one per core") {
  TicketVerifier verifier({0, 10, 10, 0ms});
  CHECK(verifier.threads() == std::max(1u, std::thread::hardware_concurrency()));
}

TEST_CASE("a full queue refuses, and admits again once it drains") {
  TicketVerifier verifier({1, 2, 100, 0ms});
  Verdicts verdicts;
  Gate gate;
  // One running (held in its verdict), two queued: the queue is full.
  REQUIRE(verifier.submit("a", check(true), gate.hold(verdicts)) ==
          TicketVerifier::Admission::Queued);
  gate.waitInside(1);
  REQUIRE(verifier.submit("b", check(true), verdicts.sink()) == TicketVerifier::Admission::Queued);
  REQUIRE(verifier.submit("c", check(true), verdicts.sink()) == TicketVerifier::Admission::Queued);
  CHECK(verifier.submit("d", check(true), verdicts.sink()) == TicketVerifier::Admission::QueueFull);
  CHECK(verifier.refused() == 1);
  CHECK(verifier.pending() == 3);
  gate.release();
  REQUIRE(verdicts.waitFor(3));
  CHECK(verdicts.count(Verdict::Valid) == 3);
  CHECK(verifier.submit("d", check(true), verdicts.sink()) == TicketVerifier::Admission::Queued);
  REQUIRE(verdicts.waitFor(4));
}

TEST_CASE("one address may have only so many verifications pending") {
  TicketVerifier verifier({1, 100, 2, 0ms});
  Verdicts verdicts;
  Gate gate;
  REQUIRE(verifier.submit("10.0.0.1", check(true), gate.hold(verdicts)) ==
          TicketVerifier::Admission::Queued);
  gate.waitInside(1);
  // The running one still counts: the address is released only after its verdict.
  REQUIRE(verifier.submit("10.0.0.1", check(true), verdicts.sink()) ==
          TicketVerifier::Admission::Queued);
  CHECK(verifier.submit("10.0.0.1", check(true), verdicts.sink()) ==
        TicketVerifier::Admission::AddressBusy);
  CHECK(verifier.submit("10.0.0.2", check(true), verdicts.sink()) ==
        TicketVerifier::Admission::Queued);
  CHECK(verifier.refused() == 1);
  gate.release();
  REQUIRE(verdicts.waitFor(3));
  // Each verdict gives its address's slot back.
  for (int i = 0; i < 200 && verifier.pending() != 0; ++i) std::this_thread::sleep_for(5ms);
  CHECK(verifier.pending() == 0);
  CHECK(verifier.submit("10.0.0.1", check(true), verdicts.sink()) ==
        TicketVerifier::Admission::Queued);
  CHECK(verifier.submit("10.0.0.1", check(true), verdicts.sink()) ==
        TicketVerifier::Admission::Queued);
  REQUIRE(verdicts.waitFor(5));
}

TEST_CASE("stopping with work pending cancels what is queued and refuses what comes") {
  Verdicts verdicts;
  Gate gate;
  {
    TicketVerifier verifier({1, 100, 100, 0ms});
    REQUIRE(verifier.submit("a", check(true), gate.hold(verdicts)) ==
            TicketVerifier::Admission::Queued);
    gate.waitInside(1);
    for (int i = 0; i < 5; ++i)
      REQUIRE(verifier.submit("b", check(true), verdicts.sink()) ==
              TicketVerifier::Admission::Queued);
    verifier.stop();
    CHECK(verdicts.count(Verdict::Cancelled) == 5);
    CHECK(verifier.submit("c", check(true), verdicts.sink()) == TicketVerifier::Admission::Stopped);
    gate.release();
    // The destructor joins the thread that was running; its verdict still arrives.
  }
  CHECK(verdicts.got.size() == 6);
  CHECK(verdicts.count(Verdict::Valid) == 1);
}

TEST_CASE("destroying a busy pool joins its threads and every verdict is delivered once") {
  Verdicts verdicts;
  std::size_t queued = 0;
  {
    TicketVerifier verifier({2, 1000, 1000, 0ms});
    for (int i = 0; i < 50; ++i)
      queued +=
          verifier.submit("a", check(true), verdicts.sink()) == TicketVerifier::Admission::Queued;
  }
  CHECK(queued == 50);
  CHECK(verdicts.got.size() == 50);
  CHECK(verdicts.count(Verdict::Valid) + verdicts.count(Verdict::Cancelled) == 50);
}

TEST_CASE("the test delay holds each verification at least that long") {
  TicketVerifier verifier({1, 10, 10, 50ms});
  Verdicts verdicts;
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(verifier.submit("a", check(true), verdicts.sink()) == TicketVerifier::Admission::Queued);
  REQUIRE(verdicts.waitFor(1));
  CHECK(std::chrono::steady_clock::now() - started >= 50ms);
}
