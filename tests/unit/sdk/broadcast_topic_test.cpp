#include <doctest/doctest.h>
#include <wampd/broadcast_topic.h>
#include <wampd/plugin.h>

#include "fake_host.h"

using namespace wampd;
using wampd::testing::FakeConnection;
using wampd::testing::FakeTopic;

TEST_CASE("the handler name is argument #0") {
  Hosted<BroadcastTopic> topic(Arguments({Value("oro_sync.maintenance")}));
  CHECK(topic.handler().getName() == "oro_sync.maintenance");
  boundary::TopicHandlerDescription description;
  REQUIRE(topic.hostDescribe(description).isOk());
  CHECK(description.name == "oro_sync.maintenance");
  CHECK(description.timers.empty());
}

TEST_CASE("a missing name fails construction") {
  std::string error;
  CHECK(detail::create<BroadcastTopic>(Arguments{}, error) == nullptr);
  CHECK(error == "missing argument #0");
}

TEST_CASE("anyone may subscribe, anonymous included") {
  Hosted<BroadcastTopic> topic(Arguments({Value("b")}));
  FakeTopic t("oro/maintenance");
  FakeConnection anonymous(1);
  CHECK(topic.hostSubscribe(anonymous, t, Request{}).isOk());
  CHECK(topic.hostUnSubscribe(anonymous, t, Request{}).isOk());
}

TEST_CASE("a publication is broadcast once with the publisher's exclude and eligible lists") {
  Hosted<BroadcastTopic> topic(Arguments({Value("b")}));
  FakeTopic t("oro/maintenance");
  FakeConnection publisher(9);
  Value event(Object{{"isOn", true}, {"userId", nullptr}});
  CHECK(topic.hostPublish(publisher, t, Request{}, event, {9}, {1, 2}).isOk());
  REQUIRE(t.broadcasts.size() == 1);
  CHECK(t.broadcasts[0].event == event);
  CHECK(t.broadcasts[0].exclude == SessionIds{9});
  CHECK(t.broadcasts[0].eligible == SessionIds{1, 2});
}
