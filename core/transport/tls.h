// TLS for the transport: an OpenSSL engine over memory BIOs, which is what asio::ssl::stream
// is inside, driven by the connection's own non-blocking reads and batched writes instead of
// the stream's async operations (those would own the socket and give up the one-write-per-
// socket-per-turn flush). The connection recv()s ciphertext and feeds it in, reads plaintext
// out; on flush it hands queued plaintext in and send()s the ciphertext that comes out.
//
// Constraints: an engine belongs to one connection and is used on that connection's thread
// only; a TlsContext is immutable once loaded and shared by every engine made from it (each
// SSL object holds a reference to its SSL_CTX, so a reload may drop the context while older
// connections still use it).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct ssl_st;
struct ssl_ctx_st;
struct bio_st;

namespace wampd::core {

/// What a TLS listener serves, as given in server.tls (absolute paths).
struct TlsFiles {
  std::string certificate;  // PEM chain, leaf first
  std::string privateKey;   // PEM
  std::string ca;           // PEM; non-empty: client certificates are required and verified
  bool tls13Only = false;   // min_version "1.3"; otherwise TLS 1.2 and 1.3
};

/// Certificate, key, CA and versions, loaded once (asio::ssl::context underneath).
class TlsContext {
 public:
  /// Reads and checks every file. Throws ConfigError naming the file at fault: unreadable or
  /// not PEM, a key that does not match the certificate, a bad CA file.
  static std::shared_ptr<const TlsContext> load(const TlsFiles& files);
  /// A client context, for tests and the load generator: trusts `caFile` (none: verifies
  /// nothing), presents `certificate`/`privateKey` when given. Throws ConfigError.
  static std::shared_ptr<const TlsContext> client(const std::string& caFile = {},
                                                  const std::string& certificate = {},
                                                  const std::string& privateKey = {},
                                                  bool tls12Only = false);
  ~TlsContext();

  ssl_ctx_st* native() const noexcept;
  const TlsFiles& files() const noexcept { return files_; }

 private:
  struct Impl;
  explicit TlsContext(std::unique_ptr<Impl> impl, TlsFiles files);
  std::unique_ptr<Impl> impl_;
  TlsFiles files_;
};

/// One connection's TLS state: an SSL object between an input memory BIO (ciphertext the
/// peer sent) and an output memory BIO (ciphertext to send), drained into output().
class TlsEngine {
 public:
  /// nullptr when OpenSSL has no memory for it.
  static std::unique_ptr<TlsEngine> server(std::shared_ptr<const TlsContext> context) noexcept;
  static std::unique_ptr<TlsEngine> client(std::shared_ptr<const TlsContext> context,
                                           const std::string& serverName = {}) noexcept;
  ~TlsEngine();
  TlsEngine(const TlsEngine&) = delete;
  TlsEngine& operator=(const TlsEngine&) = delete;

  /// Ciphertext from the peer; false when there is no memory for it.
  bool feed(const char* data, std::size_t size) noexcept;

  enum class Status { Data, NeedMore, Closed, Failed };
  struct Read {
    Status status;
    std::size_t bytes;  // with Data
  };
  /// The next plaintext, at most `capacity` bytes into `out`. Advances the handshake on the
  /// way (its replies go to output()). Closed: the peer's close_notify; Failed: see error().
  Read read(char* out, std::size_t capacity) noexcept;

  /// Encrypts `size` bytes of plaintext (one record per 16 KiB) onto output(); false on
  /// failure. The handshake must be complete.
  bool write(const char* data, std::size_t size) noexcept;
  /// Queues close_notify on output() (once).
  void shutdown() noexcept;
  bool shutdownSent() const noexcept { return shutdownSent_; }

  /// Ciphertext not yet sent.
  const char* output() const noexcept { return output_.data() + outputOffset_; }
  std::size_t outputSize() const noexcept { return output_.size() - outputOffset_; }
  /// `n` bytes of output() went out.
  void consumeOutput(std::size_t n) noexcept;

  bool handshakeDone() const noexcept;
  /// Why the last read or write failed (OpenSSL's reason), for the log.
  const std::string& error() const noexcept { return error_; }
  /// The negotiated protocol ("TLSv1.3"), for tests and logs.
  std::string_view version() const noexcept;

 private:
  TlsEngine(std::shared_ptr<const TlsContext> context, ssl_st* ssl, bio_st* in, bio_st* out);
  /// Moves what OpenSSL wrote to the output BIO into output_.
  bool drain() noexcept;
  void fail(const char* what) noexcept;

  std::shared_ptr<const TlsContext> context_;
  ssl_st* ssl_;
  bio_st* in_;   // owned by ssl_
  bio_st* out_;  // owned by ssl_
  std::string output_;
  std::size_t outputOffset_ = 0;
  std::string error_;
  bool shutdownSent_ = false;
};

}  // namespace wampd::core
