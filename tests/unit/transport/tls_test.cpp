// The TLS engine against an OpenSSL client engine, in memory: handshakes, data both ways,
// records cut anywhere, close_notify, bad input; and the context's refusals naming the file.
// Keys and certificates are made at test time with the `openssl` command (none committed).
#include "transport/tls.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/config_error.h"

namespace {

using namespace wampd::core;
namespace fs = std::filesystem;

void run(const std::string& command) {
  INFO(command);
  REQUIRE(std::system((command + " >/dev/null 2>&1").c_str()) == 0);
}

// A CA, a server certificate it signed for localhost, a client certificate from it, and a
// client certificate from another CA; made once per process.
struct Pki {
  Pki() : dir(fs::temp_directory_path() / ("wampd-tls-test-" + std::to_string(::getpid()))) {
    fs::create_directories(dir);
    const std::string d = dir.string();
    auto key = [&](const std::string& name) {
      run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + d + "/" + name +
          ".key");
    };
    auto ca = [&](const std::string& name) {
      key(name);
      run("openssl req -x509 -new -key " + d + "/" + name + ".key -out " + d + "/" + name +
          ".crt -days 2 -subj /CN=" + name);
    };
    auto leaf = [&](const std::string& name, const std::string& issuer) {
      key(name);
      run("openssl req -new -key " + d + "/" + name + ".key -out " + d + "/" + name +
          ".csr -subj /CN=localhost");
      std::ofstream(d + "/" + name + ".ext") << "subjectAltName=DNS:localhost\n";
      run("openssl x509 -req -in " + d + "/" + name + ".csr -CA " + d + "/" + issuer +
          ".crt -CAkey " + d + "/" + issuer + ".key -set_serial 7 -days 2 -out " + d + "/" + name +
          ".crt -extfile " + d + "/" + name + ".ext");
    };
    ca("ca");
    ca("other");
    leaf("server", "ca");
    leaf("client", "ca");
    leaf("stranger", "other");
  }
  ~Pki() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string operator()(const std::string& file) const { return (dir / file).string(); }
  fs::path dir;
};

const Pki& pki() {
  static const Pki instance;
  return instance;
}

TlsFiles serverFiles() {
  TlsFiles files;
  files.certificate = pki()("server.crt");
  files.privateKey = pki()("server.key");
  return files;
}

// Moves what each side has to say to the other until neither has anything; false when one
// side failed.
bool exchange(TlsEngine& client, TlsEngine& server, std::string& toClient, std::string& toServer) {
  char buffer[4096];
  for (int round = 0; round < 100; ++round) {
    bool moved = false;
    if (client.outputSize() > 0) {
      server.feed(client.output(), client.outputSize());
      client.consumeOutput(client.outputSize());
      moved = true;
    }
    for (;;) {
      const TlsEngine::Read r = server.read(buffer, sizeof buffer);
      if (r.status == TlsEngine::Status::Failed) return false;
      if (r.status != TlsEngine::Status::Data) break;
      toServer.append(buffer, r.bytes);
    }
    if (server.outputSize() > 0) {
      client.feed(server.output(), server.outputSize());
      server.consumeOutput(server.outputSize());
      moved = true;
    }
    for (;;) {
      const TlsEngine::Read r = client.read(buffer, sizeof buffer);
      if (r.status == TlsEngine::Status::Failed) return false;
      if (r.status != TlsEngine::Status::Data) break;
      toClient.append(buffer, r.bytes);
    }
    if (!moved) return true;
  }
  return true;
}

struct Pair {
  explicit Pair(std::shared_ptr<const TlsContext> serverContext,
                std::shared_ptr<const TlsContext> clientContext)
      : server(TlsEngine::server(std::move(serverContext))),
        client(TlsEngine::client(std::move(clientContext), "localhost")) {
    REQUIRE(server);
    REQUIRE(client);
  }
  bool handshake() { return exchange(*client, *server, toClient, toServer); }
  std::unique_ptr<TlsEngine> server, client;
  std::string toClient, toServer;
};

