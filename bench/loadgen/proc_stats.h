// The server process as /proc sees it: resident memory and CPU time.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace wampd::bench {

/// VmRSS of `pid` in KiB, or -1 when it cannot be read.
std::int64_t residentKiB(pid_t pid);
struct CpuTimes {
  double user = -1;    // seconds in user space, all threads
  double system = -1;  // seconds in the kernel (system calls, the TCP stack on loopback)
};
/// CPU time of `pid` (all threads); -1 values when it cannot be read.
CpuTimes cpuTimes(pid_t pid);
/// The "mem" field of /proc/net/sockstat's TCP line: pages (4 KiB) the kernel holds in TCP
/// socket buffers, machine-wide (on loopback both ends of every connection count); -1 when
/// it cannot be read.
std::int64_t tcpMemPages();
/// Slab memory (SReclaimable + SUnreclaim in /proc/meminfo) in KiB, machine-wide: where the
/// kernel keeps its per-socket objects (sock, file, epoll item); -1 when it cannot be read.
std::int64_t slabKiB();
/// User plus system CPU time of `pid` in seconds, or -1.
double cpuSeconds(pid_t pid);

}  // namespace wampd::bench
