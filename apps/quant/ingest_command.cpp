#include "ingest_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "core/bar_aggregator.h"
#include "ingest/batch_queue.h"
#include "ingest/importer.h"
#include "lake/lake.h"

namespace quant::app {

namespace {

namespace fs = std::filesystem;

Expected<ingest::ImportOptions> build_options(const IngestArgs& args, const config::AppConfig& cfg,
                                              ingest::Format format) {
  ingest::ImportOptions o;
  o.symbol = args.symbol;
  o.strict = args.strict;
  if (const InstrumentSpec* spec = cfg.instruments.find(args.symbol)) o.spec = *spec;
  std::string tz = args.time_zone;
  if (tz.empty()) {
    if (format == ingest::Format::HistData)
      tz = "Etc/GMT+5";  // HistData: EST all year, no DST
    else if (o.spec)
      tz = o.spec->time_zone;
    else
      tz = "UTC";
  }
  auto zone = TimeZone::find(tz);
  if (!zone) return make_error("--tz: " + zone.error().message);
  o.time_zone = *zone;
  auto tf = ingest::parse_time_format(args.time_format);
  if (!tf) return make_error("--time-format: " + tf.error().message);
  o.time_format = *tf;
  if (!args.delimiter.empty()) {
    if (args.delimiter == "\\t" || args.delimiter == "tab")
      o.delimiter = '\t';
    else if (args.delimiter.size() == 1)
      o.delimiter = args.delimiter[0];
    else
      return make_error("--delimiter: one character (or 'tab'), got '" + args.delimiter + "'");
  }
  if (args.header == "yes")
    o.header = true;
  else if (args.header == "no")
    o.header = false;
  else if (!args.header.empty())
    return make_error("--header: yes or no, got '" + args.header + "'");
  if (!(args.price_scale > 0)) return make_error("--price-scale must be > 0");
  o.price_scale = args.price_scale;
  o.base_date = args.base_date;
  if (args.book_depth < 1 || args.book_depth > 1000) return make_error("--book-depth must be within 1..1000");
  o.book_depth = args.book_depth;
  // --columns field=column,field=column
  std::string_view rest = args.columns;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    const auto eq = item.find('=');
    if (eq == std::string_view::npos)
      return make_error("--columns: expected field=column, got '" + std::string(item) + "'");
    const std::string field(item.substr(0, eq));
    const std::string column(item.substr(eq + 1));
    auto& c = o.columns;
    std::string* slot = field == "ts"            ? &c.ts
                        : field == "date"        ? &c.date
                        : field == "time"        ? &c.time
                        : field == "open"        ? &c.open
                        : field == "high"        ? &c.high
                        : field == "low"         ? &c.low
                        : field == "close"       ? &c.close
                        : field == "volume"      ? &c.volume
                        : field == "tick_volume" ? &c.tick_volume
                        : field == "spread"      ? &c.spread
                        : field == "price"       ? &c.price
                        : field == "side"        ? &c.side
                        : field == "bid"         ? &c.bid
                        : field == "ask"         ? &c.ask
                        : field == "bid_size"    ? &c.bid_size
                        : field == "ask_size"    ? &c.ask_size
                                                 : nullptr;
    if (slot == nullptr) {
      return make_error("--columns: unknown field '" + field +
                        "' (fields: ts date time open high low close volume tick_volume spread price side bid ask "
                        "bid_size ask_size)");
    }
    *slot = column;
  }
  return o;
}

/// Counts records only: the validation pass of --strict.
class CountingSink final : public ingest::RecordSink {};

/// Routes records to the lake: the format's own dataset, plus 1-minute bars
/// aggregated from ticks/trades (the live engine's aggregator), plus rejects.
class LakeSink final : public ingest::RecordSink {
 public:
  /// `aggregator` outlives the sink: a minute that spans two input files is one bar.
  LakeSink(lake::LakeWriter* main, lake::LakeWriter* bars, BarAggregator* aggregator, std::string reject_path)
      : main_(main), bars_(bars), aggregator_(*aggregator), reject_path_(std::move(reject_path)) {}

