// wampd::Status: how a handler reports a refusal or failure to the host without throwing.
#pragma once

#include <string>
#include <utility>

#include "wampd/errors.h"

namespace wampd {

/// The outcome of a handler call. A default-constructed Status is success.
///
/// `uri` is a WAMP error URI (see wampd/errors.h for the ones the host knows); the host maps
/// it onto the wire for each protocol version. `message` is for humans and is sent to the
/// client, so it must not contain secrets.
class Status {
 public:
  Status() = default;

  static Status ok() { return Status(); }
  /// The client is not allowed to do this (subscribe, publish, call).
  static Status refused(std::string message) {
    return Status(errors::kNotAuthorized, std::move(message));
  }
  /// The handler failed; `uri` names the kind of failure.
  static Status error(std::string uri, std::string message) {
    return Status(std::move(uri), std::move(message));
  }

  bool isOk() const noexcept { return uri_.empty(); }
  explicit operator bool() const noexcept { return isOk(); }
  const std::string& uri() const noexcept { return uri_; }
  const std::string& message() const noexcept { return message_; }

 private:
  Status(std::string uri, std::string message)
      : uri_(std::move(uri)), message_(std::move(message)) {
    if (uri_.empty()) uri_ = errors::kRuntimeError;
  }

  std::string uri_;
  std::string message_;
};

}  // namespace wampd
