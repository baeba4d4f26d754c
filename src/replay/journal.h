#pragma once
/// The replay's durable state (README.md, "Durability"): an append-only file
/// `<dir>/journal.log` holding every order message the platform sent, each
/// with the index of the replay event it arrived before, and the replay
/// position (how many events were processed). Each order record is written
/// and fsynced before the order is applied, so a replay killed at any point
/// (SIGKILL included) restarts with every order it ever acted on; positions
/// are written at most once a second (they only say how far the replay got).
///
/// Lines: `H <fingerprint>` (the replay's identity: symbols, mode, range),
/// `O <event index> <bridge message JSON>`, `P <events processed>`. A last line
/// without its '\n' (the process died mid-write) is cut off when the journal
/// is opened. Not thread-safe.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "execution/bridge_protocol.h"

namespace quant::replay {

/// An order message and where it arrived.
struct JournaledOrder {
  std::int64_t index = 0;  ///< applied before the event of this index
  execution::bridge::Body body;
};

class Journal {
 public:
  /// Without a directory: kept in memory only (a reconnect still rebuilds from it).
  Journal() = default;
  /// Opens (creating) `<dir>/journal.log`. Fails when the journal belongs to a
  /// replay with another fingerprint, or a line cannot be read.
  static Expected<Journal> open(const std::string& dir, const std::string& fingerprint);
  Journal(Journal&& other) noexcept;
  Journal& operator=(Journal&& other) noexcept;
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;
  ~Journal();

  /// Appends and fsyncs an order message (written before the order is applied).
  Expected<void> append_order(std::int64_t index, const execution::bridge::Body& body);
  /// Records the position; written when `force` or a second has passed since the last.
  Expected<void> note_position(std::int64_t events, bool force = false);

  const std::vector<JournaledOrder>& orders() const { return orders_; }
  /// The furthest position recorded (0 for a new journal).
  std::int64_t position() const { return position_; }
  bool durable() const { return fd_ >= 0; }

 private:
  Expected<void> write_line(const std::string& line);
  int fd_ = -1;
  std::string path_;
  std::vector<JournaledOrder> orders_;
  std::int64_t position_ = 0;
  std::int64_t written_position_ = 0;
  std::chrono::steady_clock::time_point last_position_write_{};
};

}  // namespace quant::replay
