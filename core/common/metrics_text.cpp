#include "common/metrics_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace wampd::core {
namespace {

// Label values escape backslash, double quote and line feed; HELP texts backslash and line
// feed (the format's only two escapings).
void appendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out.append("\\\\");
    } else if (c == '\n') {
      out.append("\\n");
    } else if (quote && c == '"') {
      out.append("\\\"");
    } else {
      out.push_back(c);
    }
  }
}

void appendNumber(std::string& out, double value) {
  if (std::isnan(value)) {
    out.append("NaN");
  } else if (std::isinf(value)) {
    out.append(value > 0 ? "+Inf" : "-Inf");
  } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
    out.append(std::to_string(static_cast<long long>(value)));
  } else {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.9g", value);
    out.append(buffer);
  }
}

}  // namespace

Histogram::Histogram(std::vector<double> upperBounds)
    : bounds_(std::move(upperBounds)), counts_(bounds_.size() + 1, 0) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::observe(double value) noexcept {
  const auto bucket = static_cast<std::size_t>(
      std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  ++counts_[bucket];
  sum_ += value;
  ++count_;
}

void MetricsText::family(std::string_view name, std::string_view help, std::string_view type) {
  if (current_ == name) return;
  current_ = std::string(name);
  out_.append("# HELP ").append(name).push_back(' ');
  appendEscaped(out_, help, false);
  out_.append("\n# TYPE ").append(name).push_back(' ');
  out_.append(type).push_back('\n');
}

void MetricsText::sample(std::string_view name, Labels labels, double value,
                         std::string_view extraLabel, std::string_view extraValue) {
  out_.append(name);
  if (labels.size() > 0 || !extraLabel.empty()) {
    out_.push_back('{');
    bool first = true;
    auto label = [&](std::string_view key, std::string_view text) {
      if (!first) out_.push_back(',');
      first = false;
      out_.append(key).append("=\"");
      appendEscaped(out_, text, true);
      out_.push_back('"');
    };
    for (const auto& [key, text] : labels) label(key, text);
    if (!extraLabel.empty()) label(extraLabel, extraValue);
    out_.push_back('}');
  }
  out_.push_back(' ');
  appendNumber(out_, value);
  out_.push_back('\n');
}

void MetricsText::counter(std::string_view name, std::string_view help, double value,
                          Labels labels) {
  family(name, help, "counter");
  sample(name, labels, value);
}

void MetricsText::gauge(std::string_view name, std::string_view help, double value, Labels labels) {
  family(name, help, "gauge");
  sample(name, labels, value);
}

void MetricsText::histogram(std::string_view name, std::string_view help,
                            const Histogram& histogram) {
  family(name, help, "histogram");
  const std::string bucket = std::string(name) + "_bucket";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < histogram.upperBounds().size(); ++i) {
    cumulative += histogram.counts()[i];
    std::string bound;
    appendNumber(bound, histogram.upperBounds()[i]);
    sample(bucket, {}, static_cast<double>(cumulative), "le", bound);
  }
  sample(bucket, {}, static_cast<double>(histogram.count()), "le", "+Inf");
  sample(std::string(name) + "_sum", {}, histogram.sum());
  sample(std::string(name) + "_count", {}, static_cast<double>(histogram.count()));
}

}  // namespace wampd::core
