#include <doctest/doctest.h>
#include <wampd/topic.h>

#include "fake_host.h"

using wampd::Connection;
using wampd::SessionIds;
using wampd::testing::FakeConnection;
using wampd::testing::FakeTopic;

namespace {

SessionIds visit(const wampd::Topic& topic) {
  SessionIds seen;
  topic.forEach([&](const Connection& c) { seen.push_back(c.sessionId()); });
  return seen;
}

}  // namespace

TEST_CASE("forEach visits every subscriber with a temporary lambda") {
  FakeTopic topic("a/b");
  FakeConnection one(1), two(2);
  topic.subscribers = {&one, &two};
  CHECK(visit(topic) == SessionIds{1, 2});
}

TEST_CASE("forEach accepts lvalue and const callables") {
  FakeTopic topic("a/b");
  FakeConnection one(1), two(2);
  topic.subscribers = {&one, &two};
  std::uint64_t sum = 0;
  auto add = [&sum](const Connection& c) { sum += c.sessionId(); };
  topic.forEach(add);
  const auto constAdd = add;
  topic.forEach(constAdd);
  CHECK(sum == 6);
}

TEST_CASE("forEach on a topic without subscribers calls nothing") {
  FakeTopic topic("a/b");
  int calls = 0;
  topic.forEach([&](const Connection&) { ++calls; });
  CHECK(calls == 0);
  CHECK(topic.subscriberCount() == 0);
}
