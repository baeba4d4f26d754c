// The mon:metrics entry body: plain fields, numbers as shortest round-trip text.

#include "stream/metrics.h"

#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>
#include <system_error>

namespace quant::stream {

namespace {

std::string number(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

const std::string* find(const Fields& fields, std::string_view name) {
  for (const auto& [k, v] : fields) {
    if (k == name) return &v;
  }
  return nullptr;
}

Error field_error(std::string_view name, std::string_view what) {
  return Error{"mon:metrics: field " + std::string(name) + ": " + std::string(what)};
}

Expected<const std::string*> required(const Fields& fields, std::string_view name) {
  const std::string* v = find(fields, name);
  if (v == nullptr) return tl::unexpected(field_error(name, "missing"));
  return v;
}

Expected<double> real(const Fields& fields, std::string_view name) {
  auto v = required(fields, name);
  if (!v) return tl::unexpected(v.error());
  double out = 0;
  const std::string& s = **v;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(out))
    return tl::unexpected(field_error(name, "not a finite number: '" + s + "'"));
  return out;
}

Expected<std::int64_t> integer(const Fields& fields, std::string_view name) {
  auto v = required(fields, name);
  if (!v) return tl::unexpected(v.error());
  std::int64_t out = 0;
  const std::string& s = **v;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty())
    return tl::unexpected(field_error(name, "not an integer: '" + s + "'"));
  return out;
}

}  // namespace

Fields metrics_fields(const Metrics& m) {
  return {{"type", "metrics"},
          {"symbol", m.symbol},
          {"ts_ms", std::to_string(m.ts_ms)},
          {"session", m.session},
          {"equity", number(m.equity)},
          {"position", std::to_string(m.position)},
          {"realized_pnl", number(m.realized_pnl)},
          {"open_pnl", number(m.open_pnl)},
          {"day_start_equity", number(m.day_start_equity)},
          {"drawdown", number(m.drawdown)},
          {"halted", m.halted ? "1" : "0"},
          {"sent_ns", std::to_string(m.sent_ns)},
          {"breaker_drawdown", number(m.breaker_drawdown)}};
}

Expected<Metrics> parse_metrics(const Fields& fields) {
  Metrics m;
  const std::string* type = find(fields, "type");
  if (type == nullptr || *type != "metrics")
    return tl::unexpected(field_error("type", "must be 'metrics', got '" + (type ? *type : std::string()) + "'"));
  auto symbol = required(fields, "symbol");
  if (!symbol) return tl::unexpected(symbol.error());
  if ((*symbol)->empty()) return tl::unexpected(field_error("symbol", "empty"));
  m.symbol = **symbol;
  auto session = required(fields, "session");
  if (!session) return tl::unexpected(session.error());
  m.session = **session;
  std::optional<Error> error;
  auto take = [&](auto parser, std::string_view name, auto& out) {
    if (error) return;
    auto v = parser(fields, name);
    if (v) {
      out = *v;
    } else {
      error = v.error();
    }
  };
  take(integer, "ts_ms", m.ts_ms);
  take(real, "equity", m.equity);
  take(integer, "position", m.position);
  take(real, "realized_pnl", m.realized_pnl);
  take(real, "open_pnl", m.open_pnl);
  take(real, "day_start_equity", m.day_start_equity);
  take(real, "drawdown", m.drawdown);
  if (error) return tl::unexpected(*error);
  auto halted = integer(fields, "halted");
  if (!halted) return tl::unexpected(halted.error());
  if (*halted != 0 && *halted != 1) return tl::unexpected(field_error("halted", "must be 0 or 1"));
  m.halted = *halted == 1;
  if (const std::string* sent = find(fields, "sent_ns"); sent != nullptr && !sent->empty()) {
    auto v = integer(fields, "sent_ns");
    if (!v) return tl::unexpected(v.error());
    m.sent_ns = *v;
  }
  if (const std::string* breaker = find(fields, "breaker_drawdown"); breaker != nullptr && !breaker->empty()) {
    auto v = real(fields, "breaker_drawdown");
    if (!v) return tl::unexpected(v.error());
    m.breaker_drawdown = *v;
  }
  return m;
}

}  // namespace quant::stream
