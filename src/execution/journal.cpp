#include "execution/journal.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace quant::execution {

namespace {

std::string os_error(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

}  // namespace

Expected<Journal> Journal::open(const std::string& path) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return make_error("journal: cannot create " + parent.string() + ": " + ec.message());

  Journal j;
  j.path_ = path;
  std::string text;
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream all;
      all << in.rdbuf();
      text = all.str();
    }
  }
  std::size_t start = 0, line = 0, good_end = 0;
  while (start < text.size()) {
    ++line;
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string::npos) {
      // No newline: the write of this record was cut by a crash.
      j.torn_bytes_ = text.size() - start;
      break;
    }
    auto record = nlohmann::json::parse(text.begin() + static_cast<std::ptrdiff_t>(start),
                                        text.begin() + static_cast<std::ptrdiff_t>(nl), nullptr, false);
    if (record.is_discarded() || !record.is_object()) {
      return make_error("journal: " + path + ":" + std::to_string(line) + ": not a JSON object (the file is damaged)");
    }
    j.recovered_.push_back(std::move(record));
    start = nl + 1;
    good_end = start;
  }
  j.fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (j.fd_ < 0) return make_error(os_error("journal: cannot open", path));
  if (::ftruncate(j.fd_, static_cast<off_t>(good_end)) != 0)
    return make_error(os_error("journal: cannot truncate", path));
  if (::lseek(j.fd_, 0, SEEK_END) < 0) return make_error(os_error("journal: cannot seek", path));
  if (j.torn_bytes_ > 0 && ::fsync(j.fd_) != 0) return make_error(os_error("journal: cannot fsync", path));
  return j;
}

Journal::Journal(Journal&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      pending_(std::move(other.pending_)),
      recovered_(std::move(other.recovered_)),
      torn_bytes_(other.torn_bytes_) {}

Journal& Journal::operator=(Journal&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    pending_ = std::move(other.pending_);
    recovered_ = std::move(other.recovered_);
    torn_bytes_ = other.torn_bytes_;
  }
  return *this;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::append(const nlohmann::json& record) {
  pending_ += record.dump();
  pending_ += '\n';
}

Expected<void> Journal::sync() {
  if (pending_.empty()) return {};
  std::size_t done = 0;
  while (done < pending_.size()) {
    const ssize_t n = ::write(fd_, pending_.data() + done, pending_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error(os_error("journal: write failed for", path_));
    }
    done += static_cast<std::size_t>(n);
  }
  pending_.clear();
  if (::fdatasync(fd_) != 0) return make_error(os_error("journal: fsync failed for", path_));
  return {};
}

}  // namespace quant::execution
