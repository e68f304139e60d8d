// log_format: json. One JSON object per line, for log shippers: time (UTC, ISO 8601 with
// milliseconds), level, message, and the fields of the LogFields scopes the line was logged
// in (session, topic, remote, generation, file: common/log_fields.h). Messages may quote what
// clients sent; the JSON writer escapes them, and bytes that are not UTF-8 still give a valid line.
#pragma once

#include <spdlog/formatter.h>

#include <memory>

namespace wampd::core {

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& out) override;
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLogFormatter>();
  }
};

}  // namespace wampd::core
