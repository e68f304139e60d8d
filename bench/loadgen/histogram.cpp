#include "histogram.h"

#include <algorithm>

namespace wampd::bench {

int Histogram::bucketOf(std::uint64_t v) {
  if (v < static_cast<std::uint64_t>(kLinear)) return static_cast<int>(v);
  const int exponent = 63 - __builtin_clzll(v);  // >= kSubBits + 1
  const int shift = exponent - kSubBits;
  const int mantissa = static_cast<int>((v >> shift) & ((1u << kSubBits) - 1));
  return kLinear + (exponent - kSubBits - 1) * (1 << kSubBits) + mantissa;
}

std::int64_t Histogram::upperBoundOf(int bucket) {
  if (bucket < kLinear) return bucket;
  const int octave = (bucket - kLinear) >> kSubBits;
  const int mantissa = (bucket - kLinear) & ((1 << kSubBits) - 1);
  const int shift = octave + 1;
  return ((static_cast<std::int64_t>((1 << kSubBits) | mantissa) + 1) << shift) - 1;
}

void Histogram::record(std::int64_t ns) {
  if (ns < 0) ns = 0;
  ++buckets_[static_cast<std::size_t>(bucketOf(static_cast<std::uint64_t>(ns)))];
  ++count_;
  max_ = std::max(max_, ns);
}

void Histogram::clear() {
  buckets_.fill(0);
  count_ = 0;
  max_ = 0;
}

std::int64_t Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  const auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_ - 1)) + 1;
  std::uint64_t seen = 0;
  for (int b = 0; b < kBuckets; ++b) {
    seen += buckets_[static_cast<std::size_t>(b)];
    if (seen >= rank) return std::min(upperBoundOf(b), max_);
  }
  return max_;
}

}  // namespace wampd::bench
