#include "reload/file_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <filesystem>

namespace wampd::core {
namespace {

namespace fs = std::filesystem;

// Writes, renames into place, removals. IN_CLOSE_WRITE rather than IN_MODIFY: a file being
// written in pieces is reported once it is complete.
constexpr std::uint32_t kMask =
    IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB;

bool relevant(const std::string& name) {
  const std::string extension = fs::path(name).extension().string();
  return extension == ".so" || extension == ".yml" || extension == ".yaml";
}

}  // namespace

FileWatcher::FileWatcher(asio::io_context& io, ChangeCallback onChange)
    : stream_(io), onChange_(std::move(onChange)) {
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return;
  stream_.assign(fd);
  available_ = true;
  read();
}

FileWatcher::~FileWatcher() {
  stop();
}

void FileWatcher::stop() {
  available_ = false;
  watches_.clear();
  asio::error_code ignored;
  stream_.close(ignored);
}

bool FileWatcher::watch(const std::vector<std::string>& files,
                        const std::vector<std::string>& directories) {
  if (!available_) return false;
  std::map<std::string, std::set<std::string>> wanted;  // directory -> names ({} = all)
  for (const std::string& file : files) {
    const fs::path path(file);
    auto& names = wanted[path.parent_path().string()];
    if (!names.count("")) names.insert(path.filename().string());
  }
  for (const std::string& directory : directories) wanted[directory] = {""};
  // inotify_add_watch on a watched directory returns its existing descriptor, so a watch
  // that stays keeps the events already queued for it; only the difference changes.
  std::map<int, Watch> next;
  for (auto& [directory, names] : wanted) {
    const int wd = ::inotify_add_watch(stream_.native_handle(), directory.c_str(), kMask);
    if (wd < 0) continue;
    if (names.count("")) names.clear();
    next[wd] = Watch{directory, std::move(names)};
  }
  for (const auto& [wd, old] : watches_)
    if (!next.count(wd)) ::inotify_rm_watch(stream_.native_handle(), wd);
  watches_ = std::move(next);
  return true;
}

void FileWatcher::read() {
  stream_.async_read_some(asio::buffer(buffer_), [this](const asio::error_code& ec, std::size_t n) {
    if (ec) return;  // closed
    std::size_t offset = 0;
    while (offset + sizeof(inotify_event) <= n) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer_.data() + offset);
      handle(event->wd, event->mask, event->len ? std::string(event->name) : std::string());
      offset += sizeof(inotify_event) + event->len;
    }
    read();
  });
}

void FileWatcher::handle(int wd, std::uint32_t mask, const std::string& name) {
  auto it = watches_.find(wd);
  if (it == watches_.end() || name.empty()) return;
  const Watch& w = it->second;
  if (w.names.empty() ? !relevant(name) : w.names.count(name) == 0) return;
  const std::string path = (fs::path(w.directory) / name).string();
  // A file created or truncated is being written until it is closed: a reload must not
  // read it half-written (an empty routing file is valid and would drop its routes).
  if (mask & (IN_CREATE | IN_MODIFY)) {
    writing_.insert(path);
    if (mask & IN_MODIFY) return;
  }
  if (mask & (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM)) writing_.erase(path);
  onChange_(path);
}

}  // namespace wampd::core
