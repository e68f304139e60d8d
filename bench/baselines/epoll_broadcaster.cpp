// The benchmark's baseline: a bare single-threaded epoll WebSocket broadcaster speaking just
// enough WAMP v1 (SUBSCRIBE, PUBLISH -> EVENT, CALL -> null result). Two ways to send:
//   --mode frame  writes each frame to each socket as it is produced (one write per frame);
//   --mode batch  gathers a loop turn's frames per socket and writes them once at its end.
// It is a yardstick, not a server: no limits, no validation beyond what parsing needs.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "upgrade.h"
#include "wamp1_scan.h"

namespace wampd::bench::baseline {
namespace {

struct Peer {
  int fd = -1;
  bool open = false;  // upgraded
  bool closed = false;
  bool dirty = false;
  bool wantsWrite = false;
  std::string in;
  std::string out;
  std::vector<std::string> topics;
};

class Broadcaster {
 public:
  Broadcaster(int port, bool batch) : batch_(batch) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 4096) != 0) {
      std::perror("epoll-broadcaster: listen");
      std::exit(1);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, listener_, &ev);
  }

  void run() {
    std::vector<epoll_event> events(1024);
    std::vector<char> buffer(64 * 1024);
    while (true) {
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), -1);
      for (int i = 0; i < n; ++i) {
        Peer* peer = static_cast<Peer*>(events[i].data.ptr);
        if (!peer) {
          acceptAll();
          continue;
        }
        if (peer->closed) continue;
        if (events[i].events & EPOLLOUT) writeOut(*peer);
        if (!peer->closed && (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
          readFrom(*peer, buffer);
      }
      if (batch_) {
        for (Peer* p : dirty_) {
          p->dirty = false;
          if (!p->closed && !p->wantsWrite) writeOut(*p);
        }
        dirty_.clear();
      }
      for (Peer* p : dead_) forget(*p);
      dead_.clear();
    }
  }

 private:
  void acceptAll() {
    while (true) {
      const int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto peer = std::make_unique<Peer>();
      peer->fd = fd;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = peer.get();
      epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev);
      peers_.emplace(peer.get(), std::move(peer));
    }
  }

  void readFrom(Peer& peer, std::vector<char>& buffer) {
    const ssize_t n = ::read(peer.fd, buffer.data(), buffer.size());
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return close(peer);
    if (n < 0) return;
    peer.in.append(buffer.data(), static_cast<std::size_t>(n));
    if (!peer.open) {
      const std::size_t end = peer.in.find("\r\n\r\n");
      if (end == std::string::npos) return;
      const std::string welcome =
          "[0,\"" + std::to_string(++lastSession_) + "\",1,\"epoll-baseline\"]";
      const std::string response = upgradeResponse(std::string_view(peer.in).substr(0, end + 2),
                                                   textFrameHeader(welcome.size()) + welcome);
      if (response.empty()) return close(peer);
      peer.in.erase(0, end + 4);
      peer.open = true;
      deliver(peer, response);
    }
    std::size_t used = 0;
    ClientFrame frame;
    while (!peer.closed) {
      const std::size_t n2 = readClientFrame(std::string_view(peer.in).substr(used), frame);
      if (n2 == 0) break;
      used += n2;
      if (frame.opcode == 0x8) return close(peer);
      if (frame.opcode == 0x1) onMessage(peer, frame.payload);
    }
    if (!peer.closed) peer.in.erase(0, used);
  }

  void onMessage(Peer& peer, std::string_view message) {
    Scanned m;
    if (!scanWamp1(message, m)) return;
    if (m.type == 5 && !m.first.empty()) {
      topics_[std::string(m.first)].push_back(&peer);
      peer.topics.emplace_back(m.first);
    } else if (m.type == 7 && !m.first.empty()) {
      auto it = topics_.find(std::string(m.first));
      if (it == topics_.end()) return;
      std::string json = "[8,";
      json.append(m.first).append(",").append(m.second).append("]");
      const std::string frame = textFrameHeader(json.size()) + json;
      for (Peer* subscriber : it->second) deliver(*subscriber, frame);
    } else if (m.type == 2 && !m.first.empty()) {
      std::string json = "[3,";
      json.append(m.first).append(",null]");
      deliver(peer, textFrameHeader(json.size()) + json);
    }
  }

  void deliver(Peer& peer, std::string_view frame) {
    if (peer.closed) return;
    if (batch_) {
      peer.out.append(frame);
      if (!peer.dirty) {
        peer.dirty = true;
        dirty_.push_back(&peer);
      }
      return;
    }
    if (!peer.out.empty()) {
      peer.out.append(frame);
      return;
    }
    const ssize_t n = ::write(peer.fd, frame.data(), frame.size());
    if (n == static_cast<ssize_t>(frame.size())) return;
    if (n < 0 && errno != EAGAIN) return close(peer);
    peer.out.assign(frame.substr(n < 0 ? 0 : static_cast<std::size_t>(n)));
    setWantsWrite(peer, true);
  }

  void writeOut(Peer& peer) {
    if (peer.out.empty()) return setWantsWrite(peer, false);
    const ssize_t n = ::write(peer.fd, peer.out.data(), peer.out.size());
    if (n < 0 && errno != EAGAIN) return close(peer);
    if (n > 0) peer.out.erase(0, static_cast<std::size_t>(n));
    setWantsWrite(peer, !peer.out.empty());
  }

  void setWantsWrite(Peer& peer, bool wants) {
    if (peer.wantsWrite == wants || peer.closed) return;
    peer.wantsWrite = wants;
    epoll_event ev{};
    ev.events = EPOLLIN | (wants ? EPOLLOUT : 0u);
    ev.data.ptr = &peer;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, peer.fd, &ev);
  }

  // A closed peer leaves its topics at the end of the loop turn: a broadcast may be
  // iterating over them when a write fails.
  void close(Peer& peer) {
    if (peer.closed) return;
    peer.closed = true;
    ::close(peer.fd);
    dead_.push_back(&peer);
  }

  void forget(Peer& peer) {
    for (const std::string& topic : peer.topics) {
      auto it = topics_.find(topic);
      if (it == topics_.end()) continue;
      auto& list = it->second;
      auto at = std::find(list.begin(), list.end(), &peer);
      if (at != list.end()) {
        *at = list.back();
        list.pop_back();
      }
      if (list.empty()) topics_.erase(it);
    }
    peers_.erase(&peer);
  }

  bool batch_;
  int epoll_ = -1;
  int listener_ = -1;
  std::uint64_t lastSession_ = 0;
  std::unordered_map<Peer*, std::unique_ptr<Peer>> peers_;
  std::unordered_map<std::string, std::vector<Peer*>> topics_;
  std::vector<Peer*> dirty_;
  std::vector<Peer*> dead_;
};

}  // namespace
}  // namespace wampd::bench::baseline

int main(int argc, char** argv) {
  int port = 0;
  bool batch = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--port")
      port = std::atoi(value.c_str());
    else if (flag == "--mode")
      batch = value == "batch";
  }
  if (port <= 0) {
    std::fprintf(stderr, "usage: epoll-broadcaster --port N [--mode frame|batch]\n");
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  wampd::bench::baseline::Broadcaster(port, batch).run();
}
