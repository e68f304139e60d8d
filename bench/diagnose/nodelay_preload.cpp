// A diagnostic, not part of any measured server: LD_PRELOAD'ed into wampd, it sets
// TCP_NODELAY on every accepted socket. wampd asks websocketpp for TCP_NODELAY in its socket
// init handler, which websocketpp calls before the socket is open, so the option never
// reaches the kernel; with this library the benchmark shows what the fix is worth
// (run_bench.py --servers ...,wampd-nodelay).
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace {

int withNoDelay(int fd) {
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

}  // namespace

extern "C" int accept(int socket, sockaddr* address, socklen_t* length) {
  using Accept = int (*)(int, sockaddr*, socklen_t*);
  static auto real = reinterpret_cast<Accept>(dlsym(RTLD_NEXT, "accept"));
  return withNoDelay(real(socket, address, length));
}

extern "C" int accept4(int socket, sockaddr* address, socklen_t* length, int flags) {
  using Accept4 = int (*)(int, sockaddr*, socklen_t*, int);
  static auto real = reinterpret_cast<Accept4>(dlsym(RTLD_NEXT, "accept4"));
  return withNoDelay(real(socket, address, length, flags));
}
