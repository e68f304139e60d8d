#include "server/file_watcher.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <filesystem>

namespace wampd::core {
namespace {

namespace fs = std::filesystem;

// Writes, renames into place, removals. IN_CLOSE_WRITE rather than IN_MODIFY: a file being
// written in pieces is reported once it is complete.
constexpr std::uint32_t kMask =
    IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_ATTRIB;

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
  for (const auto& [wd, watch] : watches_) ::inotify_rm_watch(stream_.native_handle(), wd);
  watches_.clear();
  std::map<std::string, Watch> wanted;
  for (const std::string& file : files) {
    const fs::path path(file);
    Watch& w = wanted[path.parent_path().string()];
    w.directory = path.parent_path().string();
    w.names.insert(path.filename().string());
  }
  for (const std::string& directory : directories) {
    Watch& w = wanted[directory];
    w.directory = directory;
    w.names.clear();
    w.names.insert("");  // marker: the whole directory
  }
  for (auto& [directory, w] : wanted) {
    const int wd = ::inotify_add_watch(stream_.native_handle(), directory.c_str(), kMask);
    if (wd < 0) continue;
    if (w.names.count("")) w.names.clear();
    watches_[wd] = std::move(w);
  }
  return true;
}

void FileWatcher::read() {
  stream_.async_read_some(asio::buffer(buffer_), [this](const asio::error_code& ec, std::size_t n) {
    if (ec) return;  // closed
    std::size_t offset = 0;
    while (offset + sizeof(inotify_event) <= n) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer_.data() + offset);
      handle(event->wd, event->len ? std::string(event->name) : std::string());
      offset += sizeof(inotify_event) + event->len;
    }
    read();
  });
}

void FileWatcher::handle(int wd, const std::string& name) {
  auto it = watches_.find(wd);
  if (it == watches_.end() || name.empty()) return;
  const Watch& w = it->second;
  if (w.names.empty() ? !relevant(name) : w.names.count(name) == 0) return;
  onChange_((fs::path(w.directory) / name).string());
}

}  // namespace wampd::core
