#pragma once
/// The one implementation of `Lake`. Internal to src/lake. Its methods are
/// defined in the file of their responsibility:
///   lake.cpp         open, root
///   lake_writer.cpp  writer (the writer lock, record buffering)
///   lake_reader.cpp  partitions, stream_bars, stream_trades, stream_book, verify
///   partition_marks.cpp  generated_bars (the marks in the partitions' metadata)
///   lake_query.cpp   query_csv (the SQL views, CSV output)

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lake/duckdb_connection.h"
#include "lake/lake.h"

namespace quant::lake {

class WriterLock;  // lake_writer.cpp

/// What a Lake shares with the writers and streams it made (they may outlive it).
struct LakeShared {
  std::string root;  ///< absolute, normalised, no trailing '/'
  LakeOptions options;
  std::shared_ptr<duck::Database> db;
  /// The lock held by this Lake's live writers: writers of one Lake (e.g. ticks
  /// and the bars aggregated from them) share it; other Lakes and processes wait.
  std::weak_ptr<WriterLock> writer_lock;
};

class LakeImpl final : public Lake {
 public:
  LakeImpl(std::shared_ptr<LakeShared> shared, duck::Connection con);

  const std::string& root() const override;
  Expected<std::unique_ptr<LakeWriter>> writer(Dataset dataset, const std::string& symbol,
                                               const WriteOptions& options) override;
  Expected<std::vector<PartitionInfo>> partitions(std::optional<Dataset> dataset, const std::string& symbol) override;
  Expected<std::int64_t> query_csv(std::string_view sql, std::ostream& out) override;
  Expected<std::unique_ptr<BarStream>> stream_bars(const std::string& symbol, Timestamp from, Timestamp to,
                                                   std::size_t batch_rows) override;
  Expected<std::unique_ptr<TradeStream>> stream_trades(const std::string& symbol, Timestamp from, Timestamp to,
                                                       std::size_t batch_rows) override;
  Expected<std::unique_ptr<BookStream>> stream_book(const std::string& symbol, Timestamp from, Timestamp to,
                                                    std::size_t batch_rows) override;
  Expected<std::vector<GeneratedSpan>> generated_bars(const std::string& symbol, Timestamp from, Timestamp to) override;
  Expected<VerifyReport> verify(const std::string& symbol, const InstrumentSpec* spec,
                                const VerifyProgress& progress) override;

 private:
  /// (Re)defines the TEMP views bars_1m, ticks, trades, book on con_.
  Expected<void> define_views();

  std::shared_ptr<LakeShared> shared_;
  duck::Connection con_;  ///< partitions() and query_csv(); writers and streams get their own

  /// What identifies one version of a data file: a rewrite renames a new file
  /// over it (new inode, size or mtime).
  struct FileIdentity {
    std::int64_t bytes = -1;
    std::int64_t mtime_ns = 0;
    std::uint64_t inode = 0;
    bool operator==(const FileIdentity&) const = default;
  };
  /// partitions(): each file's statistics and marks as its footer said, by path.
  std::map<std::string, std::pair<FileIdentity, PartitionInfo>> footer_cache_;
};

}  // namespace quant::lake
