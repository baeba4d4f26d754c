#include "lake/bar_cache.h"

#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sha256.h"

namespace quant::lake {
namespace {

namespace fs = std::filesystem;

constexpr char kMagic[8] = {'Q', 'B', 'A', 'R', 'C', 'A', 'C', '1'};
constexpr std::uint32_t kByteOrderMark = 0x01020304;
constexpr std::uint32_t kFormatVersion = 2;
/// Bars per checksummed block: a block is checked before any of its bars is handed out.
constexpr std::int64_t kBlockBars = 16384;

using DiskBar = CachedBar;
static_assert(sizeof(DiskBar) == 64);

struct Header {
  char magic[8];
  std::uint32_t byte_order;
  std::uint32_t version;
  std::uint32_t record_size;
  std::uint32_t reserved;
  std::int64_t rows;
  std::int64_t source_size;
  std::int64_t source_mtime_ns;
  std::uint64_t source_inode;
  std::uint64_t blocks;  ///< checksums after the bars, one per block of kBlockBars
  char source_sha256[64];
};
static_assert(sizeof(Header) == 128);

struct SourceStat {
  std::int64_t size = 0, mtime_ns = 0;
  std::uint64_t inode = 0;
};

std::optional<SourceStat> stat_source(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return SourceStat{static_cast<std::int64_t>(st.st_size),
                    static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
                    static_cast<std::uint64_t>(st.st_ino)};
}

/// Fletcher-style sum over the bars' fields (two lanes, order-sensitive).
struct Checksum {
  std::uint64_t a = 0, b = 0;
  void add(std::uint64_t word) {
    a += word;
    b += a;
  }
  void add(const DiskBar& d) {
    add(static_cast<std::uint64_t>(d.ts));
    add(std::bit_cast<std::uint64_t>(d.open));
    add(std::bit_cast<std::uint64_t>(d.high));
    add(std::bit_cast<std::uint64_t>(d.low));
    add(std::bit_cast<std::uint64_t>(d.close));
    add(static_cast<std::uint64_t>(d.tick_volume));
    add(std::bit_cast<std::uint64_t>(d.volume));
    add(static_cast<std::uint64_t>(static_cast<std::uint32_t>(d.spread)));
  }
  std::uint64_t value() const { return a ^ (b * 0x9E3779B97F4A7C15ULL); }
};

/// All of `bytes` through pread or pwrite at `offset` (short transfers and EINTR retried).
template <class Transfer, class Byte>
bool transfer_all(Transfer transfer, int fd, Byte* p, std::size_t bytes, off_t offset) {
  while (bytes > 0) {
    const ssize_t n = transfer(fd, p, bytes, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    p += n;
    bytes -= static_cast<std::size_t>(n);
    offset += n;
  }
  return true;
}

bool read_all(int fd, void* out, std::size_t bytes, off_t offset) {
  return transfer_all(::pread, fd, static_cast<char*>(out), bytes, offset);
}

bool write_all(int fd, const void* data, std::size_t bytes, off_t offset) {
  return transfer_all(::pwrite, fd, static_cast<const char*>(data), bytes, offset);
}

}  // namespace

std::string bar_cache_path(const std::string& parquet_path) {
  return (fs::path(parquet_path).parent_path() / ".bars.cache").string();
}

// ---------------------------------------------------------------- reader

std::optional<BarCacheReader> BarCacheReader::open(const std::string& parquet_path) {
  const auto source = stat_source(parquet_path);
  if (!source) return std::nullopt;
  BarCacheReader reader;
  reader.path_ = bar_cache_path(parquet_path);
  reader.fd_ = ::open(reader.path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (reader.fd_ < 0) return std::nullopt;
  Header header{};
  struct stat st {};
  if (!read_all(reader.fd_, &header, sizeof header, 0) || ::fstat(reader.fd_, &st) != 0) return std::nullopt;
  const std::int64_t blocks = (header.rows + kBlockBars - 1) / kBlockBars;
  if (std::memcmp(header.magic, kMagic, sizeof kMagic) != 0 || header.byte_order != kByteOrderMark ||
      header.version != kFormatVersion || header.record_size != sizeof(DiskBar) || header.rows < 0 ||
      static_cast<std::int64_t>(header.blocks) != blocks ||
      st.st_size != static_cast<off_t>(sizeof(Header) + header.rows * sizeof(DiskBar) + blocks * 8)) {
    return std::nullopt;
  }
  const bool same_stat = header.source_size == source->size && header.source_mtime_ns == source->mtime_ns &&
                         header.source_inode == source->inode;
  if (!same_stat) {
    // Touched, copied or restored: still ours when the content is the same.
    if (header.source_size != source->size) return std::nullopt;
    auto hash = sha256_file_hex(parquet_path);
    if (!hash || hash->size() != sizeof header.source_sha256 ||
        std::memcmp(hash->data(), header.source_sha256, sizeof header.source_sha256) != 0) {
      return std::nullopt;
    }
    // Record the file's new stat, so the next read takes the fast path instead
    // of hashing again (best effort: a read-only lake hashes each time).
    header.source_mtime_ns = source->mtime_ns;
    header.source_inode = source->inode;
    if (const int fd = ::open(reader.path_.c_str(), O_WRONLY | O_CLOEXEC); fd >= 0) {
      (void)write_all(fd, &header, sizeof header, 0);
      ::close(fd);
    }
  }
  reader.rows_ = header.rows;
  reader.sums_.resize(static_cast<std::size_t>(blocks));
  if (!read_all(reader.fd_, reader.sums_.data(), reader.sums_.size() * 8,
                static_cast<off_t>(sizeof(Header) + header.rows * sizeof(DiskBar)))) {
    return std::nullopt;
  }
  return reader;
}

BarCacheReader::BarCacheReader(BarCacheReader&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      rows_(other.rows_),
      next_(other.next_),
      sums_(std::move(other.sums_)),
      block_(std::move(other.block_)),
      block_pos_(other.block_pos_) {}

BarCacheReader& BarCacheReader::operator=(BarCacheReader&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    rows_ = other.rows_;
    next_ = other.next_;
    sums_ = std::move(other.sums_);
    block_ = std::move(other.block_);
    block_pos_ = other.block_pos_;
  }
  return *this;
}

BarCacheReader::~BarCacheReader() {
  if (fd_ >= 0) ::close(fd_);
}

Expected<std::size_t> BarCacheReader::read(std::vector<Bar>& out, std::size_t max, std::int64_t from_ns,
                                           std::int64_t to_ns) {
  if (block_pos_ == block_.size()) {
    // The next block, checked whole before any of its bars is used.
    const std::int64_t n = std::min(kBlockBars, rows_ - next_);
    if (n <= 0) return std::size_t{0};
    block_.resize(static_cast<std::size_t>(n));
    block_pos_ = 0;
    if (!read_all(fd_, block_.data(), block_.size() * sizeof(DiskBar),
                  static_cast<off_t>(sizeof(Header) + next_ * sizeof(DiskBar)))) {
      return make_error("lake: cannot read the bar cache " + path_ + ": " + std::strerror(errno) +
                        " (delete it: it is rebuilt from data.parquet)");
    }
    Checksum sum;
    for (const DiskBar& d : block_) sum.add(d);
    if (sum.value() != sums_[static_cast<std::size_t>(next_ / kBlockBars)]) {
      ::unlink(path_.c_str());  // never believed again: the next read rebuilds it from data.parquet
      return make_error("lake: the bar cache " + path_ + " is damaged (block " + std::to_string(next_ / kBlockBars) +
                        " does not match its checksum); it was removed and is rebuilt from data.parquet on the "
                        "next run");
    }
    next_ += n;
  }
  const std::size_t n = std::min(max, block_.size() - block_pos_);
  for (std::size_t i = block_pos_; i < block_pos_ + n; ++i) {
    const DiskBar& d = block_[i];
    if (d.ts < from_ns || d.ts >= to_ns) continue;
    Bar& bar = out.emplace_back();
    bar.ts = from_epoch_ns(d.ts);
    bar.open = d.open;
    bar.high = d.high;
    bar.low = d.low;
    bar.close = d.close;
    bar.tick_volume = d.tick_volume;
    bar.volume = d.volume;
    bar.spread = d.spread;
  }
  block_pos_ += n;
  return n;
}

// ---------------------------------------------------------------- writer

struct BarCacheWriter::State {
  std::string final_path, temp_path;
  int fd = -1;
  Header header{};
  Checksum sum;  // of the open block
  std::vector<std::uint64_t> sums;
  std::int64_t rows = 0;
  std::vector<DiskBar> buffer;
  bool failed = false;
};

std::optional<BarCacheWriter> BarCacheWriter::start(const std::string& parquet_path) {
  const auto source = stat_source(parquet_path);
  if (!source) return std::nullopt;
  auto hash = sha256_file_hex(parquet_path);
  if (!hash || hash->size() != 64) return std::nullopt;
  static std::atomic<std::uint64_t> counter{0};
  auto state = std::make_unique<State>();
  state->final_path = bar_cache_path(parquet_path);
  state->temp_path = state->final_path + "." + std::to_string(::getpid()) + "." + std::to_string(counter++) + ".tmp";
  state->fd = ::open(state->temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (state->fd < 0) return std::nullopt;
  Header& h = state->header;
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.byte_order = kByteOrderMark;
  h.version = kFormatVersion;
  h.record_size = sizeof(DiskBar);
  h.source_size = source->size;
  h.source_mtime_ns = source->mtime_ns;
  h.source_inode = source->inode;
  std::memcpy(h.source_sha256, hash->data(), sizeof h.source_sha256);
  BarCacheWriter writer;
  writer.state_ = std::move(state);
  return writer;
}

BarCacheWriter::BarCacheWriter(BarCacheWriter&& other) noexcept = default;
BarCacheWriter& BarCacheWriter::operator=(BarCacheWriter&& other) noexcept {
  if (this != &other) {
    abandon();
    state_ = std::move(other.state_);
  }
  return *this;
}
BarCacheWriter::~BarCacheWriter() { abandon(); }

void BarCacheWriter::abandon() {
  if (!state_) return;
  if (state_->fd >= 0) ::close(state_->fd);
  ::unlink(state_->temp_path.c_str());
  state_.reset();
}

void BarCacheWriter::add(const Bar* bars, std::size_t count) {
  if (!state_ || state_->failed) return;
  State& s = *state_;
  s.buffer.assign(count, DiskBar{});
  for (std::size_t i = 0; i < count; ++i) {
    DiskBar& d = s.buffer[i];
    d.ts = to_epoch_ns(bars[i].ts);
    d.open = bars[i].open;
    d.high = bars[i].high;
    d.low = bars[i].low;
    d.close = bars[i].close;
    d.tick_volume = bars[i].tick_volume;
    d.volume = bars[i].volume;
    d.spread = bars[i].spread;
    d.zero = 0;
    s.sum.add(d);
    if ((s.rows + static_cast<std::int64_t>(i) + 1) % kBlockBars == 0) {
      s.sums.push_back(s.sum.value());
      s.sum = Checksum{};
    }
  }
  if (!write_all(s.fd, s.buffer.data(), count * sizeof(DiskBar),
                 static_cast<off_t>(sizeof(Header) + s.rows * sizeof(DiskBar)))) {
    s.failed = true;
  }
  s.rows += static_cast<std::int64_t>(count);
}

void BarCacheWriter::commit() {
  if (!state_) return;
  State& s = *state_;
  if (s.rows % kBlockBars != 0) s.sums.push_back(s.sum.value());
  s.header.rows = s.rows;
  s.header.blocks = s.sums.size();
  const bool ok = !s.failed &&
                  write_all(s.fd, s.sums.data(), s.sums.size() * 8,
                            static_cast<off_t>(sizeof(Header) + s.rows * sizeof(DiskBar))) &&
                  write_all(s.fd, &s.header, sizeof s.header, 0) && ::close(s.fd) == 0;
  s.fd = -1;
  if (ok && ::rename(s.temp_path.c_str(), s.final_path.c_str()) == 0) {
    state_.reset();
    return;
  }
  abandon();
}

}  // namespace quant::lake
