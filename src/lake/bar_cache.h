#pragma once
/// The bar cache: a derived binary copy of one bars_1m partition, beside its
/// Parquet file, so the backtest reads bars at memory speed instead of
/// decoding Parquet every run. Internal to src/lake.
///
///   <partition dir>/.bars.cache     (never matches the readers' *.parquet globs)
///
/// Layout: a 128-byte header, then `rows` 64-byte bar records (this machine's
/// byte order, recorded in the header: a cache made elsewhere is rebuilt),
/// then one 64-bit checksum per block of 16,384 bars. The header is keyed by the
/// partition's content: the SHA-256 of data.parquet, plus its size, mtime and
/// inode. A cache is used only when it matches the file: the stat fields match
/// (the fast path), or they differ and the file's SHA-256 still equals the
/// recorded one (a copied or restored lake). The bars carry checksums, so a
/// cache torn by a crash or edited by hand is never believed.
///
/// The cache is built as a side effect of the first full read of a partition
/// whose rows are all valid: written to a temporary, then renamed. Every lake
/// write replaces data.parquet (new inode and mtime), so it invalidates the
/// cache, and the writer removes it; the next read rebuilds it. Failing to
/// write a cache (read-only lake, full disk) is not an error: the reader goes
/// on from Parquet.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/market_data.h"

namespace quant::lake {

/// One bar on disk: the fields of `Bar` with the padding spelled out (zero).
struct CachedBar {
  std::int64_t ts;
  double open, high, low, close;
  std::int64_t tick_volume;
  double volume;
  std::int32_t spread;
  std::int32_t zero;
};

/// `<dir of parquet_path>/.bars.cache`
std::string bar_cache_path(const std::string& parquet_path);

/// Reads a valid cache sequentially.
class BarCacheReader {
 public:
  /// The cache of `parquet_path` when it exists and matches the file; nothing otherwise.
  static std::optional<BarCacheReader> open(const std::string& parquet_path);
  BarCacheReader(BarCacheReader&& other) noexcept;
  BarCacheReader& operator=(BarCacheReader&& other) noexcept;
  BarCacheReader(const BarCacheReader&) = delete;
  BarCacheReader& operator=(const BarCacheReader&) = delete;
  ~BarCacheReader();

  std::int64_t rows() const { return rows_; }
  /// Reads up to `max` of the next bars and appends those with from_ns <= ts
  /// < to_ns to `out`; returns how many were read (0 at the end). Every block
  /// of bars is checked against its checksum before use: a damaged cache
  /// fails the read (and is deleted, so the next read rebuilds it).
  Expected<std::size_t> read(std::vector<Bar>& out, std::size_t max, std::int64_t from_ns, std::int64_t to_ns);

 private:
  BarCacheReader() = default;
  int fd_ = -1;
  std::string path_;
  std::int64_t rows_ = 0, next_ = 0;  // next_: the first row not yet loaded into block_
  std::vector<std::uint64_t> sums_;   // one checksum per block
  std::vector<CachedBar> block_;
  std::size_t block_pos_ = 0;
};

/// Builds the cache of one partition while its rows are read from Parquet.
class BarCacheWriter {
 public:
  /// Starts a cache for `parquet_path` (stat and hash taken now, so a file
  /// replaced during the read leaves a cache that will not match); nothing
  /// when the directory is not writable.
  static std::optional<BarCacheWriter> start(const std::string& parquet_path);
  BarCacheWriter(BarCacheWriter&& other) noexcept;
  BarCacheWriter& operator=(BarCacheWriter&& other) noexcept;
  BarCacheWriter(const BarCacheWriter&) = delete;
  BarCacheWriter& operator=(const BarCacheWriter&) = delete;
  /// Removes the temporary unless commit() published it.
  ~BarCacheWriter();

  void add(const Bar* bars, std::size_t count);
  /// Writes the header and renames the temporary over the cache. Best effort:
  /// on any failure the temporary is removed and no cache exists.
  void commit();

 private:
  BarCacheWriter() = default;
  void abandon();
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace quant::lake
