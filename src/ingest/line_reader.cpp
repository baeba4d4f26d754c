#include "ingest/line_reader.h"

#include <cstring>

namespace quant::ingest::detail {

LineReader::LineReader(ByteSource& source, ProgressFn progress, void* progress_context)
    : source_(source), progress_(progress), progress_context_(progress_context) {
  // Small known inputs (tests, fuzzing, tiny files) get a small first buffer.
  const std::uint64_t hint = source.size_hint();
  buffer_.resize(hint > 0 && hint < kBlockSize ? static_cast<std::size_t>(hint) + 64 : kBlockSize);
}

bool LineReader::read_raw(char* dst, std::size_t capacity, std::size_t& got) {
  got = 0;
  auto n = source_.read(dst, capacity);
  if (!n) {
    error_ = n.error();
    return false;
  }
  got = *n;
  bytes_read_ += got;
  report_progress(got == 0);
  return true;
}

void LineReader::report_progress(bool force) {
  if (progress_ == nullptr) return;
  if (bytes_read_ - reported_ >= kBlockSize || (force && bytes_read_ != reported_)) {
    reported_ = bytes_read_;
    progress_(progress_context_, bytes_read_);
  }
}

namespace {
void put_utf8(std::uint32_t cp, char*& out) {
  if (cp < 0x80) {
    *out++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out++ = static_cast<char>(0xC0 | (cp >> 6));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out++ = static_cast<char>(0xE0 | (cp >> 12));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out++ = static_cast<char>(0xF0 | (cp >> 18));
    *out++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
}
}  // namespace

// Converts UTF-16LE to UTF-8; `dst` needs room for 3 bytes per input unit plus
// 3 for a pending unit. Unpaired surrogates become U+FFFD.
std::size_t LineReader::decode_utf16(const char* src, std::size_t size, char* dst) {
  char* out = dst;
  std::size_t i = 0;
  auto unit_at = [&](unsigned lo, unsigned hi) { return static_cast<std::uint32_t>(lo | (hi << 8)); };
  while (true) {
    std::uint32_t unit = 0;
    if (pending_byte_ >= 0) {
      if (i >= size) break;
      unit = unit_at(static_cast<unsigned>(pending_byte_), static_cast<unsigned char>(src[i]));
      pending_byte_ = -1;
      i += 1;
    } else {
      if (i + 1 >= size) {
        if (i < size) pending_byte_ = static_cast<unsigned char>(src[i]);
        break;
      }
      unit = unit_at(static_cast<unsigned char>(src[i]), static_cast<unsigned char>(src[i + 1]));
      i += 2;
    }
    if (pending_high_ != 0) {
      const std::uint32_t high = pending_high_;
      pending_high_ = 0;
      if (unit >= 0xDC00 && unit <= 0xDFFF) {
        put_utf8(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00), out);
        continue;
      }
      put_utf8(0xFFFD, out);
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      pending_high_ = unit;
    } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
      put_utf8(0xFFFD, out);
    } else {
      put_utf8(unit, out);
    }
  }
  return static_cast<std::size_t>(out - dst);
}

// Moves the unread tail to the front and appends the next block of decoded bytes.
bool LineReader::fill() {
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (buffer_.size() - end_ < buffer_.size() / 2) {
    if (buffer_.size() >= kMaxLineSize) {
      error_ = Error{source_.name() + ":" + std::to_string(line_number_ + 1) +
                     ": line longer than 64 MiB (not a text export?)"};
      return false;
    }
    buffer_.resize(buffer_.size() * 2);
  }
  const std::size_t space = buffer_.size() - end_;
  std::size_t got = 0;
  if (!started_) {
    started_ = true;
    if (!read_raw(buffer_.data() + end_, space, got)) return false;
    // Keep reading until the BOM decision can be made (sources may return short reads).
    while (got > 0 && got < 3) {
      std::size_t more = 0;
      if (!read_raw(buffer_.data() + end_ + got, space - got, more)) return false;
      if (more == 0) break;
      got += more;
    }
    const auto* b = reinterpret_cast<const unsigned char*>(buffer_.data() + end_);
    if (got >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] != 0 && b[1] == 0))) {
      utf16_ = true;
      const std::size_t skip = (b[0] == 0xFF && b[1] == 0xFE) ? 2 : 0;
      raw_.assign(buffer_.data() + end_ + skip, buffer_.data() + end_ + got);
      buffer_.resize(std::max(buffer_.size(), raw_.size() * 3 / 2 + 16 + end_));
      end_ += decode_utf16(raw_.data(), raw_.size(), buffer_.data() + end_);
    } else {
      std::size_t skip = 0;
      if (got >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) skip = 3;
      if (skip > 0) std::memmove(buffer_.data() + end_, buffer_.data() + end_ + skip, got - skip);
      end_ += got - skip;
    }
    if (got == 0) eof_ = true;
    return true;
  }
  if (!utf16_) {
    if (!read_raw(buffer_.data() + end_, space, got)) return false;
    end_ += got;
  } else {
    // Each 2-byte unit yields at most 3 UTF-8 bytes; keep 8 bytes for carried state.
    const std::size_t want = space > 16 ? (space - 8) / 3 * 2 : 2;
    raw_.resize(want);
    if (!read_raw(raw_.data(), want, got)) return false;
    end_ += decode_utf16(raw_.data(), got, buffer_.data() + end_);
    if (got == 0 && (pending_byte_ >= 0 || pending_high_ != 0)) {
      char* out = buffer_.data() + end_;
      put_utf8(0xFFFD, out);
      end_ = static_cast<std::size_t>(out - buffer_.data());
      pending_byte_ = -1;
      pending_high_ = 0;
    }
  }
  if (got == 0) eof_ = true;
  return true;
}

bool LineReader::next(std::string_view& line) {
  std::size_t scanned = begin_;
  for (;;) {
    const char* start = buffer_.data() + begin_;
    const void* hit = std::memchr(buffer_.data() + scanned, '\n', end_ - scanned);
    if (hit != nullptr) {
      const char* nl = static_cast<const char*>(hit);
      std::size_t length = static_cast<std::size_t>(nl - start);
      if (length > 0 && start[length - 1] == '\r') --length;
      line = std::string_view(start, length);
      begin_ = static_cast<std::size_t>(nl - buffer_.data()) + 1;
      ++line_number_;
      return true;
    }
    if (eof_) {
      if (begin_ == end_) return false;
      std::size_t length = end_ - begin_;
      if (start[length - 1] == '\r') --length;
      line = std::string_view(start, length);
      begin_ = end_;
      ++line_number_;
      return true;
    }
    const std::size_t offset = end_ - begin_;
    if (!fill()) return false;
    scanned = begin_ + offset;
  }
}

}  // namespace quant::ingest::detail
