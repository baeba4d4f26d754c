// ByteSource implementations: plain files, gzip streams, zip members, memory.
#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <system_error>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>
#include <zlib.h>

#include "ingest/importer.h"

namespace quant::ingest {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string errno_text(int err) { return std::generic_category().message(err); }

// Classifies a stat/open failure into the one line the user sees.
Error open_error(const std::string& path, int err) {
  if (err == ENOENT || err == ENOTDIR) return Error{path + ": no such file"};
  if (err == EACCES || err == EPERM) return Error{path + ": cannot read (permission denied)"};
  return Error{path + ": cannot open (" + errno_text(err) + ")"};
}

Expected<std::uint64_t> check_regular_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return tl::unexpected(open_error(path, errno));
  if (S_ISDIR(st.st_mode)) return make_error(path + ": is a directory, not a file");
  if (st.st_size == 0) return make_error(path + ": empty file");
  return static_cast<std::uint64_t>(st.st_size);
}

class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::string name, std::uint64_t size) : fd_(fd), name_(std::move(name)), size_(size) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  Expected<std::size_t> read(char* buffer, std::size_t size) override {
    for (;;) {
      const ssize_t n = ::read(fd_, buffer, size);
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return make_error(name_ + ": read failed (" + errno_text(errno) + ")");
    }
  }
  const std::string& name() const override { return name_; }
  std::uint64_t size_hint() const override { return size_; }

 private:
  int fd_;
  std::string name_;
  std::uint64_t size_;
};

class GzipSource final : public ByteSource {
 public:
  GzipSource(gzFile file, std::string name) : file_(file), name_(std::move(name)) {}
  ~GzipSource() override { gzclose(file_); }
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  Expected<std::size_t> read(char* buffer, std::size_t size) override {
    const unsigned chunk =
        size > static_cast<std::size_t>(INT_MAX) ? static_cast<unsigned>(INT_MAX) : static_cast<unsigned>(size);
    const int n = gzread(file_, buffer, chunk);
    if (n < 0) {
      int code = 0;
      const char* message = gzerror(file_, &code);
      return make_error(name_ + ": corrupt gzip data (" + (message ? message : "unknown error") + ")");
    }
    return static_cast<std::size_t>(n);
  }
  const std::string& name() const override { return name_; }

 private:
  gzFile file_;
  std::string name_;
};

class ZipSource final : public ByteSource {
 public:
  ZipSource(zip_t* archive, zip_file_t* member, std::string name, std::string member_name, std::uint64_t size)
      : archive_(archive), member_(member), name_(std::move(name)), member_name_(std::move(member_name)), size_(size) {}
  ~ZipSource() override {
    zip_fclose(member_);
    zip_discard(archive_);
  }
  ZipSource(const ZipSource&) = delete;
  ZipSource& operator=(const ZipSource&) = delete;

  Expected<std::size_t> read(char* buffer, std::size_t size) override {
    const zip_int64_t n = zip_fread(member_, buffer, size);
    if (n < 0) {
      return make_error(name_ + ": corrupt zip member " + member_name_ + " (" + zip_file_strerror(member_) + ")");
    }
    return static_cast<std::size_t>(n);
  }
  const std::string& name() const override { return name_; }
  const std::string& inner_name() const override { return member_name_; }
  std::uint64_t size_hint() const override { return size_; }

 private:
  zip_t* archive_;
  zip_file_t* member_;
  std::string name_;
  std::string member_name_;
  std::uint64_t size_;
};

class MemorySource final : public ByteSource {
 public:
  MemorySource(std::string_view bytes, std::string name) : bytes_(bytes), name_(std::move(name)) {}
  Expected<std::size_t> read(char* buffer, std::size_t size) override {
    const std::size_t n = std::min(size, bytes_.size() - pos_);
    if (n > 0) std::memcpy(buffer, bytes_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  const std::string& name() const override { return name_; }
  std::uint64_t size_hint() const override { return bytes_.size(); }

 private:
  std::string bytes_;
  std::size_t pos_ = 0;
  std::string name_;
};

Expected<std::unique_ptr<ByteSource>> open_zip(const std::string& path, const std::string& zip_path,
                                               const std::string& wanted) {
  auto checked = check_regular_file(zip_path);
  if (!checked) return tl::unexpected(checked.error());
  int code = 0;
  zip_t* archive = zip_open(zip_path.c_str(), ZIP_RDONLY, &code);
  if (archive == nullptr) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    std::string message = path + ": not a readable zip archive (" + zip_error_strerror(&error) + ")";
    zip_error_fini(&error);
    return make_error(message);
  }
  const zip_int64_t entries = zip_get_num_entries(archive, 0);
  zip_int64_t chosen = -1;
  int files = 0;
  std::string names;
  for (zip_int64_t i = 0; i < entries; ++i) {
    const char* entry = zip_get_name(archive, static_cast<zip_uint64_t>(i), 0);
    if (entry == nullptr || ends_with(entry, "/")) continue;
    ++files;
    if (!names.empty()) names += ", ";
    names += entry;
    if (wanted.empty() || wanted == entry) chosen = i;
  }
  if (!wanted.empty() && chosen < 0) {
    zip_discard(archive);
    return make_error(path + ": the archive has no member '" + wanted + "' (members: " + names + ")");
  }
  if (wanted.empty() && files != 1) {
    zip_discard(archive);
    return make_error(path + ": the archive holds " + std::to_string(files) +
                      " files; name one as ARCHIVE.zip:MEMBER (members: " + names + ")");
  }
  zip_stat_t st;
  zip_stat_init(&st);
  zip_stat_index(archive, static_cast<zip_uint64_t>(chosen), 0, &st);
  if ((st.valid & ZIP_STAT_SIZE) != 0 && st.size == 0) {
    zip_discard(archive);
    return make_error(path + ": empty file");
  }
  zip_file_t* member = zip_fopen_index(archive, static_cast<zip_uint64_t>(chosen), 0);
  if (member == nullptr) {
    std::string message = path + ": cannot read member (" + zip_strerror(archive) + ")";
    zip_discard(archive);
    return make_error(message);
  }
  const std::string member_name = zip_get_name(archive, static_cast<zip_uint64_t>(chosen), 0);
  return std::unique_ptr<ByteSource>(
      std::make_unique<ZipSource>(archive, member, path, member_name, (st.valid & ZIP_STAT_SIZE) != 0 ? st.size : 0));
}

}  // namespace

Expected<std::unique_ptr<ByteSource>> open_source(const std::string& path) {
  // "archive.zip:member.csv" names one member of an archive.
  const auto zip_colon = path.find(".zip:");
  if (zip_colon != std::string::npos) {
    return open_zip(path, path.substr(0, zip_colon + 4), path.substr(zip_colon + 5));
  }
  if (ends_with(path, ".zip")) return open_zip(path, path, "");

  auto size = check_regular_file(path);
  if (!size) return tl::unexpected(size.error());
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return tl::unexpected(open_error(path, errno));
  if (ends_with(path, ".gz")) {
    gzFile file = gzdopen(fd, "rb");
    if (file == nullptr) {
      ::close(fd);
      return make_error(path + ": cannot open gzip stream");
    }
    gzbuffer(file, 1u << 18);
    return std::unique_ptr<ByteSource>(std::make_unique<GzipSource>(file, path));
  }
  return std::unique_ptr<ByteSource>(std::make_unique<FileSource>(fd, path, *size));
}

std::unique_ptr<ByteSource> memory_source(std::string_view bytes, std::string name) {
  return std::make_unique<MemorySource>(bytes, std::move(name));
}

}  // namespace quant::ingest
