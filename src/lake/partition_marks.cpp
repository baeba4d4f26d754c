// Partition marks in Parquet key-value metadata: their text form, the COPY
// option that writes them, reading them from footers, and Lake::generated_bars.
#include "lake/partition_marks.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <system_error>

#include "lake/lake_impl.h"
#include "lake/partition_files.h"
#include "lake/schema.h"

namespace quant::lake {
namespace {

bool parse_int64(std::string_view text, std::int64_t& out) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

}  // namespace

void add_generated(std::vector<GeneratedSpan>& spans, const GeneratedSpan& span) {
  for (GeneratedSpan& s : spans) {
    if (s.label == span.label) {
      s.first = std::min(s.first, span.first);
      s.last = std::max(s.last, span.last);
      return;
    }
  }
  spans.push_back(span);
}

std::string clean_label(std::string label) {
  for (char& c : label) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return label.empty() ? std::string("generated") : label;
}

std::string format_provisional(const std::vector<Timestamp>& provisional) {
  std::string out;
  for (Timestamp ts : provisional) out += (out.empty() ? "" : ",") + std::to_string(to_epoch_ns(ts));
  return out;
}

std::vector<Timestamp> parse_provisional(const std::string& text) {
  std::vector<Timestamp> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::int64_t ns = 0;
    if (parse_int64(std::string_view(text).substr(start, end - start), ns)) out.push_back(from_epoch_ns(ns));
    start = end + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string format_generated(const std::vector<GeneratedSpan>& spans) {
  std::string out;
  for (const GeneratedSpan& s : spans) {
    out += (out.empty() ? "" : "\n") + std::to_string(to_epoch_ns(s.first)) + " " +
           std::to_string(to_epoch_ns(s.last)) + " " + clean_label(s.label);
  }
  return out;
}

std::vector<GeneratedSpan> parse_generated(const std::string& text) {
  std::vector<GeneratedSpan> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view line = std::string_view(text).substr(start, end - start);
    start = end + 1;
    if (line.empty()) continue;
    const std::size_t first_space = line.find(' ');
    const std::size_t second_space =
        first_space == std::string_view::npos ? first_space : line.find(' ', first_space + 1);
    std::int64_t first = 0, last = 0;
    if (second_space != std::string_view::npos && parse_int64(line.substr(0, first_space), first) &&
        parse_int64(line.substr(first_space + 1, second_space - first_space - 1), last)) {
      add_generated(
          out, GeneratedSpan{from_epoch_ns(first), from_epoch_ns(last), std::string(line.substr(second_space + 1))});
    } else {
      add_generated(out, GeneratedSpan{Timestamp::min(), Timestamp::max(),
                                       "unreadable generated mark: " + std::string(line.substr(0, 200))});
    }
  }
  return out;
}

std::string kv_metadata_option(const PartitionMarks& marks) {
  std::string fields;
  if (!marks.provisional.empty()) {
    fields += sql_string(kProvisionalKey) + ": " + sql_string(format_provisional(marks.provisional));
  }
  if (!marks.generated.empty()) {
    fields += std::string(fields.empty() ? "" : ", ") + sql_string(kGeneratedKey) + ": " +
              sql_string(format_generated(marks.generated));
  }
  return fields.empty() ? std::string() : ", KV_METADATA {" + fields + "}";
}

Expected<std::map<std::string, PartitionMarks>> read_marks(duck::Connection& con,
                                                           const std::vector<std::string>& paths) {
  std::map<std::string, PartitionMarks> out;
  if (paths.empty()) return out;
  std::string list;
  for (const std::string& p : paths) list += (list.empty() ? "" : ", ") + sql_string(p);
  // Keys are compared as BLOBs: another tool's metadata need not be text.
  auto result = con.query(
      "SELECT file_name, decode(key), decode(value) FROM parquet_kv_metadata([" + list + "]) WHERE key IN (" +
          sql_string(kProvisionalKey) + "::BLOB, " + sql_string(kGeneratedKey) + "::BLOB)",
      paths.size() == 1 ? "cannot read the metadata of " + paths.front() : "cannot read the partitions' metadata");
  if (!result) return tl::unexpected(result.error());
  auto read = duck::for_each_row(*result, "reading partition metadata",
                                 [&](const duck::Chunk& chunk, std::size_t r) -> Expected<void> {
                                   PartitionMarks& marks = out[chunk.string(0, r)];
                                   const std::string key = chunk.string(1, r);
                                   const std::string value = chunk.string(2, r);
                                   if (key == kProvisionalKey) {
                                     marks.provisional = parse_provisional(value);
                                   } else {
                                     marks.generated = parse_generated(value);
                                   }
                                   return {};
                                 });
  if (!read) return tl::unexpected(read.error());
  return out;
}

Expected<std::vector<GeneratedSpan>> LakeImpl::generated_bars(const std::string& symbol, Timestamp from, Timestamp to) {
  if (auto ok = validate_symbol(symbol); !ok) return tl::unexpected(ok.error());
  auto files = list_files(shared_->root, Dataset::Bars1m, symbol);
  if (!files) return tl::unexpected(files.error());
  std::vector<std::string> paths;
  for (const PartitionFile& f : *files) {
    if (overlaps(f, from, to)) paths.push_back(f.path);
  }
  auto marks = read_marks(con_, paths);
  if (!marks) return tl::unexpected(marks.error());
  std::vector<GeneratedSpan> spans;
  for (const std::string& path : paths) {
    auto it = marks->find(path);
    if (it == marks->end()) continue;
    for (const GeneratedSpan& s : it->second.generated) {
      if (s.first < to && s.last >= from) add_generated(spans, s);
    }
  }
  return spans;
}

}  // namespace quant::lake
