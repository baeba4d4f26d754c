#include "core/file_io.h"

#include <atomic>
#include <cerrno>
#include <system_error>

#include <fcntl.h>
#include <unistd.h>

namespace quant {
namespace {

namespace fs = std::filesystem;

std::string errno_text(int err) { return std::system_category().message(err); }

std::string temp_name(const fs::path& final_path) {
  static std::atomic<std::uint64_t> counter{0};
  return "." + final_path.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
         std::to_string(counter.fetch_add(1));
}

}  // namespace

Expected<void> fsync_path(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return make_error(path.string() + ": cannot open to fsync: " + errno_text(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return make_error(path.string() + ": fsync: " + errno_text(err));
  return {};
}

Expected<void> write_fully(int fd, std::string_view bytes, const fs::path& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(path.string() + ": write: " + errno_text(errno));
    }
    done += static_cast<std::size_t>(n);
  }
  return {};
}

Expected<void> write_file_atomic(const fs::path& final_path, std::string_view content, const fs::path& temp_dir,
                                 unsigned mode) {
  const fs::path temp = temp_dir / temp_name(final_path);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) return make_error(temp.string() + ": cannot create: " + errno_text(errno));
  if (auto ok = write_fully(fd, content, temp); !ok) {
    ::close(fd);
    ::unlink(temp.c_str());
    return ok;
  }
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    return make_error(temp.string() + ": fsync: " + errno_text(err));
  }
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return make_error(temp.string() + ": close: " + errno_text(err));
  }
  if (::rename(temp.c_str(), final_path.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp.c_str());
    return make_error("cannot rename " + temp.string() + " to " + final_path.string() + ": " + errno_text(err));
  }
  return fsync_path(final_path.has_parent_path() ? final_path.parent_path() : fs::path("."), true);
}

}  // namespace quant
