#pragma once
/// Large outputs as Parquet, written while they are produced: rows of int64
/// columns (timestamps, integers, fixed-point decimals) go through a bounded
/// queue to a writer thread running DuckDB's `COPY ... TO (FORMAT parquet)`
/// over a table function, so memory stays flat (a few row blocks and one
/// Parquet row group) whatever the number of rows. The file appears only when
/// complete: written to `<path>.partial`, renamed by close().
///
/// Thread safety: add_row() and close() from one thread (the producer).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace quant::lake {

struct ParquetColumn {
  enum class Type { TimestampNs, BigInt, Decimal };
  std::string name;
  Type type = Type::BigInt;
  int scale = 0;  ///< Decimal: the value is stored times 10^scale (DECIMAL(18, scale))
};

class ParquetStreamWriter {
 public:
  /// Starts the writer thread. Fails when DuckDB cannot start or the
  /// directory of `path` does not exist.
  static Expected<std::unique_ptr<ParquetStreamWriter>> open(const std::string& path,
                                                             std::vector<ParquetColumn> columns);
  virtual ~ParquetStreamWriter() = default;

  /// Appends one row: one value per column, as the column's type says
  /// (ns since the epoch, an integer, or the decimal scaled to an integer).
  /// Waits while the writer is a few blocks behind; after a write error it
  /// drops rows and close() reports the error.
  virtual void add_row(const std::int64_t* values) = 0;
  /// Writes what is left, waits for the writer and publishes the file.
  /// Fails with the write error, naming the file. Destroying an unclosed
  /// writer removes the partial file.
  virtual Expected<std::int64_t> close() = 0;
};

}  // namespace quant::lake
