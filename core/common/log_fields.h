// Structured fields for log lines: what a line is about (session, topic, remote address,
// generation, file) as key/value pairs beside its message. Code that handles one session or
// topic opens a LogFields scope; every line logged inside it, however deep (router, plugins'
// errors), carries the scope's fields. log_format: json writes them as keys of their own
// (app/json_log_formatter); the text format ignores them (its messages already say it).
//
// Constraint: the fields are per thread (thread_local) and spdlog's loggers here format on the
// thread that logs, so a scope covers exactly the lines of the code it encloses. Scopes nest;
// an inner field of the same key hides the outer one. Scopes sit on the data path (every
// message a session sends), so one costs a few stores: a fixed array, no allocation, inline.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace wampd::core {

/// A field's value is a view (or a number): the scope must not outlive what it names.
struct LogField {
  std::string_view key;  // a literal: "session", "topic", "remote", "generation", "file"
  std::string_view text;
  std::uint64_t number = 0;
  bool isNumber = false;
};

namespace log_fields_detail {
/// Nesting deeper than this drops the innermost fields (nothing nests more than 3 today).
inline constexpr std::size_t kMax = 8;
struct Stack {
  LogField items[kMax];
  std::size_t size = 0;
};
// Constant-initialized: no guard on access.
inline thread_local Stack stack{};
}  // namespace log_fields_detail

class LogFields {
 public:
  static constexpr std::size_t kMax = log_fields_detail::kMax;

  /// Adds the fields for the lifetime of this object.
  LogFields(std::initializer_list<LogField> fields) noexcept {
    for (const LogField& field : fields) {
      if (log_fields_detail::stack.size == kMax) break;
      log_fields_detail::stack.items[log_fields_detail::stack.size++] = field;
      ++added_;
    }
  }
  ~LogFields() { log_fields_detail::stack.size -= added_; }
  LogFields(const LogFields&) = delete;
  LogFields& operator=(const LogFields&) = delete;

  static LogField number(std::string_view key, std::uint64_t value) noexcept {
    return LogField{key, {}, value, true};
  }
  static LogField text(std::string_view key, std::string_view value) noexcept {
    return LogField{key, value, 0, false};
  }

  /// The fields in force on this thread, outermost first.
  static const LogField* begin() noexcept { return log_fields_detail::stack.items; }
  static const LogField* end() noexcept {
    return log_fields_detail::stack.items + log_fields_detail::stack.size;
  }

 private:
  std::size_t added_ = 0;
};

}  // namespace wampd::core
