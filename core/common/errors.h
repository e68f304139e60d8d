// The one table that maps what can go wrong with a client onto the wire: WebSocket close
// codes for faults that end a connection, WAMP error URIs for those that do not.
#pragma once

#include <cstdint>
#include <string_view>

namespace wampd::core {

enum class Fault : std::uint8_t {
  MalformedMessage,    // not JSON, not an array, wrong field types
  UnknownMessageType,  // unknown type, or one only a server sends
  NoRoute,             // a topic no route matches ("Unable to find route", as Gos)
  MessageTooBig,       // over server.max_message_size
  ServerShutdown,      // SIGINT/SIGTERM
  SlowConsumer,        // send queue over its bound
  HandlerFailed,       // a handler threw or returned an error (connection stays)
  NotAuthorized,       // refused subscribe/publish/call (connection stays)
  NoSuchProcedure,     // CALL without a route or RPC handler (connection stays)
  InvalidArgument,     // CALL arguments a handler rejected (connection stays)
  LimitExceeded,       // too many prefixes/subscriptions on one connection
  SubscriptionEnded,   // a reload took the topic's route away (connection stays)
  ProtocolViolation,   // WAMP v2: ABORT wamp.error.protocol_violation, then close
  SessionEnded,        // WAMP v2: GOODBYE or ABORT ended the session
};

struct FaultInfo {
  /// WebSocket close code when the fault closes the connection; 0 when it does not.
  std::uint16_t closeCode;
  /// Close reason or error description for humans.
  std::string_view reason;
  /// WAMP error URI for faults answered with CALLERROR/ERROR.
  std::string_view uri;
  /// The `code` Gos puts in a v1 CALLERROR's details (HTTP-like); 0 when not answered.
  std::uint16_t detailsCode;
};

const FaultInfo& describe(Fault fault) noexcept;

/// The fault a handler's Status URI stands for (unknown URIs: HandlerFailed).
Fault faultForUri(std::string_view uri) noexcept;

}  // namespace wampd::core
