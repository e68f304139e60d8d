#include "common/errors.h"

#include <array>

#include "wampd/errors.h"

namespace wampd::core {
namespace {

constexpr std::uint16_t kNormal = wireCode(CloseCode::Normal);
constexpr std::uint16_t kPolicy = wireCode(CloseCode::PolicyViolation);
constexpr std::uint16_t kInvalid = wireCode(CloseCode::InvalidPayload);

// Indexed by Fault. 1007 for bad WAMP input is what Gos/Ratchet send (WampServer closes with
// 1007 on any exception while decoding), and Oro's clients expect nothing else. Faults a
// WAMP v1 caller can meet that Gos has no code for answer 500, as a handler's failure does.
// ABORT reasons without a close code end the session as SessionEnded does.
constexpr std::array<FaultInfo, 33> kFaults{{
    {kInvalid, "Invalid WAMP message", "", 0},
    {kInvalid, "Unknown or server-only WAMP message type", "", 0},
    {kInvalid, "Unable to find route", "", 0},
    {wireCode(CloseCode::TooBig), "Message too big", "", 0},
    {wireCode(CloseCode::ProtocolError), "WebSocket protocol error", "", 0},
    {kInvalid, "Invalid UTF-8", "", 0},
    {wireCode(CloseCode::GoingAway), "Server shutting down", "wamp.close.system_shutdown", 0, true},
    {kPolicy, "Send queue limit exceeded", "", 0, true},
    // Dropped with no close frame (the peer would not take one): the client comes back.
    {wireCode(CloseCode::GoingAway), "No answer to a ping", "", 0, true},
    {wireCode(CloseCode::GoingAway), "Send queue not moving", "", 0, true},
    {wireCode(CloseCode::InternalError), "out of memory", "", 0},
    {kPolicy, "Per-connection limit exceeded", "", 0},
    {wireCode(CloseCode::ProtocolError), "WAMP protocol violation", "wamp.error.protocol_violation",
     0},
    {kNormal, "WAMP session closed", "wamp.close.goodbye_and_out", 0},
    {kNormal, "WAMP session closed", "wamp.close.close_realm", 0},
    {0, "No such realm", "wamp.error.no_such_realm", 0},
    {0, "Authentication failed", "wamp.error.authentication_failed", 0},
    {0, "Handler failed", errors::kHandlerFailed, 500},
    {0, "Runtime error", errors::kRuntimeError, 500},
    {0, "Not authorized", errors::kNotAuthorized, 403},
    {0, "No such procedure", errors::kNoSuchProcedure, 404},
    {0, "Invalid argument", errors::kInvalidArgument, 400},
    {0, "Subscription ended", "wamp.error.no_such_subscription", 410},
    {0, "Invalid URI", "wamp.error.invalid_uri", 500},
    {0, "No such registration", "wamp.error.no_such_registration", 500},
    {0, "Option not allowed", "wamp.error.option_not_allowed", 500},
    {0, "Procedure already exists", "wamp.error.procedure_already_exists", 500},
    {0, "Canceled", "wamp.error.canceled", 500},
    {0, "Timeout", "wamp.error.timeout", 500},
    {0, "Reload failed", "wampd.error.reload_failed", 500},
    {0, "Delivered on this node only: the cluster is unreachable",
     "wampd.error.cluster_unavailable", 503},
    {0, "The callee's node stopped answering", "wampd.error.callee_node_gone", 503},
    {0, "Shared registrations are served by one node only",
     "wampd.error.cluster_shared_registration", 500},
}};
static_assert(kFaults.size() == static_cast<std::size_t>(Fault::ClusterSharedRegistration) + 1,
              "one row per Fault");

}  // namespace

bool sendableCloseCode(std::uint16_t value) noexcept {
  if (value >= 3000 && value <= 4999) return true;
  switch (static_cast<CloseCode>(value)) {
    case CloseCode::Normal:
    case CloseCode::GoingAway:
    case CloseCode::ProtocolError:
    case CloseCode::UnsupportedData:
    case CloseCode::InvalidPayload:
    case CloseCode::PolicyViolation:
    case CloseCode::TooBig:
    case CloseCode::MandatoryExtension:
    case CloseCode::InternalError:
    case CloseCode::ServiceRestart:
    case CloseCode::TryAgainLater:
    case CloseCode::BadGateway:
      return true;
    default:
      return false;
  }
}

const FaultInfo& describe(Fault fault) noexcept {
  return kFaults[static_cast<std::size_t>(fault)];
}

Fault faultForUri(std::string_view uri) noexcept {
  for (std::size_t i = 0; i < kFaults.size(); ++i)
    if (!kFaults[i].uri.empty() && kFaults[i].uri == uri) return static_cast<Fault>(i);
  return Fault::HandlerFailed;
}

}  // namespace wampd::core
