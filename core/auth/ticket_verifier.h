// The pool of threads that compute Oro ticket digests, so that 5,000 sha512 rounds per ticket
// never run on the I/O thread.
//
// Threading rules:
// - submit(), stop() and the counters may be called from any thread; the I/O thread is the
//   only caller in wampd.
// - A job holds only copies of plain data (DigestCheck): a verifier thread never touches the
//   user directory, plugins, sessions or anything else of the server.
// - `done` runs on a verifier thread (or, for jobs stop() cancels, on the thread calling
//   stop()), never under the pool's lock: it must only hand the verdict over, e.g. post it to
//   the io_context. The pool counts a job as pending until its `done` has returned.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace wampd::core::auth {

/// What a digest comparison needs; copied out of the ticket and the user on the I/O thread.
struct DigestCheck {
  std::string nonce;
  std::string created;
  std::string password;  // the user's stored hash, or the secret for an anonymous ticket
  std::string secret;
  std::string expected;  // the ticket's digest
};

/// True when the digest `check` expects is the one its fields give (constant-time compare).
bool digestMatches(const DigestCheck& check);

enum class Verdict : std::uint8_t { Valid, Invalid, Cancelled };

struct VerifierLimits {
  /// Verifier threads; 0: one per core.
  std::size_t threads = 0;
  /// Jobs waiting for a thread (running ones not counted); a submit beyond it is refused.
  std::size_t maxQueued = 1024;
  /// Jobs, queued or running, from one source address.
  std::size_t maxPerAddress = 64;
  /// Test-only: each verification takes at least this long (shows the I/O thread is free).
  std::chrono::milliseconds testDelay{0};
};

class TicketVerifier {
 public:
  using Done = std::function<void(Verdict)>;
  enum class Admission : std::uint8_t { Queued, QueueFull, AddressBusy, Stopped };

  explicit TicketVerifier(VerifierLimits limits);
  /// stop(), then joins the threads.
  ~TicketVerifier();
  TicketVerifier(const TicketVerifier&) = delete;
  TicketVerifier& operator=(const TicketVerifier&) = delete;

  /// Queues `check`; `done` gets the verdict later. Anything but Queued: `done` is never
  /// called and nothing was kept.
  Admission submit(const std::string& address, DigestCheck check, Done done);

  /// Refuses new jobs; the queued ones get Cancelled, the running ones finish. Idempotent.
  void stop();

  std::size_t threads() const noexcept { return threads_.size(); }
  /// Jobs queued or running.
  std::size_t pending() const;
  /// Submissions refused so far because the queue or an address was full.
  std::uint64_t refused() const;

 private:
  struct Job {
    std::string address;
    DigestCheck check;
    Done done;
  };
  void run();
  void release(const std::string& address);

  const VerifierLimits limits_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> queue_;
  std::unordered_map<std::string, std::size_t> perAddress_;
  std::size_t running_ = 0;
  std::uint64_t refused_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace wampd::core::auth
