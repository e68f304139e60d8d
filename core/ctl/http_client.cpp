#include "ctl/http_client.h"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wampd::ctl {
namespace {

using Clock = std::chrono::steady_clock;

// Milliseconds left, at least 0; poll's timeout.
int millisecondsLeft(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

bool waitFor(int fd, short events, Clock::time_point deadline) {
  pollfd p{fd, events, 0};
  for (;;) {
    const int n = ::poll(&p, 1, millisecondsLeft(deadline));
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

class Socket {
 public:
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd_ = -1;
};

// Connects without blocking past the deadline; -1 with a reason on failure.
bool connectTo(const HttpCall& call, Clock::time_point deadline, Socket& socket,
               std::string& error) {
  std::string host = call.host;
  if (host.size() > 1 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), std::to_string(call.port).c_str(), &hints, &found)) {
    error = "cannot resolve " + host + ": " + ::gai_strerror(rc);
    return false;
  }
  error = "no address to connect to";
  for (addrinfo* a = found; a; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0 ||
        (errno == EINPROGRESS && waitFor(fd, POLLOUT, deadline))) {
      int soError = 0;
      socklen_t length = sizeof soError;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length);
      if (soError == 0) {
        socket.fd_ = fd;
        ::freeaddrinfo(found);
        return true;
      }
      error = std::strerror(soError);
    } else {
      error = errno == EINPROGRESS ? "timed out" : std::strerror(errno);
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return false;
}

}  // namespace

bool parseHttpResponse(const std::string& bytes, HttpReply& reply) {
  const std::size_t headersEnd = bytes.find("\r\n\r\n");
  if (headersEnd == std::string::npos || bytes.compare(0, 9, "HTTP/1.1 ") != 0) return false;
  const std::string code = bytes.substr(9, 3);
  if (code.size() != 3 || code.find_first_not_of("0123456789") != std::string::npos) return false;
  reply.status = std::stoi(code);
  reply.body = bytes.substr(headersEnd + 4);
  // Content-Length, when given, must match what came before the server closed.
  std::string headers = bytes.substr(0, headersEnd + 2);
  for (char& c : headers) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::size_t at = headers.find("\r\ncontent-length:");
  if (at != std::string::npos) {
    const std::size_t value = at + 17;
    const std::size_t end = headers.find("\r\n", value);
    const std::string text = headers.substr(value, end - value);
    const std::size_t digits = text.find_first_of("0123456789");
    if (digits == std::string::npos) return false;
    if (std::stoull(text.substr(digits)) != reply.body.size()) return false;
  }
  return true;
}

bool httpExchange(const HttpCall& call, const std::string& shownServer,
                  std::chrono::steady_clock::time_point deadline, HttpReply& reply,
                  std::string& error) {
  Socket socket;
  std::string reason;
  if (!connectTo(call, deadline, socket, reason)) {
    error = "cannot connect to " + shownServer + ": " + reason;
    return false;
  }
  std::string request = call.method + " " + call.path + " HTTP/1.1\r\nHost: " + call.host + ":" +
                        std::to_string(call.port) + "\r\nConnection: close\r\n";
  if (!call.bearerToken.empty()) request += "Authorization: Bearer " + call.bearerToken + "\r\n";
  if (!call.body.empty() || call.method == "POST")
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(call.body.size()) +
        "\r\n";
  request += "\r\n" + call.body;
  for (std::size_t sent = 0; sent < request.size();) {
    if (!waitFor(socket.fd_, POLLOUT, deadline)) {
      error = shownServer + " did not take the request in time";
      return false;
    }
    const ssize_t n =
        ::send(socket.fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      error = "sending to " + shownServer + " failed: " + std::strerror(errno);
      return false;
    }
    if (n > 0) sent += static_cast<std::size_t>(n);
  }
  std::string response;
  char buffer[16384];
  for (;;) {
    if (!waitFor(socket.fd_, POLLIN, deadline)) {
      error = shownServer + " did not answer in time";
      return false;
    }
    const ssize_t n = ::recv(socket.fd_, buffer, sizeof buffer, 0);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      error = "reading from " + shownServer + " failed: " + std::strerror(errno);
      return false;
    }
    response.append(buffer, static_cast<std::size_t>(n));
    if (response.size() > (64u << 20)) {
      error = shownServer + " answered with more than 64 MiB";
      return false;
    }
  }
  if (!parseHttpResponse(response, reply)) {
    error = shownServer + " did not answer with an HTTP/1.1 response";
    return false;
  }
  return true;
}

}  // namespace wampd::ctl
