#include "replay/journal.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <unistd.h>

namespace quant::replay {

namespace bridge = execution::bridge;

namespace {
std::string errno_text() { return std::strerror(errno); }

Expected<void> fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return make_error("replay: journal: cannot open " + dir + ": " + errno_text());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return make_error("replay: journal: fsync " + dir + ": " + errno_text());
  return {};
}
}  // namespace

Journal::Journal(Journal&& other) noexcept { *this = std::move(other); }

Journal& Journal::operator=(Journal&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    orders_ = std::move(other.orders_);
    position_ = other.position_;
    written_position_ = other.written_position_;
    last_position_write_ = other.last_position_write_;
  }
  return *this;
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

Expected<Journal> Journal::open(const std::string& dir, const std::string& fingerprint) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error("replay: --state " + dir + ": cannot create the directory: " + ec.message());
  Journal j;
  j.path_ = dir + "/journal.log";
  std::string text;
  {
    std::ifstream in(j.path_, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  // A line the process did not finish writing is not a record.
  const std::size_t complete = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  const bool existed = std::filesystem::exists(j.path_);
  j.fd_ = ::open(j.path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (j.fd_ < 0) return make_error("replay: journal: cannot open " + j.path_ + ": " + errno_text());
  if (complete < text.size()) {
    if (::ftruncate(j.fd_, static_cast<off_t>(complete)) != 0 || ::fsync(j.fd_) != 0)
      return make_error("replay: journal: cannot cut the torn last line of " + j.path_ + ": " + errno_text());
    text.resize(complete);
  }
  if (!existed) {
    if (auto d = fsync_dir(dir); !d) return tl::unexpected(d.error());
  }
  std::size_t line_no = 0, start = 0;
  bool have_header = false;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++line_no;
    const std::string where = j.path_ + ":" + std::to_string(line_no);
    if (line.size() < 2 || line[1] != ' ') return make_error("replay: journal " + where + ": unreadable line");
    const std::string_view rest = line.substr(2);
    switch (line[0]) {
      case 'H':
        if (rest != fingerprint) {
          return make_error("replay: --state " + dir + " belongs to another replay (" + std::string(rest) +
                            "; this one is " + fingerprint + "): use another --state directory");
        }
        have_header = true;
        break;
      case 'P': j.position_ = std::max<std::int64_t>(j.position_, std::stoll(std::string(rest))); break;
      case 'O': {
        const std::size_t space = rest.find(' ');
        if (space == std::string_view::npos) return make_error("replay: journal " + where + ": unreadable order line");
        const std::int64_t index = std::stoll(std::string(rest.substr(0, space)));
        auto message = bridge::decode(rest.substr(space + 1));
        if (!message) return make_error("replay: journal " + where + ": " + message.error().message);
        j.orders_.push_back({index, std::move(message->body)});
        j.position_ = std::max(j.position_, index);
        break;
      }
      default: return make_error("replay: journal " + where + ": unknown record '" + std::string(1, line[0]) + "'");
    }
  }
  j.written_position_ = j.position_;
  if (!have_header) {
    if (auto w = j.write_line("H " + fingerprint); !w) return tl::unexpected(w.error());
  }
  return j;
}

Expected<void> Journal::write_line(const std::string& line) {
  if (fd_ < 0) return {};
  std::string data = line + "\n";
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("replay: journal: write " + path_ + ": " + errno_text());
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return make_error("replay: journal: fsync " + path_ + ": " + errno_text());
  return {};
}

Expected<void> Journal::append_order(std::int64_t index, const bridge::Body& body) {
  bridge::Message m;
  m.seq = 1;  // the codec wants a wire seq; the journal keeps none
  m.body = body;
  if (auto w = write_line("O " + std::to_string(index) + " " + bridge::encode(m)); !w) return w;
  orders_.push_back({index, body});
  position_ = std::max(position_, index);
  return {};
}

Expected<void> Journal::note_position(std::int64_t events, bool force) {
  position_ = std::max(position_, events);
  if (position_ == written_position_) return {};
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_position_write_ < std::chrono::seconds(1)) return {};
  last_position_write_ = now;
  written_position_ = position_;
  return write_line("P " + std::to_string(position_));
}

}  // namespace quant::replay