  void on_bar(const Bar& bar) override { main_->add(bar); }
  void on_tick(const Tick& tick) override {
    main_->add(tick);
    if (bars_ != nullptr) {
      if (auto b = aggregator_.add_tick(tick)) bars_->add(*b);
    }
  }
  void on_trade(const Trade& trade) override {
    main_->add(trade);
    if (bars_ != nullptr) {
      if (auto b = aggregator_.add_trade(trade.ts, trade.price, trade.volume)) bars_->add(*b);
    }
  }
  void on_book(const BookSnapshot& book) override { main_->add(book); }
  void on_reject(const ingest::RowError& error) override {
    if (!rejects_) {
      fs::create_directories(fs::path(reject_path_).parent_path());
      rejects_.emplace(reject_path_, std::ios::binary);
      *rejects_ << "line\tfield\treason\ttext\n";
    }
    auto clean = [](std::string s) {
      for (char& c : s) {
        if (c == '\t' || c == '\n' || c == '\r') c = ' ';
      }
      return s;
    };
    *rejects_ << error.line << '\t' << clean(error.field) << '\t' << clean(error.reason) << '\t' << clean(error.text)
              << '\n';
    if (first_rejects_.size() < 5) first_rejects_.push_back(error.to_string());
  }
  void finish() {
    if (rejects_) rejects_->flush();
  }
  bool wrote_rejects() const { return rejects_.has_value(); }
  const std::string& reject_path() const { return reject_path_; }
  const std::vector<std::string>& first_rejects() const { return first_rejects_; }

 private:
  lake::LakeWriter* main_;
  lake::LakeWriter* bars_;
  BarAggregator& aggregator_;
  std::string reject_path_;
  std::optional<std::ofstream> rejects_;
  std::vector<std::string> first_rejects_;
};

void on_progress(void* context, std::uint64_t bytes) {
  auto* p = static_cast<std::pair<Progress*, std::uint64_t>*>(context);
  p->first->update(bytes, p->second, -1);
}

std::string reject_file_name(const lake::Lake& lk, const std::string& input) {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  return (fs::path(lk.root()) / "_rejects" / (fs::path(input).filename().string() + "." + stamp + ".rejects.tsv"))
      .string();
}

}  // namespace

