#include "transport/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <asio/ssl/context.hpp>
#include <climits>
#include <fstream>

#include "common/config_error.h"

namespace wampd::core {
namespace {

// One TLS record's worth of plaintext: more per SSL_write would only make OpenSSL split it.
constexpr std::size_t kRecordPlaintext = 16 * 1024;
// A drained output buffer larger than this is given back rather than kept for the next
// flush (an idle TLS connection should not hold a burst's worth of ciphertext).
constexpr std::size_t kKeptOutputCapacity = 4 * 1024;

std::string opensslReason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

[[noreturn]] void failLoading(const std::string& file, const std::string& what,
                              const asio::error_code& ec) {
  ERR_clear_error();
  throw ConfigError({file}, what + ": " + ec.message());
}

// asio reports a missing file as a PEM error; say plainly that it cannot be read.
void requireReadable(const std::string& file, const std::string& what) {
  std::ifstream in(file);
  if (!in) throw ConfigError({file}, what + ": cannot read the file");
}

}  // namespace

struct TlsContext::Impl {
  explicit Impl(asio::ssl::context::method method) : context(method) {}
  asio::ssl::context context;
};

TlsContext::TlsContext(std::unique_ptr<Impl> impl, TlsFiles files)
    : impl_(std::move(impl)), files_(std::move(files)) {}

TlsContext::~TlsContext() = default;

ssl_ctx_st* TlsContext::native() const noexcept {
  return impl_->context.native_handle();
}

std::shared_ptr<const TlsContext> TlsContext::load(const TlsFiles& files) {
  auto impl = std::make_unique<Impl>(asio::ssl::context::tls_server);
  asio::ssl::context& context = impl->context;
  asio::error_code ec;
  context.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                          asio::ssl::context::no_tlsv1_1 | asio::ssl::context::no_compression,
                      ec);
  SSL_CTX* native = context.native_handle();
  SSL_CTX_set_min_proto_version(native, files.tls13Only ? TLS1_3_VERSION : TLS1_2_VERSION);
  // Idle connections give their 34 KiB of record buffers back to the allocator.
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);

  requireReadable(files.certificate, "server.tls.certificate");
  context.use_certificate_chain_file(files.certificate, ec);
  if (ec)
    failLoading(files.certificate, "server.tls.certificate is not a PEM certificate chain", ec);
  requireReadable(files.privateKey, "server.tls.private_key");
  context.use_private_key_file(files.privateKey, asio::ssl::context::pem, ec);
  if (ec && ERR_GET_REASON(static_cast<unsigned long>(ec.value())) != X509_R_KEY_VALUES_MISMATCH)
    failLoading(files.privateKey, "server.tls.private_key is not a PEM private key", ec);
  if (ec || SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    throw ConfigError({files.privateKey},
                      "server.tls.private_key does not match the certificate " + files.certificate);
  }
  if (!files.ca.empty()) {
    requireReadable(files.ca, "server.tls.ca");
    context.load_verify_file(files.ca, ec);
    if (ec) failLoading(files.ca, "server.tls.ca is not a PEM certificate file", ec);
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.ca.c_str());
    if (!names) {
      ERR_clear_error();
      throw ConfigError({files.ca}, "server.tls.ca holds no certificate");
    }
    SSL_CTX_set_client_CA_list(native, names);
    context.set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert, ec);
  }
  ERR_clear_error();
  return std::shared_ptr<const TlsContext>(new TlsContext(std::move(impl), files));
}

std::shared_ptr<const TlsContext> TlsContext::client(const std::string& caFile,
                                                     const std::string& certificate,
                                                     const std::string& privateKey,
                                                     bool tls12Only) {
  auto impl = std::make_unique<Impl>(asio::ssl::context::tls_client);
  asio::ssl::context& context = impl->context;
  asio::error_code ec;
  SSL_CTX* native = context.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  if (tls12Only) SSL_CTX_set_max_proto_version(native, TLS1_2_VERSION);
  if (!caFile.empty()) {
    context.load_verify_file(caFile, ec);
    if (ec) failLoading(caFile, "CA file", ec);
    context.set_verify_mode(asio::ssl::verify_peer, ec);
  } else {
    context.set_verify_mode(asio::ssl::verify_none, ec);
  }
  if (!certificate.empty()) {
    context.use_certificate_chain_file(certificate, ec);
    if (ec) failLoading(certificate, "client certificate", ec);
    context.use_private_key_file(privateKey, asio::ssl::context::pem, ec);
    if (ec) failLoading(privateKey, "client key", ec);
  }
  ERR_clear_error();
  TlsFiles files;
  files.ca = caFile;
  files.certificate = certificate;
  files.privateKey = privateKey;
  return std::shared_ptr<const TlsContext>(new TlsContext(std::move(impl), std::move(files)));
}

TlsEngine::TlsEngine(std::shared_ptr<const TlsContext> context, ssl_st* ssl, bio_st* in,
                     bio_st* out)
    : context_(std::move(context)), ssl_(ssl), in_(in), out_(out) {}

TlsEngine::~TlsEngine() {
  SSL_free(ssl_);  // frees both BIOs
}

