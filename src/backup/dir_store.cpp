// The directory store: objects are plain files under the root, written to a
// temporary name in the same directory and renamed, so a kill never leaves a
// partial object under its key, fsynced before and after the rename, so a
// manifest never outlives its objects on a power cut. Temporaries start with
// '.' and are not listed (a later backup uploads those objects again).

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "backup/object_store.h"
#include "core/file_io.h"
#include "core/sha256.h"

namespace quant::backup {
namespace {

namespace fs = std::filesystem;

std::string tmp_name() {
  static std::mt19937_64 rng(std::random_device{}());
  char buf[32];
  std::snprintf(buf, sizeof buf, ".tmp-%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

/// Copies `from` into `to` through a temporary + rename; `expected_sha256`
/// (when not empty) must match the bytes copied.
Expected<void> copy_atomically(const fs::path& from, const fs::path& to, const std::string& expected_sha256,
                               const ByteProgress& progress) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (ec) return make_error("cannot create " + to.parent_path().string() + ": " + ec.message());
  const fs::path tmp = to.parent_path() / tmp_name();
  Sha256 sha;
  {
    std::ifstream in(from, std::ios::binary);
    if (!in) return make_error("cannot read " + from.string() + ": " + std::strerror(errno));
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return make_error("cannot write " + tmp.string() + ": " + std::strerror(errno));
    std::vector<char> block(1 << 20);
    std::int64_t done = 0;
    while (in) {
      in.read(block.data(), static_cast<std::streamsize>(block.size()));
      const auto n = in.gcount();
      if (n <= 0) break;
      out.write(block.data(), n);
      // The bytes copied are the bytes hashed: no second read of the copy.
      if (!expected_sha256.empty()) sha.update(std::string_view(block.data(), static_cast<std::size_t>(n)));
      done += n;
      if (progress) progress(done);
    }
    out.close();
    if (in.bad() || !out) {
      fs::remove(tmp, ec);
      return make_error("cannot copy " + from.string() + " to " + to.string() + ": write failed");
    }
  }
  if (!expected_sha256.empty()) {
    if (const std::string got = sha.hex_digest(); got != expected_sha256) {
      fs::remove(tmp, ec);
      return make_error(from.string() + " changed while it was copied (SHA-256 " + got + ", expected " +
                        expected_sha256 + "): run the backup again");
    }
  }
  // On disk before it has its name, and the name on disk before we return
  // (a manifest naming it comes next).
  if (auto synced = fsync_path(tmp, false); !synced) {
    fs::remove(tmp, ec);
    return synced;
  }
  fs::rename(tmp, to, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return make_error("cannot rename into " + to.string() + ": " + ec.message());
  }
  return fsync_path(to.parent_path(), true);
}

class DirStore final : public ObjectStore {
 public:
  explicit DirStore(fs::path root) : root_(std::move(root)) {}

  [[nodiscard]] std::string describe() const override { return root_.string(); }

  Expected<std::vector<ObjectInfo>> list(const std::string& prefix) override {
    std::vector<ObjectInfo> out;
    std::error_code ec;
    // The prefix is a folder ("objects/") or a folder plus a name start.
    const fs::path dir = root_ / fs::path(prefix).parent_path();
    if (!fs::exists(dir, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      if (it->path().filename().string().rfind('.', 0) == 0) continue;  // a temporary
      const std::string key = fs::relative(it->path(), root_, ec).generic_string();
      if (key.rfind(prefix, 0) != 0) continue;
      out.push_back({key, static_cast<std::int64_t>(it->file_size(ec))});
    }
    if (ec) return make_error("cannot list " + dir.string() + ": " + ec.message());
    std::sort(out.begin(), out.end(), [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
    return out;
  }

  Expected<void> put_file(const std::string& key, const std::string& path, const std::string& sha256,
                          const ByteProgress& progress) override {
    return copy_atomically(path, root_ / key, sha256, progress);
  }

  Expected<void> put_bytes(const std::string& key, std::string_view bytes) override {
    const fs::path to = root_ / key;
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    if (ec) return make_error("cannot create " + to.parent_path().string() + ": " + ec.message());
    return write_file_atomic(to, bytes, to.parent_path());
  }

  Expected<void> get_file(const std::string& key, const std::string& path, const ByteProgress& progress) override {
    std::error_code ec;
    if (!fs::exists(root_ / key, ec)) return make_error((root_ / key).string() + " does not exist");
    return copy_atomically(root_ / key, path, "", progress);
  }

  Expected<std::string> get_bytes(const std::string& key) override {
    std::ifstream in(root_ / key, std::ios::binary);
    if (!in) return make_error("cannot read " + (root_ / key).string() + ": " + std::strerror(errno));
    std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return out;
  }

 private:
  fs::path root_;
};

}  // namespace

Expected<std::unique_ptr<ObjectStore>> open_dir_store(std::string root) {
  if (root.empty()) return make_error("backup destination: an empty path");
  std::error_code ec;
  fs::path p = fs::absolute(root, ec);
  if (ec) return make_error("backup destination " + root + ": " + ec.message());
  return std::unique_ptr<ObjectStore>(std::make_unique<DirStore>(p.lexically_normal()));
}

std::string Destination::text() const {
  if (!s3) return path;
  return "s3://" + bucket + (prefix.empty() ? "" : "/" + prefix);
}

Expected<Destination> parse_destination(std::string_view text) {
  Destination d;
  if (text.empty()) return make_error("backup destination: empty (give s3://bucket/prefix or a directory)");
  if (text.rfind("s3://", 0) == 0) {
    d.s3 = true;
    std::string rest(text.substr(5));
    const auto slash = rest.find('/');
    d.bucket = rest.substr(0, slash);
    if (slash != std::string::npos) d.prefix = rest.substr(slash + 1);
    while (!d.prefix.empty() && d.prefix.back() == '/') d.prefix.pop_back();
    while (!d.prefix.empty() && d.prefix.front() == '/') d.prefix.erase(0, 1);
    if (d.bucket.empty()) return make_error("backup destination " + std::string(text) + ": no bucket after s3://");
    return d;
  }
  d.path = std::string(text);
  return d;
}

}  // namespace quant::backup
