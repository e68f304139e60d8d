// The secured plugin: Oro's per-user topics (email events, reminders, attribute imports,
// IMAP sync failures). Only the authenticated user a topic names may subscribe to it.
#include <wampd/plugin.h>
#include <wampd/secured_topic.h>

#include "sync_fail_topic.h"

namespace wampd::plugins::secured {

WAMPD_PLUGIN(registry) {
  registry.topic<SecuredTopic>("SecuredTopic");
  registry.topic<SyncFailTopic>("SyncFailTopic");
}

}  // namespace wampd::plugins::secured
