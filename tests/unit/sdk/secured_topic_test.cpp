#include <doctest/doctest.h>
#include <wampd/errors.h>
#include <wampd/plugin.h>
#include <wampd/secured_topic.h>

#include "fake_host.h"

using namespace wampd;
using wampd::testing::FakeConnection;
using wampd::testing::FakeTopic;

namespace {

Request forUser(const char* userId) {
  Request request;
  request.routeName = "oro_email.event";
  request.attributes["user_id"] = userId;
  request.attributes["organization_id"] = "1";
  return request;
}

/// Oro's SyncFailTopic rule on top of SecuredTopic: anyone authenticated may take `*`.
class WildcardTopic : public SecuredTopic {
 public:
  using SecuredTopic::SecuredTopic;

 protected:
  bool isAllowed(const Identity& identity, const Request& request) const override {
    if (!identity.anonymous && request.attribute(kUserIdAttribute) == "*") return true;
    return SecuredTopic::isAllowed(identity, request);
  }
};

}  // namespace

TEST_CASE("only the user the topic belongs to may subscribe") {
  Hosted<SecuredTopic> topic(Arguments({Value("oro_email.event")}));
  FakeTopic t("oro/email_event/5/1");
  FakeConnection owner = FakeConnection::user(1, 5);
  FakeConnection other = FakeConnection::user(2, 6);
  FakeConnection anonymous(3);

  CHECK(topic.hostSubscribe(owner, t, forUser("5")).isOk());

  Status refused = topic.hostSubscribe(other, t, forUser("5"));
  CHECK(refused.uri() == errors::kNotAuthorized);
  CHECK(refused.message() == "Not allowed to subscribe to \"oro/email_event/5/1\"");
  CHECK(topic.hostSubscribe(anonymous, t, forUser("5")).uri() == errors::kNotAuthorized);
}

TEST_CASE("a * or 0 user id, or one that is not a number, belongs to nobody") {
  Hosted<SecuredTopic> topic(Arguments({Value("oro_email.event")}));
  FakeTopic t("oro/email_event/x/1");
  FakeConnection owner = FakeConnection::user(1, 5);
  for (const char* id : {"*", "0", "", "5a", " 5", "-5", "+5", "99999999999999999999"}) {
    CAPTURE(id);
    CHECK_FALSE(topic.hostSubscribe(owner, t, forUser(id)).isOk());
  }
  Request noAttribute;
  CHECK_FALSE(topic.hostSubscribe(owner, t, noAttribute).isOk());
}

TEST_CASE("an anonymous identity with a matching user id is still refused") {
  Hosted<SecuredTopic> topic(Arguments({Value("t")}));
  FakeTopic t("oro/reminder_remind/5");
  Identity who;
  who.userId = 5;
  who.anonymous = true;
  FakeConnection connection(1, who);
  CHECK_FALSE(topic.hostSubscribe(connection, t, forUser("5")).isOk());
}

TEST_CASE("publications are broadcast as in BroadcastTopic") {
  Hosted<SecuredTopic> topic(Arguments({Value("t")}));
  FakeTopic t("oro/email_event/5/1");
  FakeConnection backend(1);
  Value event(Object{{"hasNewEmail", true}});
  CHECK(topic.hostPublish(backend, t, forUser("5"), event, {}, {}).isOk());
  REQUIRE(t.broadcasts.size() == 1);
  CHECK(t.broadcasts[0].event == event);
}

TEST_CASE("subclasses can widen the rule through isAllowed") {
  Hosted<WildcardTopic> topic(Arguments({Value("oro_imap.sync_fail")}));
  FakeTopic t("oro/imap_sync_fail/*");
  FakeConnection user = FakeConnection::user(1, 5);
  FakeConnection anonymous(2);
  CHECK(topic.hostSubscribe(user, t, forUser("*")).isOk());
  CHECK_FALSE(topic.hostSubscribe(anonymous, t, forUser("*")).isOk());
  CHECK(topic.hostSubscribe(user, t, forUser("5")).isOk());
  CHECK_FALSE(topic.hostSubscribe(user, t, forUser("6")).isOk());
}
