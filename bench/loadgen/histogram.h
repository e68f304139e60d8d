// Latencies in a log-linear histogram: 64 buckets per power of two (under 1.6% error), so
// millions of samples cost a few kilobytes and no sorting.
#pragma once

#include <array>
#include <cstdint>

namespace wampd::bench {

class Histogram {
 public:
  void record(std::int64_t ns);
  void clear();
  std::uint64_t count() const { return count_; }
  std::int64_t max() const { return max_; }
  /// The value under which a fraction `q` (0..1) of the samples lie, in nanoseconds.
  std::int64_t quantile(double q) const;

 private:
  static constexpr int kSubBits = 6;
  static constexpr int kLinear = 2 << kSubBits;  // values below this have their own bucket
  static constexpr int kBuckets = kLinear + (64 - kSubBits - 1) * (1 << kSubBits);
  static int bucketOf(std::uint64_t v);
  static std::int64_t upperBoundOf(int bucket);

  std::array<std::uint64_t, kBuckets> buckets_{};
  std::uint64_t count_ = 0;
  std::int64_t max_ = 0;
};

}  // namespace wampd::bench
