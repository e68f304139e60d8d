// The one table of what can go wrong with a client and how each fault goes on the wire: its
// WebSocket close code when it ends the connection, the `code` a WAMP v1 CALLERROR carries
// in its details (as Gos sends them), and its WAMP v2 URI (ERROR, ABORT or GOODBYE reason).
// Transport, sessions, router roles and wampctl all take codes and URIs from here; the URIs
// plugin handlers return are the SDK's (wampd/errors.h) and the table uses those constants.
//
// Constraint: no close code or error URI is spelled anywhere else in core/, sdk/ or plugins/
// (tests/unit/common/errors_test.cpp greps for strays).
#pragma once

#include <cstdint>
#include <string_view>

namespace wampd::core {

/// RFC 6455 section 7.4.1 close codes.
enum class CloseCode : std::uint16_t {
  Normal = 1000,
  GoingAway = 1001,
  ProtocolError = 1002,
  UnsupportedData = 1003,
  NoStatus = 1005,  // never sent: a close frame without a code
  Abnormal = 1006,  // never sent: the connection ended without a close frame
  InvalidPayload = 1007,
  PolicyViolation = 1008,
  TooBig = 1009,
  MandatoryExtension = 1010,
  InternalError = 1011,
  ServiceRestart = 1012,
  TryAgainLater = 1013,
  BadGateway = 1014,
};

constexpr std::uint16_t wireCode(CloseCode c) noexcept {
  return static_cast<std::uint16_t>(c);
}

/// True for the codes an endpoint may put in a close frame (section 7.4: the registered
/// ones that are not reserved, and 3000-4999).
bool sendableCloseCode(std::uint16_t code) noexcept;

enum class Fault : std::uint8_t {
  // Ends the connection.
  MalformedMessage,    // not JSON, not an array, wrong field types (Gos: 1007)
  UnknownMessageType,  // unknown type, or one only a server sends
  NoRoute,             // a topic no route matches ("Unable to find route", as Gos)
  MessageTooBig,       // over server.max_message_size
  FramingError,        // a WebSocket frame RFC 6455 forbids
  InvalidUtf8,         // a text message or close reason that is not UTF-8
  ServerShutdown,      // SIGINT/SIGTERM (v2 clients get no GOODBYE: see FaultInfo::comesBack)
  SlowConsumer,        // send queue over its bound
  PeerUnresponsive,    // no byte within server.pong_timeout of a ping (the transport drops it)
  WriteStalled,        // queued bytes not moving for server.write_timeout (dropped likewise)
  OutOfMemory,         // the server could not buffer a frame
  LimitExceeded,       // too many prefixes/subscriptions on one connection
  ProtocolViolation,   // WAMP v2: ABORT wamp.error.protocol_violation, then close
  SessionEnded,        // WAMP v2: GOODBYE or ABORT ended the session (wamp.close.goodbye_and_out)
  Leaving,             // WAMP v2 GOODBYE wamp.close.close_realm: a client (wampctl) leaves
  // Answered; the connection stays (ABORT reasons: the session ends as SessionEnded).
  NoSuchRealm,             // WAMP v2 HELLO for a realm this server does not serve (ABORT)
  AuthenticationFailed,    // WAMP v2 ticket refused (ABORT)
  HandlerFailed,           // a handler threw or returned an error
  RuntimeError,            // a handler's generic runtime error
  NotAuthorized,           // refused subscribe/publish/call, or an anonymous v2 HELLO
  NoSuchProcedure,         // CALL without a route, RPC handler or callee
  InvalidArgument,         // CALL arguments a handler rejected
  NoSuchSubscription,      // a reload took the topic's route away, or UNSUBSCRIBE of nothing
  InvalidUri,              // WAMP v2: no route matches the topic
  NoSuchRegistration,      // WAMP v2 UNREGISTER of nothing
  OptionNotAllowed,        // WAMP v2 option value not supported (match, invoke)
  ProcedureAlreadyExists,  // WAMP v2 REGISTER of a served procedure
  Canceled,                // WAMP v2 call canceled, or its callee left
  Timeout,                 // WAMP v2 call timed out
  ReloadFailed,            // wampd.reload: the new generation was refused
  ClusterUnavailable,      // delivered on this node only: Redis is unreachable (cluster mode)
  CalleeNodeGone,          // a call's callee is on another node, which stopped reporting
  // A shared REGISTER of a procedure another node serves (shared registrations: one node).
  ClusterSharedRegistration,
};

struct FaultInfo {
  /// WebSocket close code when the fault closes the connection; 0 when it does not.
  std::uint16_t closeCode;
  /// Close reason, or error description, for humans.
  std::string_view reason;
  /// WAMP v2 URI: ERROR's error, ABORT's or GOODBYE's reason; empty when v2 has none.
  std::string_view uri;
  /// The `code` Gos puts in a v1 CALLERROR's details (HTTP-like); 0 when not answered.
  std::uint16_t detailsCode;
  /// The server ends the session but wants its client back, which must then see something a
  /// client retries after: a WAMP v1 session ends with no close frame at all (Oro's AutobahnJS
  /// 0.8 gives up after any clean close), a v2 session with the close frame and no GOODBYE
  /// (autobahn-js and wampy never retry after a router's GOODBYE, whatever its reason). The
  /// transport, which cannot tell the versions apart, sends neither a close frame.
  bool comesBack = false;
};

const FaultInfo& describe(Fault fault) noexcept;

/// The fault a URI stands for (a handler's Status, a peer's ERROR or ABORT); unknown URIs:
/// HandlerFailed.
Fault faultForUri(std::string_view uri) noexcept;

/// The fault's URI as a C string (Status takes std::string; the table's views are literals).
inline const char* uriOf(Fault fault) noexcept {
  return describe(fault).uri.data();
}

}  // namespace wampd::core
