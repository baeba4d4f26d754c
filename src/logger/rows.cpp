// Stream entries → JSONEachRow lines. The rows are written by hand (not
// through a JSON DOM): a tick becomes one short line, and the logger writes
// tens of thousands per second.

#include "logger/rows.h"

#include <charconv>
#include <cmath>
#include <type_traits>
#include <variant>

#include "core/json_text.h"
#include "execution/bridge_protocol.h"
#include "stream/metrics.h"

namespace quant::logger {

namespace bridge = execution::bridge;

namespace {

constexpr std::string_view kTickPrefix = "md:tick:";

/// One JSON object being written: {"k":v,...}.
class RowWriter {
 public:
  explicit RowWriter(std::string& out) : out_(out) { out_ += '{'; }
  RowWriter& text(std::string_view key, std::string_view value) {
    name(key);
    append_json_string(out_, value);
    return *this;
  }
  /// An integer (signed or not) in decimal.
  template <class Integer>
  RowWriter& integer(std::string_view key, Integer value) {
    static_assert(std::is_integral_v<Integer>);
    name(key);
    char buf[24];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    out_.append(buf, r.ptr);
    return *this;
  }
  /// Shortest text that reads back to the same double; NaN/inf as null
  /// (only Nullable columns get them: the converters check the others).
  RowWriter& real(std::string_view key, double value) {
    name(key);
    if (!std::isfinite(value)) {
      out_ += "null";
      return *this;
    }
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, value);
    out_.append(buf, r.ptr);
    return *this;
  }
  void close() { out_ += '}'; }

 private:
  void name(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += key;
    out_ += "\":";
  }
  std::string& out_;
  bool first_ = true;
};

Conversion rejected(const stream::Entry& e, std::string reason, std::uint64_t logged_ms) {
  Conversion c;
  c.kind = Conversion::Kind::Rejected;
  c.table = Table::Rejects;
  c.row = reject_row(e, reason, logged_ms);
  c.reason = std::move(reason);
  return c;
}

void stream_id(RowWriter& w, const stream::Entry& e) {
  w.integer("stream_ms", e.id.ms).integer("stream_seq", e.id.seq);
}

Conversion tick_row(const stream::Entry& e, std::uint64_t logged_ms) {
  const std::string_view symbol = std::string_view(e.stream).substr(kTickPrefix.size());
  auto message = bridge::decode(e.field("msg"));
  if (!message) return rejected(e, "msg: " + message.error().message, logged_ms);
  const auto* t = std::get_if<bridge::TickMsg>(&message->body);
  if (t == nullptr) {
    return rejected(e, "a '" + std::string(bridge::type_name(message->body)) + "' message in a tick stream", logged_ms);
  }
  if (t->symbol != symbol)
    return rejected(e, "a tick of " + t->symbol + " in the stream of " + std::string(symbol), logged_ms);
  if (!std::isfinite(t->tick.volume)) return rejected(e, "volume is not a finite number", logged_ms);
  Conversion c;
  c.table = Table::Ticks;
  c.produced_ns = e.integer("recv_ns").value_or(0);
  RowWriter w(c.row);
  w.text("symbol", t->symbol)
      .integer("ts_ms", std::chrono::duration_cast<std::chrono::milliseconds>(t->tick.ts.time_since_epoch()).count())
      .real("bid", t->tick.bid)
      .real("ask", t->tick.ask)
      .real("last", t->tick.last)
      .real("volume", t->tick.volume)
      .integer("flags", t->tick.flags);
  stream_id(w, e);
  w.integer("recv_ns", c.produced_ns).integer("logged_ms", logged_ms);
  w.close();
  return c;
}

Conversion fill_row(const stream::Entry& e, std::uint64_t logged_ms) {
  auto message = bridge::decode(e.field("msg"));
  if (!message) return rejected(e, "msg: " + message.error().message, logged_ms);
  const auto* f = std::get_if<bridge::FillMsg>(&message->body);
  if (f == nullptr) {
    Conversion c;
    c.kind = Conversion::Kind::Skipped;
    c.reason = std::string(bridge::type_name(message->body)) + " is not a trade";
    return c;
  }
  if (f->exec_id.empty()) return rejected(e, "fill without exec_id", logged_ms);
  if (!std::isfinite(f->price) || !std::isfinite(f->fee)) return rejected(e, "price or fee is not finite", logged_ms);
  Conversion c;
  c.table = Table::Trades;
  c.produced_ns = e.integer("recv_ns").value_or(0);
  RowWriter w(c.row);
  w.text("symbol", f->symbol)
      .integer("ts_ms", f->time_msc)
      .text("exec_id", f->exec_id)
      .text("cl_ord_id", f->cl_ord_id)
      .text("side", to_string(f->side))
      .integer("qty", f->qty)
      .real("price", f->price)
      .real("fee", f->fee)
      .integer("cum_qty", f->cum_qty)
      .integer("leaves_qty", f->leaves_qty)
      .text("ord_status", bridge::to_string(f->ord_status));
  stream_id(w, e);
  w.integer("recv_ns", c.produced_ns).integer("logged_ms", logged_ms);
  w.close();
  return c;
}

Conversion metrics_row(const stream::Entry& e, std::uint64_t logged_ms) {
  auto m = stream::parse_metrics(e.fields);
  if (!m) return rejected(e, m.error().message, logged_ms);
  Conversion c;
  c.table = Table::Metrics;
  c.produced_ns = m->sent_ns;
  RowWriter w(c.row);
  w.text("symbol", m->symbol)
      .integer("ts_ms", m->ts_ms)
      .text("session", m->session)
      .real("equity", m->equity)
      .integer("position", m->position)
      .real("realized_pnl", m->realized_pnl)
      .real("open_pnl", m->open_pnl)
      .real("day_start_equity", m->day_start_equity)
      .real("drawdown", m->drawdown)
      .integer("halted", m->halted ? 1 : 0);
  stream_id(w, e);
  w.integer("sent_ns", m->sent_ns).integer("logged_ms", logged_ms);
  w.close();
  return c;
}

}  // namespace

