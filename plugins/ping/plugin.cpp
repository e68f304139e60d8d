// The ping plugin's registration point.
#include <wampd/plugin.h>

#include "websocket_ping_topic.h"

namespace wampd::plugins::ping {

WAMPD_PLUGIN(registry) {
  registry.topic<WebsocketPingTopic>("WebsocketPingTopic");
}

}  // namespace wampd::plugins::ping
