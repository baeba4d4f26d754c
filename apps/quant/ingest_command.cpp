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

#include <nlohmann/json.hpp>

#include "core/bar_aggregator.h"
#include "core/timeframe_detector.h"
#include "generated_sidecar.h"
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
///
/// A bar file's timeframe is checked on the way (`check_timeframe`): its bars
/// are held back until their spacing shows 1-minute bars (`kConfidentPairs`
/// same-day pairs judged), then written; a file that ends before that is
/// judged as a whole, and one of another timeframe is refused with nothing of
/// it written. Memory: the held bars (a few thousand for 1-minute files; a
/// whole file of a coarser timeframe, which has few bars).
class LakeSink final : public ingest::RecordSink {
 public:
  /// Same-day pairs of bars after which 1-minute bars are taken as shown (about four B3 sessions).
  static constexpr std::int64_t kConfidentPairs = 2000;

  /// `aggregator` outlives the sink: a minute that spans two input files is one bar.
  LakeSink(lake::LakeWriter* main, lake::LakeWriter* bars, BarAggregator* aggregator, std::string reject_path,
           std::optional<TimeZone> check_timeframe)
      : main_(main), bars_(bars), aggregator_(*aggregator), reject_path_(std::move(reject_path)) {
    if (check_timeframe) timeframe_.emplace(*check_timeframe);
  }

  void on_bar(const Bar& bar) override {
    if (!timeframe_) {
      main_->add(bar);
      return;
    }
    timeframe_->add(bar.ts);
    if (released_) {
      main_->add(bar);
      return;
    }
    held_.push_back(bar);
    if (held_.size() % 1024 == 0) {
      const Timeframe t = timeframe_->result();
      if (t.kind == Timeframe::Kind::OneMinute && t.pairs >= kConfidentPairs) release();
    }
  }
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

  /// The file's timeframe verdict (bar files only).
  struct Verdict {
    std::optional<Timeframe> timeframe;
    bool refused = false;         ///< another timeframe: nothing of the file was written
    bool written_before = false;  ///< 1-minute bars were shown early and written, yet the whole file says otherwise
  };
  /// Ends the file: its held bars are written, or dropped when the file is refused.
  Verdict finish() {
    if (rejects_) rejects_->flush();
    Verdict verdict;
    if (!timeframe_) return verdict;
    verdict.timeframe = timeframe_->result();
    const bool other = verdict.timeframe->kind == Timeframe::Kind::Other;
    if (released_) {
      verdict.written_before = other;
    } else if (other) {
      held_.clear();
      verdict.refused = true;
    } else {
      release();
    }
    return verdict;
  }
  bool wrote_rejects() const { return rejects_.has_value(); }
  const std::string& reject_path() const { return reject_path_; }
  const std::vector<std::string>& first_rejects() const { return first_rejects_; }

 private:
  void release() {
    for (const Bar& bar : held_) main_->add(bar);
    held_.clear();
    held_.shrink_to_fit();
    released_ = true;
  }

  lake::LakeWriter* main_;
  lake::LakeWriter* bars_;
  BarAggregator& aggregator_;
  std::string reject_path_;
  std::optional<std::ofstream> rejects_;
  std::vector<std::string> first_rejects_;
  std::optional<TimeframeDetector> timeframe_;
  std::vector<Bar> held_;
  bool released_ = false;
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

/// The generated label of this run: from the inputs' sidecars (FILE.generated.json)
/// and --generated; empty for real data. Fails on a broken sidecar, and when
/// generated and real files are mixed in one run (one label per write).
Expected<std::string> generated_label(const IngestArgs& args) {
  std::vector<std::string> labels, labelled, real;
  for (const auto& file : args.files) {
    auto sidecar = read_sidecar(file);
    if (!sidecar) return tl::unexpected(sidecar.error());
    if (!*sidecar) {
      real.push_back(file);
      continue;
    }
    labelled.push_back(file);
    const std::string label = (*sidecar)->label();
    if (std::find(labels.begin(), labels.end(), label) == labels.end()) labels.push_back(label);
  }
  if (!real.empty() && !labelled.empty() && !args.generated) {
    return make_error("ingest: the inputs mix generated and real data: " + std::to_string(labelled.size()) +
                      " file(s) are labelled generated (" + sidecar_path(labelled[0]) + ") and " +
                      std::to_string(real.size()) + " are not (" + real[0] +
                      "): import them in separate runs, or pass --generated to mark them all generated");
  }
  if (args.generated && !real.empty()) labels.emplace_back("marked generated by quant ingest --generated");
  std::string joined;
  for (const auto& l : labels) joined += (joined.empty() ? "" : "; ") + l;
  return joined;
}

nlohmann::ordered_json timestamps_json(const std::vector<Timestamp>& list) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (Timestamp ts : list) out.push_back(format_utc(ts));
  return out;
}