std::string_view table_name(Table table) {
  switch (table) {
    case Table::Ticks: return "ticks";
    case Table::Trades: return "trades";
    case Table::Metrics: return "metrics";
    case Table::Rejects: return "rejects";
  }
  return "?";
}

std::string reject_row(const stream::Entry& entry, std::string_view reason, std::uint64_t logged_ms) {
  std::string fields = "{";
  for (std::size_t i = 0; i < entry.fields.size(); ++i) {
    if (i > 0) fields += ',';
    append_json_string(fields, entry.fields[i].first);
    fields += ':';
    append_json_string(fields, entry.fields[i].second);
  }
  fields += '}';
  std::string row;
  RowWriter w(row);
  w.text("stream", entry.stream);
  stream_id(w, entry);
  w.text("reason", reason).text("fields", fields).integer("logged_ms", logged_ms);
  w.close();
  return row;
}

Conversion convert(const stream::Entry& entry, std::uint64_t logged_ms) {
  if (entry.stream.size() > kTickPrefix.size() && entry.stream.compare(0, kTickPrefix.size(), kTickPrefix) == 0)
    return tick_row(entry, logged_ms);
  if (entry.stream == stream::kFills) return fill_row(entry, logged_ms);
  if (entry.stream == stream::kMetrics) return metrics_row(entry, logged_ms);
  return rejected(entry, "the logger has no table for stream " + entry.stream, logged_ms);
}

std::vector<std::string> logged_streams(const std::vector<std::string>& symbols) {
  std::vector<std::string> streams;
  streams.reserve(symbols.size() + 2);
  for (const auto& s : symbols) streams.push_back(stream::tick_key(s));
  streams.emplace_back(stream::kFills);
  streams.emplace_back(stream::kMetrics);
  return streams;
}

}  // namespace quant::logger
