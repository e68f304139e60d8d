// The broadcast plugin: the SDK's two ready-made topic classes under Oro's class names, so
// manifests can declare Oro's broadcast and per-user topics without writing code.
#include <wampd/broadcast_topic.h>
#include <wampd/plugin.h>
#include <wampd/secured_topic.h>

namespace wampd::plugins::broadcast {

WAMPD_PLUGIN(registry) {
  registry.topic<BroadcastTopic>("BroadcastTopic");
  registry.topic<SecuredTopic>("SecuredTopic");
}

}  // namespace wampd::plugins::broadcast
