// WAMP error URIs that handlers and the host share. The host maps each onto the wire (v1
// CALLERROR details, v2 ERROR) in its one table of faults, core/common/errors.cpp.
#pragma once

namespace wampd::errors {
inline constexpr const char* kNotAuthorized = "wamp.error.not_authorized";
inline constexpr const char* kInvalidArgument = "wamp.error.invalid_argument";
inline constexpr const char* kNoSuchProcedure = "wamp.error.no_such_procedure";
inline constexpr const char* kRuntimeError = "wamp.error.runtime_error";
/// A handler threw; the message is the exception's what().
inline constexpr const char* kHandlerFailed = "wampd.error.handler_failed";
}  // namespace wampd::errors