/// One written dataset in the JSON summary (docs/contracts/lake.md, "quant ingest --json").
nlohmann::ordered_json dataset_json(const std::string& dataset, const std::string& symbol, const std::string& source,
                                    const lake::WriteStats& w) {
  nlohmann::ordered_json j = {{"dataset", dataset},
                              {"symbol", symbol},
                              {"source", source},
                              {"received", w.received},
                              {"added", w.added},
                              {"duplicates", w.duplicates},
                              {"conflicts", w.conflicts},
                              {"replaced", w.replaced},
                              {"completed", w.completed},
                              {"partitions_written", w.partitions_written},
                              {"conflict_examples", timestamps_json(w.conflict_examples)},
                              {"conflict_first", nullptr},
                              {"conflict_last", nullptr},
                              {"completed_bars", timestamps_json(w.completed_bars)},
                              {"provisional", nullptr}};
  if (!w.conflict_examples.empty()) {
    j["conflict_first"] = format_utc(w.first_conflict);
    j["conflict_last"] = format_utc(w.last_conflict);
  }
  if (w.provisional) j["provisional"] = format_utc(*w.provisional);
  return j;
}

/// The lines under a dataset's summary: what conflicted or was replaced, the
/// still-forming bars completed, the one left provisional, the generated mark.
void print_merge_details(const lake::WriteStats& w, bool replace, const std::string& generated) {
  auto list = [](const std::vector<Timestamp>& ts) {
    std::string out;
    for (Timestamp t : ts) out += (out.empty() ? "" : ", ") + format_utc(t);
    return out;
  };
  if (!w.conflict_examples.empty()) {
    const std::string span = format_utc(w.first_conflict) + " .. " + format_utc(w.last_conflict);
    const std::string more = static_cast<std::int64_t>(w.conflict_examples.size()) < w.conflicts ? ", ..." : "";
    if (replace) {
      std::printf("  replaced %lld row(s) with the imported ones, %s: %s%s\n", static_cast<long long>(w.replaced),
                  span.c_str(), list(w.conflict_examples).c_str(), more.c_str());
    } else {
      std::printf(
          "  conflicting rows kept the lake's values, %s: %s%s (quant ingest --replace takes the imported "
          "rows)\n",
          span.c_str(), list(w.conflict_examples).c_str(), more.c_str());
    }
  }
  for (Timestamp t : w.completed_bars) std::printf("  completed the still-forming bar at %s\n", format_utc(t).c_str());
  if (w.completed > static_cast<std::int64_t>(w.completed_bars.size())) {
    std::printf("  ... and %lld more still-forming bar(s)\n",
                static_cast<long long>(w.completed - static_cast<std::int64_t>(w.completed_bars.size())));
  }
  if (w.provisional) {
    std::printf(
        "  the last bar, %s, may still be forming: it is kept as provisional, and the next import that "
        "carries it completes it\n",
        format_utc(*w.provisional).c_str());
  }
  if (!generated.empty() && w.received > 0) std::printf("  marked as generated data: %s\n", generated.c_str());
}

}  // namespace

