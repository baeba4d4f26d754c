#pragma once
/// Where backups go: a flat key → bytes store. Two implementations: an
/// S3-compatible bucket (s3_store.cpp, AWS Signature V4 over libcurl) and a
/// directory (dir_store.cpp). Keys are relative to the destination's prefix
/// ("objects/<sha256>", "manifests/<time>.json").
///
/// A put is all or nothing: S3 PUT is atomic, and the directory store writes a
/// temporary file and renames it, so an interrupted backup never leaves a
/// partial object under its final key. Not thread-safe: one caller at a time.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "backup/sigv4.h"
#include "core/error.h"

namespace quant::backup {

struct ObjectInfo {
  std::string key;  ///< relative to the store's prefix
  std::int64_t size = 0;
};

/// Bytes of the current object transferred so far (for progress lines).
using ByteProgress = std::function<void(std::int64_t bytes)>;

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  /// "s3://bucket/prefix at http://host:port" or the directory: for messages.
  [[nodiscard]] virtual std::string describe() const = 0;
  /// Every object whose key starts with `prefix`, sorted by key (S3 pages
  /// through ListObjectsV2 until the listing is complete).
  virtual Expected<std::vector<ObjectInfo>> list(const std::string& prefix) = 0;
  /// Uploads the file at `path` as `key`; `sha256` is its hex SHA-256 (sent as
  /// x-amz-content-sha256, so S3 refuses a body that does not match it).
  /// Fails, naming the file, if the file no longer has that hash.
  virtual Expected<void> put_file(const std::string& key, const std::string& path, const std::string& sha256,
                                  const ByteProgress& progress) = 0;
  virtual Expected<void> put_bytes(const std::string& key, std::string_view bytes) = 0;
  /// Downloads `key` into the file at `path` (created or truncated).
  virtual Expected<void> get_file(const std::string& key, const std::string& path, const ByteProgress& progress) = 0;
  virtual Expected<std::string> get_bytes(const std::string& key) = 0;
};

/// An S3-compatible bucket, path-style addressing (endpoint/bucket/key), which
/// AWS, MinIO, Backblaze B2, Wasabi, Ceph and s3rver all accept.
struct S3Options {
  std::string endpoint;  ///< "https://s3.eu-west-1.amazonaws.com"; empty = AWS for `region`
  std::string region = "us-east-1";
  std::string bucket;
  std::string prefix;  ///< without leading or trailing '/'; may be empty
  Credentials credentials;
  int attempts = 5;  ///< per request, on 5xx, 429 and network errors (back-off 0.5 s, 1 s, 2 s, ...)
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds low_speed_timeout{60'000};  ///< abort a transfer stalled below 1 byte/s this long
  std::int64_t max_bytes_per_second = 0;                ///< upload rate limit (0 = none)
  int list_page_size = 1000;  ///< ListObjectsV2 max-keys (AWS's maximum; smaller pages exercise paging)
};

Expected<std::unique_ptr<ObjectStore>> open_s3_store(S3Options options);

/// A directory (created when missing).
Expected<std::unique_ptr<ObjectStore>> open_dir_store(std::string root);

/// A parsed --to/--from value: "s3://bucket/prefix" or a filesystem path.
struct Destination {
  bool s3 = false;
  std::string bucket, prefix;  ///< s3
  std::string path;            ///< directory
  [[nodiscard]] std::string text() const;
};

/// Fails on "s3://" without a bucket, or an empty text.
Expected<Destination> parse_destination(std::string_view text);

}  // namespace quant::backup
