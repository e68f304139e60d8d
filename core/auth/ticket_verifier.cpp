#include "auth/ticket_verifier.h"

#include <openssl/crypto.h>

#include <algorithm>

#include "auth/ticket.h"

namespace wampd::core::auth {

bool digestMatches(const DigestCheck& check) {
  std::string digest = ticketDigest(check.nonce, check.created, check.password, check.secret);
  const bool match = equalConstantTime(digest, check.expected);
  OPENSSL_cleanse(digest.data(), digest.size());
  return match;
}

TicketVerifier::TicketVerifier(VerifierLimits limits) : limits_(limits) {
  std::size_t count = limits_.threads;
  if (count == 0) count = std::max(1u, std::thread::hardware_concurrency());
  threads_.reserve(count);
  try {
    for (std::size_t i = 0; i < count; ++i) threads_.emplace_back([this] { run(); });
  } catch (...) {
    stop();
    for (auto& thread : threads_) thread.join();
    throw;
  }
}

TicketVerifier::~TicketVerifier() {
  stop();
  for (auto& thread : threads_)
    if (thread.joinable()) thread.join();
}

TicketVerifier::Admission TicketVerifier::submit(const std::string& address, DigestCheck check,
                                                 Done done) {
  std::lock_guard lock(mutex_);
  if (stopping_) return Admission::Stopped;
  if (queue_.size() >= limits_.maxQueued) {
    ++refused_;
    return Admission::QueueFull;
  }
  std::size_t& fromAddress = perAddress_[address];
  if (fromAddress >= limits_.maxPerAddress) {
    ++refused_;
    return Admission::AddressBusy;
  }
  queue_.push_back(Job{address, std::move(check), std::move(done)});
  ++fromAddress;
  wake_.notify_one();
  return Admission::Queued;
}

void TicketVerifier::stop() {
  std::deque<Job> cancelled;
  {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    cancelled.swap(queue_);
  }
  wake_.notify_all();
  for (Job& job : cancelled) {
    job.done(Verdict::Cancelled);
    release(job.address);
  }
}

std::size_t TicketVerifier::pending() const {
  std::lock_guard lock(mutex_);
  std::size_t total = 0;
  for (const auto& [address, count] : perAddress_) total += count;
  return total;
}

std::uint64_t TicketVerifier::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

void TicketVerifier::release(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = perAddress_.find(address);
  if (it != perAddress_.end() && --it->second == 0) perAddress_.erase(it);
}

void TicketVerifier::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping
      job = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    if (limits_.testDelay.count() > 0) std::this_thread::sleep_for(limits_.testDelay);
    Verdict verdict;
    try {
      verdict = digestMatches(job.check) ? Verdict::Valid : Verdict::Invalid;
    } catch (const std::exception&) {
      verdict = Verdict::Invalid;  // out of memory: refusing is the safe answer
    }
    OPENSSL_cleanse(job.check.password.data(), job.check.password.size());
    try {
      job.done(verdict);
    } catch (...) {
      // `done` only posts; if even that fails the handshake times out on its own.
    }
    release(job.address);
    std::lock_guard lock(mutex_);
    --running_;
  }
}

}  // namespace wampd::core::auth
