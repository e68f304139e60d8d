#include "common/errors.h"

#include <array>

namespace wampd::core {
namespace {

// Indexed by Fault. 1007 for bad input is what Gos/Ratchet send (WampServer closes with
// 1007 on any exception while decoding), and Oro's clients expect nothing else.
constexpr std::array<FaultInfo, 14> kFaults{{
    {1007, "Invalid WAMP message", "", 0},
    {1007, "Unknown or server-only WAMP message type", "", 0},
    {1007, "Unable to find route", "", 0},
    {1009, "Message too big", "", 0},
    {1001, "Server shutting down", "", 0},
    {1008, "Send queue limit exceeded", "", 0},
    {0, "Handler failed", "wampd.error.handler_failed", 500},
    {0, "Not authorized", "wamp.error.not_authorized", 403},
    {0, "No such procedure", "wamp.error.no_such_procedure", 404},
    {0, "Invalid argument", "wamp.error.invalid_argument", 400},
    {1008, "Per-connection limit exceeded", "", 0},
    {0, "Subscription ended", "wamp.error.no_such_subscription", 410},
    {1002, "WAMP protocol violation", "wamp.error.protocol_violation", 0},
    {1000, "WAMP session closed", "", 0},
}};

}  // namespace

const FaultInfo& describe(Fault fault) noexcept {
  return kFaults[static_cast<std::size_t>(fault)];
}

Fault faultForUri(std::string_view uri) noexcept {
  for (std::size_t i = 0; i < kFaults.size(); ++i)
    if (!kFaults[i].uri.empty() && kFaults[i].uri == uri) return static_cast<Fault>(i);
  return Fault::HandlerFailed;
}

}  // namespace wampd::core
