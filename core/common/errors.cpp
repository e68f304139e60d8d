#include "common/errors.h"

#include <array>

namespace wampd::core {
namespace {

// Indexed by Fault. 1007 for bad input is what Gos/Ratchet send (WampServer closes with
// 1007 on any exception while decoding), and Oro's clients expect nothing else.
constexpr std::array<FaultInfo, 10> kFaults{{
    {1007, "Invalid WAMP message", ""},
    {1007, "Unknown or server-only WAMP message type", ""},
    {1007, "Unable to find route", ""},
    {1009, "Message too big", ""},
    {1001, "Server shutting down", ""},
    {1008, "Send queue limit exceeded", ""},
    {0, "Handler failed", "wampd.error.handler_failed"},
    {0, "Not authorized", "wamp.error.not_authorized"},
    {0, "No such procedure", "wamp.error.no_such_procedure"},
    {0, "Invalid argument", "wamp.error.invalid_argument"},
}};

}  // namespace

const FaultInfo& describe(Fault fault) noexcept { return kFaults[static_cast<std::size_t>(fault)]; }

}  // namespace wampd::core
