#pragma once
/// Internal to ingest: turns a ByteSource into physical lines.
///
/// Reads in 1 MiB blocks, detects the encoding from the first bytes (UTF-8 BOM
/// skipped; UTF-16LE with BOM, or without BOM when the second byte is 0,
/// converted to UTF-8 while streaming), and yields lines without their LF or
/// CRLF. The last line may lack a newline. A line views the reader's buffer
/// and stays valid until the next call to `next`. Not thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ingest/importer.h"

namespace quant::ingest::detail {

class LineReader {
 public:
  static constexpr std::size_t kBlockSize = std::size_t{1} << 20;
  /// A line longer than this is an error (a binary file, not a text export).
  static constexpr std::size_t kMaxLineSize = std::size_t{64} << 20;

  LineReader(ByteSource& source, ProgressFn progress, void* progress_context);

  /// Next line into `line`; false at end of input or on error (see error()).
  bool next(std::string_view& line);
  /// Set when next() returned false because of an I/O or size error.
  const std::optional<Error>& error() const { return error_; }
  /// Physical line number of the line last returned (1-based).
  std::int64_t line_number() const { return line_number_; }
  /// "utf-8" or "utf-16le" (known after the first call to next()).
  const char* encoding() const { return utf16_ ? "utf-16le" : "utf-8"; }
  /// Bytes read from the source so far (after decompression, before decoding).
  std::uint64_t bytes_read() const { return bytes_read_; }

 private:
  bool fill();
  bool read_raw(char* dst, std::size_t capacity, std::size_t& got);
  std::size_t decode_utf16(const char* src, std::size_t size, char* dst);
  void report_progress(bool force);

  ByteSource& source_;
  ProgressFn progress_;
  void* progress_context_;
  std::vector<char> buffer_;  // decoded UTF-8 bytes [begin_, end_)
  std::vector<char> raw_;     // UTF-16 input block
  std::size_t begin_ = 0, end_ = 0;
  bool started_ = false, eof_ = false, utf16_ = false;
  int pending_byte_ = -1;           // odd UTF-16 byte carried to the next block
  std::uint32_t pending_high_ = 0;  // high surrogate waiting for its low half
  std::int64_t line_number_ = 0;
  std::uint64_t bytes_read_ = 0, reported_ = 0;
  std::optional<Error> error_;
};

}  // namespace quant::ingest::detail
