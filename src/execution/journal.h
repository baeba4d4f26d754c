#pragma once
/// A durable, append-only journal of JSON records, one per line: what a live
/// engine (or the /order desk) must not forget across a crash — client order
/// ids it has sent, inputs it has processed. `sync()` writes what was appended
/// and fsyncs it; only after that may an order leave or an input be
/// acknowledged. On open, the records already on disk are read back; a torn
/// last line (a crash in the middle of a write) is cut off and reported.

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace quant::execution {

class Journal {
 public:
  /// Opens (creating the file and its directory when missing) and reads every
  /// complete record. A line that is not JSON, other than a torn last one, is
  /// an error naming file:line.
  static Expected<Journal> open(const std::string& path);
  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&& other) noexcept;
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal();

  /// The records found on disk at open().
  const std::vector<nlohmann::json>& recovered() const { return recovered_; }
  /// Bytes of a torn last line that open() cut off (0 = the file was clean).
  std::size_t torn_bytes() const { return torn_bytes_; }

  /// Queues a record (nothing is durable until sync()).
  void append(const nlohmann::json& record);
  bool dirty() const { return !pending_.empty(); }
  /// Writes the queued records and fsyncs the file.
  Expected<void> sync();
  const std::string& path() const { return path_; }

 private:
  Journal() = default;
  std::string path_;
  int fd_ = -1;
  std::string pending_;
  std::vector<nlohmann::json> recovered_;
  std::size_t torn_bytes_ = 0;
};

}  // namespace quant::execution
