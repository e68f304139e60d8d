#include "proc_stats.h"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

namespace wampd::bench {

std::int64_t residentKiB(pid_t pid) {
  if (pid <= 0) return -1;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

std::int64_t tcpMemPages() {
  std::ifstream sockstat("/proc/net/sockstat");
  std::string line;
  while (std::getline(sockstat, line)) {
    if (line.rfind("TCP:", 0) != 0) continue;
    std::istringstream fields(line.substr(4));
    std::string name;
    std::int64_t value = 0;
    while (fields >> name >> value)
      if (name == "mem") return value;
  }
  return -1;
}

std::int64_t slabKiB() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  std::int64_t total = 0;
  int found = 0;
  while (std::getline(meminfo, line)) {
    if (line.rfind("SReclaimable:", 0) == 0 || line.rfind("SUnreclaim:", 0) == 0) {
      total += std::stoll(line.substr(line.find(':') + 1));
      ++found;
    }
  }
  return found == 2 ? total : -1;
}

double cpuSeconds(pid_t pid) {
  const CpuTimes t = cpuTimes(pid);
  return t.user < 0 ? -1 : t.user + t.system;
}

CpuTimes cpuTimes(pid_t pid) {
  if (pid <= 0) return {};
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // The command name may hold spaces: fields are counted from after its closing ')'.
  const std::size_t close = text.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  const auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  return CpuTimes{static_cast<double>(utime) / ticks, static_cast<double>(stime) / ticks};
}

}  // namespace wampd::bench
