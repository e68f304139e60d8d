// Prometheus' text exposition format 0.0.4 (what /metrics answers), and the histogram it
// reports. Names are the caller's; this writes each family's # HELP and # TYPE once, before
// its first sample, so the samples of one family must be written one after the other.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wampd::core {

/// Counts observations into fixed buckets (upper bounds in seconds, ascending).
class Histogram {
 public:
  explicit Histogram(std::vector<double> upperBounds);
  void observe(double value) noexcept;
  const std::vector<double>& upperBounds() const noexcept { return bounds_; }
  /// Observations at or below each bound, not cumulative (one more: above the last).
  const std::vector<std::uint64_t>& counts() const noexcept { return counts_; }
  double sum() const noexcept { return sum_; }
  std::uint64_t count() const noexcept { return count_; }

 private:
  std::vector<double> bounds_;
  std::vector<std::uint64_t> counts_;
  double sum_ = 0;
  std::uint64_t count_ = 0;
};

class MetricsText {
 public:
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  void counter(std::string_view name, std::string_view help, double value, Labels labels = {});
  void gauge(std::string_view name, std::string_view help, double value, Labels labels = {});
  void histogram(std::string_view name, std::string_view help, const Histogram& histogram);

  const std::string& text() const noexcept { return out_; }

  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  void family(std::string_view name, std::string_view help, std::string_view type);
  void sample(std::string_view name, Labels labels, double value, std::string_view extraLabel = {},
              std::string_view extraValue = {});

  std::string out_;
  std::string current_;  // the family whose samples are being written
};

}  // namespace wampd::core