namespace {

// An SSL object between two memory BIOs; nullptr when OpenSSL has no memory.
SSL* newSsl(const TlsContext& context, BIO*& in, BIO*& out) {
  SSL* ssl = SSL_new(context.native());
  in = BIO_new(BIO_s_mem());
  out = BIO_new(BIO_s_mem());
  if (!ssl || !in || !out) {
    SSL_free(ssl);
    BIO_free(in);
    BIO_free(out);
    ERR_clear_error();
    return nullptr;
  }
  // An empty input BIO means "wait for more", not end of stream.
  BIO_set_mem_eof_return(in, -1);
  BIO_set_mem_eof_return(out, -1);
  SSL_set_bio(ssl, in, out);
  return ssl;
}

}  // namespace

std::unique_ptr<TlsEngine> TlsEngine::server(std::shared_ptr<const TlsContext> context) noexcept {
  BIO *in = nullptr, *out = nullptr;
  SSL* ssl = newSsl(*context, in, out);
  if (!ssl) return nullptr;
  SSL_set_accept_state(ssl);
  try {
    return std::unique_ptr<TlsEngine>(new TlsEngine(std::move(context), ssl, in, out));
  } catch (const std::bad_alloc&) {
    SSL_free(ssl);
    return nullptr;
  }
}

std::unique_ptr<TlsEngine> TlsEngine::client(std::shared_ptr<const TlsContext> context,
                                             const std::string& serverName) noexcept {
  BIO *in = nullptr, *out = nullptr;
  SSL* ssl = newSsl(*context, in, out);
  if (!ssl) return nullptr;
  if (!serverName.empty()) {
    SSL_set_tlsext_host_name(ssl, serverName.c_str());
    SSL_set1_host(ssl, serverName.c_str());
  }
  SSL_set_connect_state(ssl);
  std::unique_ptr<TlsEngine> engine;
  try {
    engine.reset(new TlsEngine(std::move(context), ssl, in, out));
  } catch (const std::bad_alloc&) {
    SSL_free(ssl);
    return nullptr;
  }
  // The client speaks first: its ClientHello is output() right away.
  SSL_do_handshake(ssl);
  ERR_clear_error();
  if (!engine->drain()) return nullptr;
  return engine;
}

bool TlsEngine::feed(const char* data, std::size_t size) noexcept {
  while (size > 0) {
    const int chunk = static_cast<int>(std::min<std::size_t>(size, INT_MAX));
    const int n = BIO_write(in_, data, chunk);
    if (n <= 0) {
      fail("no memory for TLS input");
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

TlsEngine::Read TlsEngine::read(char* out, std::size_t capacity) noexcept {
  ERR_clear_error();
  const int n = SSL_read(ssl_, out, static_cast<int>(std::min<std::size_t>(capacity, INT_MAX)));
  // Handshake replies, alerts and TLS 1.3 session tickets come out of reads too.
  if (!drain()) return {Status::Failed, 0};
  if (n > 0) return {Status::Data, static_cast<std::size_t>(n)};
  switch (SSL_get_error(ssl_, n)) {
    case SSL_ERROR_WANT_READ:
      return {Status::NeedMore, 0};
    case SSL_ERROR_ZERO_RETURN:
      return {Status::Closed, 0};
    default:
      fail(nullptr);
      return {Status::Failed, 0};
  }
}

bool TlsEngine::write(const char* data, std::size_t size) noexcept {
  ERR_clear_error();
  while (size > 0) {
    const std::size_t chunk = std::min(size, kRecordPlaintext);
    const int n = SSL_write(ssl_, data, static_cast<int>(chunk));
    if (n <= 0) {
      fail(nullptr);
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return drain();
}

void TlsEngine::shutdown() noexcept {
  if (shutdownSent_) return;
  shutdownSent_ = true;
  ERR_clear_error();
  if (SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);
  ERR_clear_error();
  drain();
}

bool TlsEngine::drain() noexcept {
  const std::size_t pending = BIO_ctrl_pending(out_);
  if (pending == 0) return true;
  try {
    if (outputOffset_ > 0 && outputOffset_ == output_.size()) {
      output_.clear();
      outputOffset_ = 0;
    }
    const std::size_t at = output_.size();
    output_.resize(at + pending);
    const int n = BIO_read(out_, output_.data() + at, static_cast<int>(pending));
    output_.resize(at + static_cast<std::size_t>(n > 0 ? n : 0));
  } catch (const std::bad_alloc&) {
    fail("no memory for TLS output");
    return false;
  }
  return true;
}

void TlsEngine::consumeOutput(std::size_t n) noexcept {
  outputOffset_ += n;
  if (outputOffset_ < output_.size()) return;
  outputOffset_ = 0;
  if (output_.capacity() > kKeptOutputCapacity)
    std::string().swap(output_);
  else
    output_.clear();
}

bool TlsEngine::handshakeDone() const noexcept {
  return SSL_is_init_finished(ssl_) == 1;
}

std::string_view TlsEngine::version() const noexcept {
  return SSL_get_version(ssl_);
}

void TlsEngine::fail(const char* what) noexcept {
  try {
    if (what) {
      error_ = what;
    } else {
      error_ = opensslReason();
      if (const long verify = SSL_get_verify_result(ssl_); verify != X509_V_OK)
        error_ += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
    }
  } catch (const std::bad_alloc&) {
  }
  ERR_clear_error();
}

}  // namespace wampd::core
