#include "transport/port_sharing.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <string_view>

namespace wampd::core::ws {
namespace {

constexpr auto kProbeTimeout = std::chrono::seconds(1);
constexpr std::size_t kMaxProbeResponse = 4096;

// Waits for `events` on fd until `deadline`; false on timeout or error.
bool await(int fd, short events, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return (p.revents & events) != 0;
    if (n == 0 || errno != EINTR) return false;
  }
}

struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

void shareListeningPort(int fd) noexcept {
  const int on = 1;
  (void)::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
}

bool heldByDrainingServer(const asio::ip::tcp::endpoint& where) noexcept {
  try {
    asio::ip::tcp::endpoint endpoint = where;
    // A wildcard listener is reached on loopback.
    if (endpoint.address().is_unspecified())
      endpoint.address(endpoint.address().is_v6()
                           ? asio::ip::address(asio::ip::address_v6::loopback())
                           : asio::ip::address(asio::ip::address_v4::loopback()));
    const Fd socket{::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK, 0)};
    if (socket.fd < 0) return false;
    const auto deadline = std::chrono::steady_clock::now() + kProbeTimeout;
    if (::connect(socket.fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0) {
      if (errno != EINPROGRESS || !await(socket.fd, POLLOUT, deadline)) return false;
      int error = 0;
      socklen_t size = sizeof error;
      if (::getsockopt(socket.fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0)
        return false;
    }
    constexpr std::string_view kRequest =
        "GET /health HTTP/1.1\r\nHost: wampd\r\nConnection: close\r\n\r\n";
    if (::send(socket.fd, kRequest.data(), kRequest.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(kRequest.size()))
      return false;
    std::string response;
    char buffer[1024];
    while (response.size() < kMaxProbeResponse && await(socket.fd, POLLIN, deadline)) {
      const ssize_t n = ::recv(socket.fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      response.append(buffer, static_cast<std::size_t>(n));
    }
    // The server's own answer while draining: 503 {"status":"draining"}.
    return response.rfind("HTTP/1.1 503 ", 0) == 0 &&
           response.find("\"draining\"") != std::string::npos;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace wampd::core::ws