int run_ingest(const GlobalOptions& global, const IngestArgs& args) {
  auto cfg = load_config(global);
  if (!cfg) return fail(cfg.error().message);
  auto format = ingest::parse_format(args.format);
  if (!format) return fail(format.error().message);
  if (auto ok = lake::validate_symbol(args.symbol); !ok) return fail(ok.error().message);
  if (args.files.empty()) return fail("ingest: no input files");
  auto options = build_options(args, *cfg, *format);
  if (!options) return fail(options.error().message);

  // Every input must open before anything is written: a typo in the third file
  // must not leave the first two half-imported.
  for (const auto& file : args.files) {
    auto src = ingest::open_source(file);
    if (!src) return fail(src.error().message);
  }
  // --strict: a full validation pass first; one bad row fails the whole run and writes nothing.
  if (args.strict) {
    for (const auto& file : args.files) {
      auto src = ingest::open_source(file);
      if (!src) return fail(src.error().message);
      CountingSink counter;
      auto stats = ingest::import_source(**src, *format, *options, counter);
      if (!stats) return fail(stats.error().message + " (--strict: nothing written)");
    }
  }

  const std::string root = lake_dir(global, *cfg);
  lake::LakeOptions lake_options;
  lake_options.threads = cfg->lake.threads;
  if (lake_options.threads == 0) {
    // Parsing has a thread of its own here: leave it a core (measured faster on 2 cores).
    lake_options.threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
  }
  lake_options.memory_limit = cfg->lake.memory_limit;
  lake_options.compression = cfg->lake.compression;
  auto lk = lake::Lake::open(root, /*create=*/true, lake_options);
  if (!lk) return fail(lk.error().message);

  auto dataset = lake::parse_dataset(ingest::format_dataset(*format));
  if (!dataset) return fail(dataset.error().message);
  const bool derive_bars = !args.no_bars && (*dataset == lake::Dataset::Ticks || *dataset == lake::Dataset::Trades);

  if (!global.quiet) {
    std::fprintf(stderr, "[ingest] %zu file(s) as %s → %s/%s in %s (times read as %s%s)\n", args.files.size(),
                 std::string(ingest::format_name(*format)).c_str(), std::string(lake::dataset_name(*dataset)).c_str(),
                 args.symbol.c_str(), root.c_str(), options->time_zone.name().c_str(),
                 options->spec ? ", instrument checks on" : ", symbol not configured: no tick-grid checks");
  }

  // One writer per dataset for the whole run: with time-ordered files every
  // partition is written once, even when a file's last rows (local time) fall
  // into the next UTC month that the next file continues.
  auto main_writer = (*lk)->writer(*dataset, args.symbol);
  if (!main_writer) return fail(main_writer.error().message);
  std::unique_ptr<lake::LakeWriter> bar_writer;
  if (derive_bars) {
    auto w = (*lk)->writer(lake::Dataset::Bars1m, args.symbol);
    if (!w) return fail(w.error().message);
    bar_writer = std::move(*w);
  }
  BarAggregator aggregator;
  const auto started = std::chrono::steady_clock::now();
  int exit_code = 0;
  std::int64_t total_rejected = 0, total_rows = 0;

  // Parsing runs on its own thread, a few batches ahead of the writes here.
  ingest::BatchQueue queue;
  std::thread reader([&] {
    ingest::BatchingSink batching(queue);
    for (const auto& file : args.files) {
      if (queue.cancelled()) break;
      const auto t0 = std::chrono::steady_clock::now();
      auto src = ingest::open_source(file);
      if (!src) {
        batching.end_file(tl::unexpected(src.error()), 0);
        continue;
      }
      Progress progress("ingest " + fs::path(file).filename().string(), global.quiet);
      std::pair<Progress*, std::uint64_t> progress_context{&progress, (*src)->size_hint()};
      auto stats = ingest::import_source(**src, *format, *options, batching, on_progress, &progress_context);
      progress.finish();
      batching.end_file(std::move(stats), std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    queue.close();
  });
  struct JoinReader {
    ingest::BatchQueue& queue;
    std::thread& thread;
    ~JoinReader() {
      queue.cancel();
      thread.join();
    }
  } join_reader{queue, reader};

  std::size_t file_index = 0;
  std::optional<LakeSink> sink;
  while (auto batch = queue.pop()) {
    if (!sink)
      sink.emplace(main_writer->get(), bar_writer.get(), &aggregator, reject_file_name(**lk, args.files[file_index]));
    batch->deliver(*sink);
    if (const auto& e = (*main_writer)->error()) return fail(e->message);
    if (!batch->end_of_file) continue;
    const std::string& file = args.files[file_index++];
    sink->finish();
    const auto& stats = *batch->end_of_file;
    if (!stats) {
      // An I/O failure or a broken file mid-way: the rows read before it are
      // valid and stay; the rest of this file was never read. Say so, go on.
      std::fprintf(stderr, "quant: %s (rows before this point are kept; the rest of the file was not read)\n",
                   stats.error().message.c_str());
      exit_code = 1;
      sink.reset();
      continue;
    }
    std::printf("%s: %lld rows read, %lld rejected; %s .. %s; %.2f s\n", file.c_str(),
                static_cast<long long>(stats->records), static_cast<long long>(stats->rejected),
                format_utc(stats->first_ts).c_str(), format_utc(stats->last_ts).c_str(), batch->seconds);
    if (sink->wrote_rejects()) {
      for (const auto& line : sink->first_rejects()) std::fprintf(stderr, "  rejected %s\n", line.c_str());
      std::printf("  %lld bad row(s) kept with their reasons in %s\n", static_cast<long long>(stats->rejected),
                  sink->reject_path().c_str());
    }
    total_rejected += stats->rejected;
    total_rows += stats->records;
    sink.reset();
  }
  if (bar_writer) {
    if (auto b = aggregator.finish()) bar_writer->add(*b);
  }
  auto written = (*main_writer)->flush();
  if (!written) return fail(written.error().message);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "%s/%s: %lld rows read, %lld added, %lld already present, %lld conflicting (kept the lake's), "
      "%lld rejected; %lld partition(s) written; %.2f s, %.0f rows/s\n",
      std::string(lake::dataset_name(*dataset)).c_str(), args.symbol.c_str(), static_cast<long long>(total_rows),
      static_cast<long long>(written->added), static_cast<long long>(written->duplicates),
      static_cast<long long>(written->conflicts), static_cast<long long>(total_rejected),
      static_cast<long long>(written->partitions_written), secs,
      secs > 0 ? static_cast<double>(total_rows + total_rejected) / secs : 0.0);
  if (bar_writer) {
    auto b = bar_writer->flush();
    if (!b) return fail(b.error().message);
    std::printf("bars_1m/%s (aggregated from %s): %lld added, %lld already present, %lld conflicting%s\n",
                args.symbol.c_str(), std::string(lake::dataset_name(*dataset)).c_str(),
                static_cast<long long>(b->added), static_cast<long long>(b->duplicates),
                static_cast<long long>(b->conflicts),
                aggregator.late_updates() > 0
                    ? (", " + std::to_string(aggregator.late_updates()) + " out-of-order records not in bars").c_str()
                    : "");
  }
  return exit_code;
}

}  // namespace quant::app