int run_ingest(const GlobalOptions& global, const IngestArgs& args) {
  // With --json a failure is also an object on stdout, so a script always gets one.
  const auto fatal = [&](const std::string& message) {
    if (args.json) std::printf("%s\n", nlohmann::ordered_json{{"status", "error"}, {"error", message}}.dump().c_str());
    return fail(message);
  };
  auto cfg = load_config(global);
  if (!cfg) return fatal(cfg.error().message);
  auto format = ingest::parse_format(args.format);
  if (!format) return fatal(format.error().message);
  if (auto ok = lake::validate_symbol(args.symbol); !ok) return fatal(ok.error().message);
  if (args.files.empty()) return fatal("ingest: no input files");
  auto options = build_options(args, *cfg, *format);
  if (!options) return fatal(options.error().message);

  // Every input must open before anything is written: a typo in the third file
  // must not leave the first two half-imported.
  for (const auto& file : args.files) {
    auto src = ingest::open_source(file);
    if (!src) return fatal(src.error().message);
  }
  auto generated = generated_label(args);
  if (!generated) return fatal(generated.error().message);
  // --strict: a full validation pass first; one bad row fails the whole run and writes nothing.
  if (args.strict) {
    for (const auto& file : args.files) {
      auto src = ingest::open_source(file);
      if (!src) return fatal(src.error().message);
      CountingSink counter;
      auto stats = ingest::import_source(**src, *format, *options, counter);
      if (!stats) return fatal(stats.error().message + " (--strict: nothing written)");
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
  lake_options.memory_budget_bytes = std::int64_t{cfg->lake.memory_budget_mb} * 1024 * 1024;
  lake_options.compression = cfg->lake.compression;
  auto lk = lake::Lake::open(root, /*create=*/true, lake_options);
  if (!lk) return fatal(lk.error().message);

  auto dataset = lake::parse_dataset(ingest::format_dataset(*format));
  if (!dataset) return fatal(dataset.error().message);
  const bool derive_bars = !args.no_bars && (*dataset == lake::Dataset::Ticks || *dataset == lake::Dataset::Trades);
  // Bar files are checked for their timeframe, on the clock they were written in.
  const bool check_timeframe = *dataset == lake::Dataset::Bars1m;

  if (!global.quiet) {
    std::fprintf(stderr, "[ingest] %zu file(s) as %s → %s/%s in %s (times read as %s%s%s%s)\n", args.files.size(),
                 std::string(ingest::format_name(*format)).c_str(), std::string(lake::dataset_name(*dataset)).c_str(),
                 args.symbol.c_str(), root.c_str(), options->time_zone.name().c_str(),
                 options->spec ? ", instrument checks on" : ", symbol not configured: no tick-grid checks",
                 args.replace ? ", imported rows replace conflicting ones" : "",
                 generated->empty() ? "" : ", generated data");
  }

  // One writer per dataset for the whole run: with time-ordered files every
  // partition is written once, even when a file's last rows (local time) fall
  // into the next UTC month that the next file continues.
  lake::WriteOptions write_options;
  write_options.replace = args.replace;
  // An MT5 export ends with the bar still forming when it was taken.
  write_options.provisional_tail = *format == ingest::Format::Mt5Bars;
  write_options.generated = *generated;
  auto main_writer = (*lk)->writer(*dataset, args.symbol, write_options);
  if (!main_writer) return fatal(main_writer.error().message);
  std::unique_ptr<lake::LakeWriter> bar_writer;
  if (derive_bars) {
    lake::WriteOptions bar_options = write_options;
    bar_options.provisional_tail = true;  // the last minute aggregated may be incomplete
    auto w = (*lk)->writer(lake::Dataset::Bars1m, args.symbol, bar_options);
    if (!w) return fatal(w.error().message);
    bar_writer = std::move(*w);
  }
  BarAggregator aggregator;
  const auto started = std::chrono::steady_clock::now();
  int exit_code = 0;
  std::int64_t total_rejected = 0, total_rows = 0;
  nlohmann::ordered_json files_json = nlohmann::ordered_json::array();

  // Parsing runs on its own thread, a few batches ahead of the writes here.
  // The parser may run ahead by an eighth of the memory budget (at least the
  // queue's default), so that it keeps parsing while a day is merged and
  // written instead of waiting on a full queue.
  std::size_t queue_batches = ingest::BatchQueue::kDefaultCapacity;
  if (cfg->lake.memory_budget_mb > 0 && *dataset != lake::Dataset::Book) {
    const std::size_t batch_bytes = ingest::BatchingSink::kDefaultBatchRecords * sizeof(Tick);
    queue_batches = std::max(
        queue_batches, std::size_t{static_cast<unsigned>(cfg->lake.memory_budget_mb)} * 1024 * 1024 / 8 / batch_bytes);
  }
  ingest::BatchQueue queue(queue_batches);
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
    if (!sink) {
      sink.emplace(main_writer->get(), bar_writer.get(), &aggregator, reject_file_name(**lk, args.files[file_index]),
                   check_timeframe ? std::optional<TimeZone>(options->time_zone) : std::nullopt);
    }
    batch->deliver(*sink);
    if (const auto& e = (*main_writer)->error()) return fatal(e->message);
    if (!batch->end_of_file) continue;
    const std::string& file = args.files[file_index++];
    const LakeSink::Verdict verdict = sink->finish();
    if (const auto& e = (*main_writer)->error()) return fatal(e->message);
    nlohmann::ordered_json file_json = {{"file", file}, {"status", "imported"}};
    if (verdict.timeframe) {
      file_json["timeframe"] = {
          {"detected", verdict.timeframe->kind == Timeframe::Kind::Unknown ? std::string("unknown")
                       : verdict.timeframe->mt5_name().empty()             ? verdict.timeframe->label()
                                                                           : verdict.timeframe->mt5_name()},
          {"label", verdict.timeframe->label()},
          {"evidence", verdict.timeframe->evidence()}};
    }
    const auto& stats = *batch->end_of_file;
    if (verdict.refused) {
      const std::string what = *format == ingest::Format::Mt5Bars ? "export M1 from MetaTrader 5 and import that"
                                                                  : "import a 1-minute export of the same market";
      const std::string message = file + " holds " + verdict.timeframe->label() +
                                  " bars: " + verdict.timeframe->evidence() +
                                  "; the lake stores 1-minute bars: " + what + " (nothing of this file was written)";
      std::fprintf(stderr, "quant: %s\n", message.c_str());
      file_json["status"] = "refused";
      file_json["error"] = message;
      files_json.push_back(std::move(file_json));
      exit_code = 1;
      sink.reset();
      continue;
    }
    if (verdict.written_before && !global.quiet) {
      std::fprintf(stderr,
                   "[ingest] warning: %s began with 1-minute bars (written), but as a whole it looks like %s bars: "
                   "%s; check it with quant lake verify --symbol %s\n",
                   file.c_str(), verdict.timeframe->label().c_str(), verdict.timeframe->evidence().c_str(),
                   args.symbol.c_str());
    }
    if (!stats) {
      // An I/O failure or a broken file mid-way: the rows read before it are
      // valid and stay; the rest of this file was never read. Say so, go on.
      std::fprintf(stderr, "quant: %s (rows before this point are kept; the rest of the file was not read)\n",
                   stats.error().message.c_str());
      file_json["status"] = "failed";
      file_json["error"] = stats.error().message;
      files_json.push_back(std::move(file_json));
      exit_code = 1;
      sink.reset();
      continue;
    }
    if (!args.json) {
      std::printf("%s: %lld rows read, %lld rejected; %s .. %s; %.2f s\n", file.c_str(),
                  static_cast<long long>(stats->records), static_cast<long long>(stats->rejected),
                  format_utc(stats->first_ts).c_str(), format_utc(stats->last_ts).c_str(), batch->seconds);
    }
    file_json["rows"] = stats->records;
    file_json["rejected"] = stats->rejected;
    file_json["first_ts"] =
        stats->records > 0 ? nlohmann::ordered_json(format_utc(stats->first_ts)) : nlohmann::ordered_json();
    file_json["last_ts"] =
        stats->records > 0 ? nlohmann::ordered_json(format_utc(stats->last_ts)) : nlohmann::ordered_json();
    file_json["seconds"] = batch->seconds;
    file_json["reject_file"] = nullptr;
    if (sink->wrote_rejects()) {
      for (const auto& line : sink->first_rejects()) std::fprintf(stderr, "  rejected %s\n", line.c_str());
      if (!args.json) {
        std::printf("  %lld bad row(s) kept with their reasons in %s\n", static_cast<long long>(stats->rejected),
                    sink->reject_path().c_str());
      }
      file_json["reject_file"] = sink->reject_path();
    }
    files_json.push_back(std::move(file_json));
    total_rejected += stats->rejected;
    total_rows += stats->records;
    sink.reset();
  }
  if (bar_writer) {
    if (auto b = aggregator.finish()) bar_writer->add(*b);
  }
  auto written = (*main_writer)->flush();
  if (!written) return fatal(written.error().message);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const double rate = secs > 0 ? static_cast<double>(total_rows + total_rejected) / secs : 0.0;
  const std::string dataset_text(lake::dataset_name(*dataset));
  nlohmann::ordered_json datasets_json = nlohmann::ordered_json::array();
  datasets_json.push_back(dataset_json(dataset_text, args.symbol, "import", *written));
  if (!args.json) {
    const std::string conflicts = args.replace
                                      ? "(" + std::to_string(written->replaced) + " replaced by the imported rows)"
                                      : "(kept the lake's)";
    std::printf(
        "%s/%s: %lld rows read, %lld added, %lld already present, %lld conflicting %s, "
        "%lld rejected; %lld partition(s) written; %.2f s, %.0f rows/s\n",
        dataset_text.c_str(), args.symbol.c_str(), static_cast<long long>(total_rows),
        static_cast<long long>(written->added), static_cast<long long>(written->duplicates),
        static_cast<long long>(written->conflicts), conflicts.c_str(), static_cast<long long>(total_rejected),
        static_cast<long long>(written->partitions_written), secs, rate);
    print_merge_details(*written, args.replace, *generated);
  }
  if (bar_writer) {
    auto b = bar_writer->flush();
    if (!b) return fatal(b.error().message);
    datasets_json.push_back(dataset_json("bars_1m", args.symbol, "aggregated from " + dataset_text, *b));
    datasets_json.back()["late_records"] = aggregator.late_updates();
    if (!args.json) {
      std::printf("bars_1m/%s (aggregated from %s): %lld added, %lld already present, %lld conflicting%s%s\n",
                  args.symbol.c_str(), dataset_text.c_str(), static_cast<long long>(b->added),
                  static_cast<long long>(b->duplicates), static_cast<long long>(b->conflicts),
                  args.replace ? (" (" + std::to_string(b->replaced) + " replaced)").c_str() : "",
                  aggregator.late_updates() > 0
                      ? (", " + std::to_string(aggregator.late_updates()) + " out-of-order records not in bars").c_str()
                      : "");
      print_merge_details(*b, args.replace, *generated);
    }
  }
  if (args.json) {
    const nlohmann::ordered_json summary = {
        {"status", exit_code == 0 ? "ok" : "partial"},
        {"lake", (*lk)->root()},
        {"format", std::string(ingest::format_name(*format))},
        {"symbol", args.symbol},
        {"time_zone", options->time_zone.name()},
        {"replace", args.replace},
        {"generated", generated->empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(*generated)},
        {"files", files_json},
        {"datasets", datasets_json},
        {"rows", total_rows},
        {"rejected", total_rejected},
        {"seconds", secs},
        {"rows_per_second", rate},
        {"exit_code", exit_code}};
    std::printf("%s\n", summary.dump(2).c_str());
  }
  return exit_code;
}

}  // namespace quant::app
