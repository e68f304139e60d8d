#include "common/log_fields.h"

namespace wampd::core {
namespace {

thread_local std::vector<LogField> fields;

}  // namespace

LogFields::LogFields(std::initializer_list<LogField> added) noexcept {
  try {
    for (const LogField& field : added) {
      fields.push_back(field);
      ++added_;
    }
  } catch (const std::bad_alloc&) {
    // The lines inside lack some fields.
  }
}

LogFields::~LogFields() {
  fields.resize(fields.size() - added_);
}

const std::vector<LogField>& LogFields::current() noexcept {
  return fields;
}

}  // namespace wampd::core