ConfigError loadError(const TlsFiles& files) {
  try {
    TlsContext::load(files);
  } catch (const ConfigError& e) {
    return e;
  }
  FAIL("no ConfigError");
  return ConfigError({}, "");
}

}  // namespace

TEST_CASE("a handshake, then data both ways, the server's large enough for several records") {
  Pair pair(TlsContext::load(serverFiles()), TlsContext::client(pki()("ca.crt")));
  REQUIRE(pair.handshake());
  CHECK(pair.server->handshakeDone());
  CHECK(pair.client->handshakeDone());
  CHECK(pair.server->version() == "TLSv1.3");

  REQUIRE(pair.client->write("GET / HTTP/1.1\r\n\r\n", 18));
  std::string big(100 * 1024, 'x');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  REQUIRE(pair.server->write(big.data(), big.size()));
  // Seven records of at most 16 KiB, each with its header and tag.
  CHECK(pair.server->outputSize() > big.size());
  REQUIRE(pair.handshake());
  CHECK(pair.toServer == "GET / HTTP/1.1\r\n\r\n");
  CHECK(pair.toClient == big);
  CHECK(pair.server->outputSize() == 0);
}

TEST_CASE("records cut anywhere are read once whole: one byte at a time") {
  Pair pair(TlsContext::load(serverFiles()), TlsContext::client(pki()("ca.crt")));
  REQUIRE(pair.handshake());
  const std::string message = "[7,\"oro/data/update\",{\"a\":1}]";
  REQUIRE(pair.client->write(message.data(), message.size()));
  const std::string cipher(pair.client->output(), pair.client->outputSize());
  pair.client->consumeOutput(cipher.size());
  char buffer[256];
  std::string received;
  for (std::size_t i = 0; i < cipher.size(); ++i) {
    REQUIRE(pair.server->feed(&cipher[i], 1));
    const TlsEngine::Read r = pair.server->read(buffer, sizeof buffer);
    if (i + 1 < cipher.size()) {
      CHECK(r.status == TlsEngine::Status::NeedMore);
    } else {
      REQUIRE(r.status == TlsEngine::Status::Data);
      received.assign(buffer, r.bytes);
    }
  }
  CHECK(received == message);
}

TEST_CASE("plaintext read into a small buffer comes out in pieces, none lost") {
  Pair pair(TlsContext::load(serverFiles()), TlsContext::client(pki()("ca.crt")));
  REQUIRE(pair.handshake());
  const std::string message(1000, 'm');
  REQUIRE(pair.client->write(message.data(), message.size()));
  pair.server->feed(pair.client->output(), pair.client->outputSize());
  pair.client->consumeOutput(pair.client->outputSize());
  char buffer[100];
  std::string received;
  for (;;) {
    const TlsEngine::Read r = pair.server->read(buffer, sizeof buffer);
    if (r.status != TlsEngine::Status::Data) break;
    CHECK(r.bytes <= sizeof buffer);
    received.append(buffer, r.bytes);
  }
  CHECK(received == message);
}

TEST_CASE("close_notify reads as the end of the stream") {
  Pair pair(TlsContext::load(serverFiles()), TlsContext::client(pki()("ca.crt")));
  REQUIRE(pair.handshake());
  pair.client->shutdown();
  CHECK(pair.client->shutdownSent());
  REQUIRE(pair.client->outputSize() > 0);
  pair.server->feed(pair.client->output(), pair.client->outputSize());
  char buffer[64];
  CHECK(pair.server->read(buffer, sizeof buffer).status == TlsEngine::Status::Closed);
}

