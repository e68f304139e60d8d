// What was published (or called) and when, and how many deliveries each still awaits: the
// measure of in-flight events and of publish-to-delivery latency.
#pragma once

#include <cstdint>
#include <vector>

#include "histogram.h"

namespace wampd::bench {

class Ledger {
 public:
  /// Forgets everything; sequence numbers go on from where they were, so late deliveries
  /// of an earlier phase are recognised as strays.
  void reset();
  /// A new entry expecting `deliveries`, sent at `sentAt`; returns its sequence number.
  std::uint64_t add(std::int64_t sentAt, std::uint32_t deliveries);
  /// Records one delivery of `seq` read at `readAt` (by a subscriber of `group`: its latency
  /// is also kept apart). False for a stray (unknown or already complete) sequence number.
  bool deliver(std::uint64_t seq, std::int64_t readAt, int group = 0);

  /// Starts counting deliveries and latencies; stop() freezes them.
  void start() { counting_ = true; }
  void stop() { counting_ = false; }

  std::uint64_t inFlight() const { return inFlight_; }
  std::uint64_t published() const { return entries_.size(); }
  std::uint64_t counted() const { return counted_; }
  std::uint64_t strays() const { return strays_; }
  const Histogram& latency() const { return latency_; }
  /// Group 0: subscribers on the publisher's server; 1: on another node of its cluster.
  static constexpr int kGroups = 2;
  const Histogram& latency(int group) const { return groupLatency_[group]; }

 private:
  struct Entry {
    std::int64_t sentAt;
    std::uint32_t remaining;
  };
  std::vector<Entry> entries_;
  std::uint64_t base_ = 1;
  std::uint64_t inFlight_ = 0;
  std::uint64_t counted_ = 0;
  std::uint64_t strays_ = 0;
  bool counting_ = false;
  Histogram latency_;
  Histogram groupLatency_[kGroups];
};

}  // namespace wampd::bench
