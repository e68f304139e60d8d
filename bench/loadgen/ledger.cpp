#include "ledger.h"

namespace wampd::bench {

void Ledger::reset() {
  base_ += entries_.size();
  entries_.clear();
  inFlight_ = 0;
  counted_ = 0;
  strays_ = 0;
  counting_ = false;
  latency_.clear();
  for (Histogram& h : groupLatency_) h.clear();
}

std::uint64_t Ledger::add(std::int64_t sentAt, std::uint32_t deliveries) {
  entries_.push_back(Entry{sentAt, deliveries});
  if (deliveries > 0) ++inFlight_;
  return base_ + entries_.size() - 1;
}

bool Ledger::deliver(std::uint64_t seq, std::int64_t readAt, int group) {
  if (seq < base_ || seq - base_ >= entries_.size()) {
    ++strays_;
    return false;
  }
  Entry& e = entries_[seq - base_];
  if (e.remaining == 0) {
    ++strays_;
    return false;
  }
  if (--e.remaining == 0) --inFlight_;
  if (counting_) {
    ++counted_;
    latency_.record(readAt - e.sentAt);
    groupLatency_[group].record(readAt - e.sentAt);
  }
  return true;
}

}  // namespace wampd::bench