TEST_CASE("bad input fails the engine with OpenSSL's reason") {
  char buffer[256];
  SUBCASE("plain HTTP on a TLS port") {
    auto server = TlsEngine::server(TlsContext::load(serverFiles()));
    const std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    server->feed(http.data(), http.size());
    CHECK(server->read(buffer, sizeof buffer).status == TlsEngine::Status::Failed);
    CHECK(server->error().find("http request") != std::string::npos);
  }
  SUBCASE("garbage") {
    auto server = TlsEngine::server(TlsContext::load(serverFiles()));
    std::string garbage(300, '\0');
    for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 37);
    server->feed(garbage.data(), garbage.size());
    CHECK(server->read(buffer, sizeof buffer).status == TlsEngine::Status::Failed);
    CHECK_FALSE(server->error().empty());
  }
  SUBCASE("a record tampered with after the handshake") {
    Pair pair(TlsContext::load(serverFiles()), TlsContext::client(pki()("ca.crt")));
    REQUIRE(pair.handshake());
    REQUIRE(pair.client->write("hello", 5));
    std::string cipher(pair.client->output(), pair.client->outputSize());
    cipher[cipher.size() - 3] ^= 1;  // in the tag
    pair.server->feed(cipher.data(), cipher.size());
    CHECK(pair.server->read(buffer, sizeof buffer).status == TlsEngine::Status::Failed);
  }
  SUBCASE("a client that does not trust the server's CA") {
    Pair pair(TlsContext::load(serverFiles()), TlsContext::client(pki()("other.crt")));
    CHECK_FALSE(pair.handshake());
  }
}

TEST_CASE("with a CA, client certificates are required and verified") {
  TlsFiles files = serverFiles();
  files.ca = pki()("ca.crt");
  const auto context = TlsContext::load(files);
  {
    Pair pair(context,
              TlsContext::client(pki()("ca.crt"), pki()("client.crt"), pki()("client.key")));
    CHECK(pair.handshake());
    REQUIRE(pair.client->write("hi", 2));
    CHECK(pair.handshake());
    CHECK(pair.toServer == "hi");
  }
  {
    Pair pair(context, TlsContext::client(pki()("ca.crt")));
    CHECK_FALSE(pair.handshake());
    CHECK(pair.server->error().find("certificate") != std::string::npos);
  }
  {
    Pair pair(context,
              TlsContext::client(pki()("ca.crt"), pki()("stranger.crt"), pki()("stranger.key")));
    CHECK_FALSE(pair.handshake());
  }
}

TEST_CASE("min_version 1.3 refuses a TLS 1.2 client; the default serves it") {
  const auto only12 = TlsContext::client(pki()("ca.crt"), {}, {}, /*tls12Only=*/true);
  TlsFiles files = serverFiles();
  files.tls13Only = true;
  Pair refused(TlsContext::load(files), only12);
  CHECK_FALSE(refused.handshake());
  Pair served(TlsContext::load(serverFiles()), only12);
  CHECK(served.handshake());
  CHECK(served.server->version() == "TLSv1.2");
}

TEST_CASE("a context that cannot load names the file at fault") {
  TlsFiles files = serverFiles();
  SUBCASE("a missing certificate") {
    files.certificate = pki()("missing.crt");
    const ConfigError e = loadError(files);
    CHECK(e.where().file == files.certificate);
    CHECK(e.detail().find("cannot read") != std::string::npos);
  }
  SUBCASE("a certificate that is not PEM") {
    files.certificate = pki()("server.ext");
    CHECK(loadError(files).where().file == files.certificate);
  }
  SUBCASE("a key that does not match the certificate") {
    files.privateKey = pki()("client.key");
    const ConfigError e = loadError(files);
    CHECK(e.where().file == files.privateKey);
    CHECK(e.detail().find("does not match") != std::string::npos);
  }
  SUBCASE("a CA file that holds no certificate") {
    files.ca = pki()("server.ext");
    CHECK(loadError(files).where().file == files.ca);
  }
}

TEST_CASE("an engine keeps its context when the last other owner lets go (a reload)") {
  auto context = TlsContext::load(serverFiles());
  auto server = TlsEngine::server(context);
  auto client = TlsEngine::client(TlsContext::client(pki()("ca.crt")), "localhost");
  context.reset();
  std::string a, b;
  CHECK(exchange(*client, *server, a, b));
  CHECK(server->handshakeDone());
}
