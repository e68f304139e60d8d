// Structured fields for log lines: what a line is about (session, topic, remote address,
// generation, file) as key/value pairs beside its message. Code that handles one session or
// topic opens a LogFields scope; every line logged inside it, however deep (router, plugins'
// errors), carries the scope's fields. log_format: json writes them as keys of their own
// (app/json_log_formatter); the text format ignores them (its messages already say it).
//
// Constraint: the fields are per thread (thread_local) and spdlog's loggers here format on the
// thread that logs, so a scope covers exactly the lines of the code it encloses. Scopes nest;
// an inner field of the same key hides the outer one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wampd::core {

/// A field's value is a view (or a number): the scope must not outlive what it names, which
/// keeps a scope on the data path down to a few stores (no copy, no allocation).
struct LogField {
  std::string_view key;  // a literal: "session", "topic", "remote", "generation", "file"
  std::string_view text;
  std::uint64_t number = 0;
  bool isNumber = false;
};

class LogFields {
 public:
  /// Adds the fields for the lifetime of this object. Never throws: without memory the lines
  /// just lack them.
  LogFields(std::initializer_list<LogField> fields) noexcept;
  ~LogFields();
  LogFields(const LogFields&) = delete;
  LogFields& operator=(const LogFields&) = delete;

  static LogField number(std::string_view key, std::uint64_t value) noexcept {
    return LogField{key, {}, value, true};
  }
  static LogField text(std::string_view key, std::string_view value) noexcept {
    return LogField{key, value, 0, false};
  }

  /// The fields in force on this thread, outermost first.
  static const std::vector<LogField>& current() noexcept;

 private:
  std::size_t added_ = 0;
};

}  // namespace wampd::core
