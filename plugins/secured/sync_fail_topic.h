// Oro's SyncFailTopic (OroImapBundle): a per-user topic like SecuredTopic, except that the
// wildcard user id `*` may be subscribed by anyone authenticated — it carries failures that
// concern every user's mailbox settings.
#pragma once

#include <wampd/secured_topic.h>

namespace wampd::plugins::secured {

class SyncFailTopic : public SecuredTopic {
 public:
  explicit SyncFailTopic(const Arguments& args) : SecuredTopic(args) {}

 protected:
  bool isAllowed(const Identity& identity, const Request& request) const override {
    if (request.attribute(kUserIdAttribute) == "*") return !identity.anonymous;
    return SecuredTopic::isAllowed(identity, request);
  }
};

}  // namespace wampd::plugins::secured
