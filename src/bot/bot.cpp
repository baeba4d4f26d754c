#include "bot/bot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <utility>

#include "bot/equity_chart.h"
#include "execution/bridge_protocol.h"

namespace quant::bot {

namespace {

constexpr std::int64_t kDayMs = 86'400'000;

std::int64_t to_ms(Timestamp t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Timestamp from_ms(std::int64_t ms) { return Timestamp(std::chrono::milliseconds(ms)); }

std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

std::string money(double v) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2f", v);
  return text;
}

std::string percent(double fraction) {
  char text[64];
  std::snprintf(text, sizeof text, "%.2f%%", fraction * 100);
  return text;
}

/// " (breaker at -3.00%)", or " (no breaker)" when live runs without one.
std::string breaker_text(double breaker_drawdown) {
  return breaker_drawdown < 0 ? " (breaker at " + percent(breaker_drawdown) + ")" : std::string(" (no breaker)");
}

std::string age_text(std::int64_t ms) {
  const std::int64_t s = std::max<std::int64_t>(0, ms / 1000);
  if (s < 120) return std::to_string(s) + " s";
  if (s < 7200) return std::to_string(s / 60) + " min";
  return std::to_string(s / 3600) + " h";
}

std::string time_text(std::int64_t ms) { return format_utc(from_ms(floor_div(ms, 1000) * 1000)); }

/// "/status@MyBot arg" → ("status", "arg"); not a command → ("", "").
std::pair<std::string, std::string> split_command(const std::string& text) {
  if (text.empty() || text[0] != '/') return {"", ""};
  const auto space = text.find_first_of(" \n\t");
  std::string word = text.substr(1, space == std::string::npos ? std::string::npos : space - 1);
  if (const auto at = word.find('@'); at != std::string::npos) word.resize(at);
  for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string rest = space == std::string::npos ? "" : text.substr(space + 1);
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.front()))) rest.erase(rest.begin());
  while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) rest.pop_back();
  return {word, rest};
}

constexpr const char* kHelp =
    "Commands:\n"
    "/status - halted?, per symbol position, equity, drawdown vs the breaker, last market data\n"
    "/pnl - realised and open PnL per symbol, the day's PnL\n"
    "/positions - open positions\n"
    "/halt [reason] - halt trading (sets risk:halt; new entries are refused)\n"
    "/resume - lift the halt (asks for a one-time code first)\n"
    "/help - this list";

}  // namespace

Bot::Bot(BotConfig config, TelegramApi api, stream::Endpoint redis, BotMetrics& metrics, Clock clock, LogLine log)
    : config_(std::move(config)),
      api_(std::move(api)),
      redis_(std::move(redis)),
      metrics_(metrics),
      clock_(std::move(clock)),
      log_(std::move(log)),
      zone_(TimeZone::utc()) {}

Expected<std::unique_ptr<Bot>> Bot::create(BotConfig config, TelegramApi api, stream::Endpoint redis,
                                           BotMetrics& metrics, Clock clock, LogLine log) {
  if (config.chat_ids.empty()) return make_error("bot: no allow-listed chat (telegram.chat_ids is empty)");
  if (config.state_file.empty()) return make_error("bot: telegram.state_file must be set");
  auto zone = TimeZone::find(config.time_zone);
  if (!zone) return tl::unexpected(zone.error());
  if (!clock) clock = [] { return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now()); };
  const std::string token = api.config().token;
  auto redacting = [inner = std::move(log), token](const std::string& line) {
    if (inner) inner(redact(line, token));
  };
  auto state = load_state(config.state_file);
  if (!state) return tl::unexpected(state.error());
  std::unique_ptr<Bot> bot(new Bot(std::move(config), std::move(api), std::move(redis), metrics, std::move(clock),
                                   std::move(redacting)));
  bot->zone_ = *zone;
  bot->state_ = std::move(*state);
  for (const auto& spec : bot->config_.instruments) {
    auto z = TimeZone::find(spec.time_zone);
    if (!z) return make_error("bot: instrument " + spec.symbol + ": " + z.error().message);
    bot->locators_.emplace(spec.symbol, SessionLocator(spec, *z));
  }
  // Metrics from the last day: /status has numbers at once and a breaker-near
  // alert of today still goes out after a restart (once: the state knows).
  bot->metrics_cursor_ = std::to_string(std::max<std::int64_t>(0, to_ms(bot->clock_()) - kDayMs)) + "-0";
  if (bot->config_.fill_alerts) {
    auto consumer = stream::Consumer::connect(bot->redis_, bot->config_.group, bot->config_.consumer,
                                              {std::string(stream::kFills)}, "$");
    if (!consumer) return make_error("bot: exec:fills consumer group: " + consumer.error().message);
    bot->fills_.emplace(std::move(*consumer));
  }
  return bot;
}

bool Bot::allowed(std::int64_t chat) const {
  return std::find(config_.chat_ids.begin(), config_.chat_ids.end(), chat) != config_.chat_ids.end();
}

Expected<void> Bot::save() {
  auto saved = save_state(config_.state_file, state_);
  if (!saved) {
    log_("bot: " + saved.error().message);
    save_failed_ = true;
  }
  return saved;
}

Expected<void> Bot::step() {
  if (auto ok = poll_commands(); !ok) return ok;
  return check_alerts();
}

Expected<void> Bot::poll_commands() {
  auto updates = api_.get_updates(state_.offset);
  if (!updates) {
    log_("bot: " + updates.error().message);
    return {};
  }
  for (const Update& u : *updates) {
    if (u.update_id < state_.offset) continue;  // an answer to an older offset: already handled
    // At most once: the offset moves past the update before its command runs.
    state_.offset = u.update_id + 1;
    if (auto ok = save(); !ok) return ok;
    if (auto ok = handle(u); !ok) return ok;
  }
  return {};
}

Expected<void> Bot::handle(const Update& update) {
  if (update.chat_id == 0) return {};
  if (!allowed(update.chat_id)) {
    metrics_.ignored_update();
    log_("bot: ignored update " + std::to_string(update.update_id) + " from chat " + std::to_string(update.chat_id) +
         " (not on telegram.chat_ids)");
    return {};
  }
  auto [command, argument] = split_command(update.text);
  if (command.empty()) return {};  // plain chatter in an allowed chat
  std::string answer;
  std::string counted = command;
  if (command == "status") {
    answer = command_status();
  } else if (command == "pnl") {
    answer = command_pnl();
  } else if (command == "positions") {
    answer = command_positions();
  } else if (command == "halt") {
    answer = command_halt(update.chat_id, argument);
  } else if (command == "resume") {
    answer = command_resume(update.chat_id, argument);
  } else if (command == "help" || command == "start") {
    counted = "help";
    answer = kHelp;
  } else {
    counted = "unknown";
    answer = "Unknown command /" + command + ".\n" + kHelp;
  }
  metrics_.command(counted);
  log_("bot: /" + counted + " from chat " + std::to_string(update.chat_id));
  reply(update.chat_id, answer);
  return {};
}

void Bot::reply(std::int64_t chat, const std::string& text) {
  if (auto sent = api_.send_message(chat, text); !sent) log_("bot: answer to chat " + std::to_string(chat) + ": " + sent.error().message);
}

std::string Bot::command_status() {
  if (auto ok = read_metrics(); !ok) log_("bot: " + ok.error().message);
  std::string out;
  auto halt = stream::read_halt(redis_);
  if (!halt) {
    out += "Trading: UNKNOWN (Redis: " + halt.error().message + ")\n";
  } else if (*halt) {
    const auto& h = **halt;
    out += "Trading: HALTED - " + h.reason + " (by " + h.by + ", since " + h.time + ")\n";
  } else {
    out += "Trading: running (no halt)\n";
  }
  const std::int64_t now = to_ms(clock_());
  std::vector<std::string> symbols;
  for (const auto& spec : config_.instruments) symbols.push_back(spec.symbol);
  for (const auto& [symbol, m] : latest_) {
    if (std::find(symbols.begin(), symbols.end(), symbol) == symbols.end()) symbols.push_back(symbol);
  }
  if (symbols.empty()) out += "No symbols configured and no mon:metrics yet.\n";
  for (const auto& symbol : symbols) {
    out += "\n" + symbol + ": ";
    auto it = latest_.find(symbol);
    if (it == latest_.end()) {
      out += "no metrics from quant live in the last day";
    } else {
      const auto& m = it->second;
      out += "position " + std::to_string(m.position) + ", equity " + money(m.equity) + ", drawdown " +
             percent(m.drawdown) + breaker_text(m.breaker_drawdown) + (m.halted ? ", halted" : "") +
             ", as of " + time_text(m.ts_ms);
    }
    auto last = last_data_ms(symbol);
    if (!last) {
      out += "\n  last market data unknown (" + last.error().message + ")";
    } else if (*last) {
      out += "\n  last market data " + time_text(**last) + " (" + age_text(now - **last) + " ago)";
    } else {
      out += "\n  no market data on md:tick/md:bar1m";
    }
  }
  return out;
}

std::string Bot::command_pnl() {
  if (auto ok = read_metrics(); !ok) log_("bot: " + ok.error().message);
  if (latest_.empty()) return "No mon:metrics from quant live in the last day.";
  std::string out = "PnL (after fees):";
  double realized = 0, open = 0;
  const stream::Metrics* newest = nullptr;
  for (const auto& [symbol, m] : latest_) {
    out += "\n" + symbol + ": realised " + money(m.realized_pnl) + ", open " + money(m.open_pnl) + ", total " +
           money(m.realized_pnl + m.open_pnl);
    realized += m.realized_pnl;
    open += m.open_pnl;
    if (newest == nullptr || m.ts_ms > newest->ts_ms) newest = &m;
  }
  out += "\nAll: realised " + money(realized) + ", open " + money(open);
  if (newest != nullptr && newest->day_start_equity > 0) {
    out += "\nEquity " + money(newest->equity) + ", day start " + money(newest->day_start_equity) + ", day " +
           money(newest->equity - newest->day_start_equity) + " (" + percent(newest->drawdown) + " drawdown)";
  }
  return out;
}

std::string Bot::command_positions() {
  if (auto ok = read_metrics(); !ok) log_("bot: " + ok.error().message);
  if (latest_.empty()) return "No mon:metrics from quant live in the last day.";
  std::string out = "Positions:";
  bool any = false;
  for (const auto& [symbol, m] : latest_) {
    if (m.position == 0) continue;
    any = true;
    out += "\n" + symbol + ": " + (m.position > 0 ? "long " : "short ") + std::to_string(std::llabs(m.position)) +
           " (open PnL " + money(m.open_pnl) + ", as of " + time_text(m.ts_ms) + ")";
  }
  if (!any) out += " flat in every symbol";
  return out;
}

std::string Bot::command_halt(std::int64_t chat, const std::string& reason) {
  stream::Halt h;
  h.reason = reason.empty() ? "halted from Telegram" : reason;
  h.time = format_utc(std::chrono::time_point_cast<Duration>(std::chrono::floor<std::chrono::seconds>(clock_())));
  h.by = "telegram:" + std::to_string(chat);
  if (auto ok = read_metrics(); ok) {
    for (const auto& [symbol, m] : latest_) h.equity = std::max(h.equity, m.equity);
  }
  // Already halted (by the breaker, say, even a moment ago): its reason and
  // time stay, in one step with the check.
  auto existing = stream::set_halt_if_absent(redis_, h);
  if (!existing) return "Halt NOT set: " + existing.error().message;
  if (*existing) {
    return "Already halted: " + (*existing)->reason + " (by " + (*existing)->by + ", since " + (*existing)->time +
           "). Nothing changed.";
  }
  return "Halt set: " + h.reason + "\nNew entries are refused until /resume.";
}

std::string Bot::command_resume(std::int64_t chat, const std::string& argument) {
  const Timestamp now = clock_();
  auto pending = resumes_.find(chat);
  if (!argument.empty()) {
    if (pending == resumes_.end() || now > pending->second.expires)
      return "No /resume waiting for confirmation (or it expired): send /resume first.";
    const bool right = argument == pending->second.code;
    resumes_.erase(pending);  // one try per code: a wrong one spends it
    if (!right) return "Wrong code: the halt stays. Send /resume again for a new code.";
    auto cleared = stream::clear_halt(redis_);
    if (!cleared) return "Halt NOT cleared: " + cleared.error().message;
    return *cleared ? "Halt cleared: trading may open new positions again." : "No halt was set (nothing to clear).";
  }
  auto halt = stream::read_halt(redis_);
  if (!halt) return "Cannot read risk:halt: " + halt.error().message;
  if (!*halt) return "Not halted: nothing to resume.";
  static thread_local std::mt19937 rng{std::random_device{}()};
  char code[8];
  std::snprintf(code, sizeof code, "%06u", static_cast<unsigned>(rng() % 1000000));
  resumes_[chat] = PendingResume{code, now + config_.resume_window};
  return "Halted: " + (*halt)->reason + " (by " + (*halt)->by + ").\nTo lift the halt send\n/resume " + code +
         "\nwithin " + std::to_string(config_.resume_window.count()) + " s.";
}

Expected<void> Bot::check_prometheus() {
  if (config_.prometheus_url.empty()) return {};
  const Timestamp now = clock_();
  if (prometheus_read_ && now - *prometheus_read_ < config_.prometheus_every) return {};
  prometheus_read_ = now;
  if (!prometheus_) {
    auto client = http::Client::create("quant-bot/1");
    if (!client) return tl::unexpected(client.error());
    prometheus_.emplace(std::move(*client));
  }
  http::Request request;
  request.url = config_.prometheus_url + "/api/v1/alerts";
  request.connect_timeout = std::chrono::milliseconds(2000);
  request.timeout = std::chrono::milliseconds(5000);
  auto answer = prometheus_->perform(request);
  Expected<std::vector<PrometheusAlert>> firing = make_error("");
  if (!answer) {
    firing = make_error(answer.error().message);
  } else if (answer->status != 200) {
    firing = make_error("HTTP " + std::to_string(answer->status));
  } else {
    firing = parse_prometheus_alerts(answer->body);
  }
  if (!firing) {
    // An unreachable Prometheus is no verdict on the alerts: nothing is
    // resolved; Prometheus' own ProcessDown cannot say it, so log it once.
    if (!prometheus_failing_) log_("bot: Prometheus at " + config_.prometheus_url + ": " + firing.error().message);
    prometheus_failing_ = true;
    return {};
  }
  if (prometheus_failing_) log_("bot: Prometheus at " + config_.prometheus_url + " answers again");
  prometheus_failing_ = false;
  std::set<std::string> now_firing;
  for (const PrometheusAlert& a : *firing) {
    if (std::find(config_.prometheus_skip.begin(), config_.prometheus_skip.end(), a.name) !=
        config_.prometheus_skip.end())
      continue;
    now_firing.insert(a.key);
    if (state_.prometheus_firing.count(a.key) != 0) continue;
    std::string text = "ALERT " + a.name + (a.severity.empty() ? "" : " (" + a.severity + ")");
    if (!a.summary.empty()) text += ": " + a.summary;
    if (!a.description.empty()) text += "\n" + a.description;
    if (!a.active_at.empty()) text += "\nsince " + a.active_at;
    if (!deliver("prometheus", text)) return {};  // the next read tries again
    state_.prometheus_firing[a.key] = a.name;
    if (auto ok = save(); !ok) return ok;
  }
  for (auto it = state_.prometheus_firing.begin(); it != state_.prometheus_firing.end();) {
    if (now_firing.count(it->first) != 0) {
      ++it;
      continue;
    }
    if (!deliver("prometheus", "Resolved: " + it->second)) return {};
    it = state_.prometheus_firing.erase(it);
    if (auto ok = save(); !ok) return ok;
  }
  return {};
}

bool Bot::deliver(std::string_view kind, const std::string& text) {
  bool any = false;
  for (std::int64_t chat : config_.chat_ids) {
    if (auto sent = api_.send_message(chat, text); sent) {
      any = true;
    } else {
      log_("bot: " + std::string(kind) + " alert to chat " + std::to_string(chat) + ": " + sent.error().message);
    }
  }
  if (any) metrics_.alert_sent(kind);
  return any;
}

std::int64_t Bot::trading_day(const std::string& symbol, std::int64_t ts_ms) {
  auto it = locators_.find(symbol);
  // The metric's ts_ms is its bar's close: the bar starts a minute earlier.
  if (it != locators_.end()) return it->second.locate(from_ms(ts_ms) - std::chrono::minutes(1)).day;
  return floor_div(ts_ms + to_ms(from_ms(0) + zone_.offset(from_ms(ts_ms))), kDayMs);
}

Expected<void> Bot::check_alerts() {
  // Each check logs its own trouble and the next round tries again; only a
  // state file that cannot be written stops the bot.
  for (auto check : {&Bot::check_halt, &Bot::read_metrics, &Bot::check_fills, &Bot::check_stale, &Bot::check_summary,
                     &Bot::check_prometheus}) {
    save_failed_ = false;
    auto ok = (this->*check)();
    if (!ok) {
      if (save_failed_) return ok;
      log_("bot: " + ok.error().message);
    }
  }
  return {};
}

Expected<void> Bot::check_halt() {
  auto halt = stream::read_halt(redis_);
  if (!halt) return tl::unexpected(halt.error());
  if (*halt) {
    const auto& h = **halt;
    if (state_.halt_present && state_.halt_time == h.time) return {};
    const std::string text = "HALT RAISED: " + h.reason + "\nby " + h.by + " at " + h.time +
                             (h.equity > 0 ? ", equity " + money(h.equity) : "") +
                             "\nNew entries are refused. /resume lifts it.";
    if (!deliver("halt_raised", text)) return {};
    state_.halt_present = true;
    state_.halt_time = h.time;
    return save();
  }
  if (!state_.halt_present) return {};
  if (!deliver("halt_lifted", "Halt lifted: trading may open new positions again.")) return {};
  state_.halt_present = false;
  state_.halt_time.clear();
  return save();
}

Expected<void> Bot::read_metrics() {
  for (;;) {
    auto entries = stream::read_range(redis_, stream::kMetrics, "(" + metrics_cursor_, "+", 500);
    if (!entries) return tl::unexpected(entries.error());
    for (const auto& e : *entries) {
      auto m = stream::parse_metrics(e.fields);
      if (!m) {
        log_("bot: mon:metrics " + e.id.str() + ": " + m.error().message + " (skipped)");
        metrics_cursor_ = e.id.str();
        continue;
      }
      auto& latest = latest_[m->symbol];
      if (m->ts_ms >= latest.ts_ms) latest = *m;
      // The limit live's risk engine enforces, as live published it.
      const double threshold = config_.breaker_near_fraction * m->breaker_drawdown;
      if (m->breaker_drawdown < 0 && m->drawdown <= threshold && !m->halted) {
        const std::int64_t day = trading_day(m->symbol, m->ts_ms);
        const std::int64_t today = trading_day(m->symbol, to_ms(clock_()));
        auto seen = state_.breaker_near_day.find(m->symbol);
        if (day >= today && (seen == state_.breaker_near_day.end() || seen->second < day)) {
          const std::string text = "BREAKER NEAR: " + m->symbol + " drawdown " + percent(m->drawdown) +
                                   breaker_text(m->breaker_drawdown) + ", equity " +
                                   money(m->equity) + " vs day start " + money(m->day_start_equity) + ", position " +
                                   std::to_string(m->position) + ", at " + time_text(m->ts_ms);
          // Not delivered: the cursor stays before this entry, the next round tries again.
          if (!deliver("breaker_near", text)) return {};
          state_.breaker_near_day[m->symbol] = day;
          if (auto ok = save(); !ok) return ok;
        }
      }
      metrics_cursor_ = e.id.str();
    }
    if (entries->size() < 500) return {};
  }
}

Expected<void> Bot::check_fills() {
  if (!fills_) return {};
  if (fill_backlog_.empty()) {
    auto entries = fills_->read(100, std::chrono::milliseconds(0));
    if (!entries) return tl::unexpected(entries.error());
    fill_backlog_.assign(entries->begin(), entries->end());
  }
  auto last = stream::StreamId::parse(state_.last_fill_id);
  while (!fill_backlog_.empty()) {
    const stream::Entry& e = fill_backlog_.front();
    const bool already = last && e.id <= *last;
    auto message = execution::bridge::decode(e.field("msg"));
    const auto* f = message ? std::get_if<execution::bridge::FillMsg>(&message->body) : nullptr;
    if (!already && f != nullptr) {
      char qty_price[96];
      std::snprintf(qty_price, sizeof qty_price, "%lld @ %.10g", static_cast<long long>(f->qty), f->price);
      const std::string text = "FILL " + f->symbol + " " + (f->side == Side::Buy ? "BUY " : "SELL ") + qty_price +
                               " (fee " + money(f->fee) + ")\norder " + f->cl_ord_id + ", exec " + f->exec_id +
                               ", filled " + std::to_string(f->cum_qty) + ", left " + std::to_string(f->leaves_qty) +
                               "\nat " + time_text(f->time_msc);
      if (!deliver("fill", text)) return {};  // kept in the backlog: the next round sends it
      state_.last_fill_id = e.id.str();
      if (auto ok = save(); !ok) return ok;
    } else if (!message) {
      log_("bot: exec:fills " + e.id.str() + ": " + message.error().message + " (skipped)");
    }
    // Acknowledged only once its alert is recorded as sent.
    if (auto acked = fills_->ack(std::string(stream::kFills), {e.id}); !acked) return tl::unexpected(acked.error());
    fill_backlog_.pop_front();
  }
  return {};
}

Expected<std::optional<std::int64_t>> Bot::last_data_ms(const std::string& symbol) {
  auto producer = stream::Producer::connect(redis_, 0);
  if (!producer) return tl::unexpected(producer.error());
  std::optional<std::int64_t> out;
  for (const std::string& key : {stream::tick_key(symbol), stream::bar_key(symbol)}) {
    auto last = producer->last(key);
    if (!last) return tl::unexpected(last.error());
    if (!*last) continue;
    // When it arrived (the bridge's recv_ns), else the entry id's time.
    std::int64_t ms = static_cast<std::int64_t>((*last)->id.ms);
    if (const auto recv_ns = (*last)->integer("recv_ns")) ms = *recv_ns / 1'000'000;
    out = std::max(out.value_or(ms), ms);
  }
  return out;
}

Expected<void> Bot::check_stale() {
  const Timestamp now = clock_();
  const std::int64_t now_ms = to_ms(now);
  const std::int64_t limit_ms = static_cast<std::int64_t>(config_.stale_seconds) * 1000;
  for (auto& [symbol, locator] : locators_) {
    // The minute now is in, placed as a bar: core's one session rule.
    const SessionPlace place = locator.locate(std::chrono::floor<std::chrono::minutes>(now));
    const bool open_long_enough =
        place.in_session && place.minutes_since_open * 60 >= static_cast<std::int64_t>(config_.stale_seconds);
    bool& flagged = state_.stale[symbol];
    if (!open_long_enough && !flagged) continue;  // nothing to judge: no Redis read (this runs every round)
    // Redis unreadable is not a stale feed: no verdict this round.
    auto read = last_data_ms(symbol);
    if (!read) return tl::unexpected(read.error());
    const std::optional<std::int64_t> last = *read;
    const bool stale = open_long_enough && (!last || now_ms - *last > limit_ms);
    if (stale && !flagged) {
      const std::string text = "FEED STALE: " + symbol + " no market data for " +
                               (last ? age_text(now_ms - *last) + " (last " + time_text(*last) + ")" : "the whole session so far") +
                               " while its session is open (limit " + std::to_string(config_.stale_seconds) + " s)";
      if (!deliver("feed_stale", text)) continue;
      flagged = true;
      if (auto ok = save(); !ok) return ok;
    } else if (!stale && flagged) {
      // Fresh data: say so. The session closed meanwhile: drop the flag quietly.
      if (last && now_ms - *last <= limit_ms) {
        if (!deliver("feed_back", "Feed back: " + symbol + " market data again (last " + time_text(*last) + ")"))
          continue;
      }
      flagged = false;
      if (auto ok = save(); !ok) return ok;
    }
  }
  return {};
}

Expected<void> Bot::check_summary() {
  const Timestamp now = clock_();
  const std::int64_t local_ms = to_ms(now + zone_.offset(now));
  const std::int64_t today = floor_div(local_ms, kDayMs);
  const std::int64_t minute_of_day = (local_ms - today * kDayMs) / 60000;
  // Today's once summary_time has passed; before that, yesterday's if it was
  // never sent (the bot was down at summary time: caught up, not lost).
  const std::int64_t day = minute_of_day >= config_.summary_time.count() ? today : today - 1;
  if (state_.summary_day >= day) return {};
  // The local date [day, day + 1) in UTC ms: each midnight through the zone,
  // so a day with a clock change is 23 or 25 hours long.
  const auto midnight_utc = [&](std::int64_t d) {
    const LocalTime local(std::chrono::duration_cast<Duration>(std::chrono::milliseconds(d * kDayMs)));
    auto utc = zone_.to_utc(local);  // Earliest: a skipped midnight moves forward
    return utc ? to_ms(*utc) : d * kDayMs;
  };
  const std::int64_t from = midnight_utc(day);
  const std::int64_t to = midnight_utc(day + 1);
  const std::int64_t offset_ms = day * kDayMs - from;  // the offset at the day's start, for the chart's axis
  auto entries = stream::read_range(redis_, stream::kMetrics, std::to_string(std::max<std::int64_t>(0, from - kDayMs)) + "-0", "+");
  if (!entries) return tl::unexpected(entries.error());
  std::vector<EquityPoint> points;
  std::map<std::string, stream::Metrics> last_of;
  double day_start = 0, worst = 0, breaker = 0;
  for (const auto& e : *entries) {
    auto m = stream::parse_metrics(e.fields);
    if (!m || m->ts_ms < from || m->ts_ms >= to) continue;
    points.push_back({m->ts_ms, m->equity});
    worst = std::min(worst, m->drawdown);  // the risk engine's figure
    breaker = std::min(breaker, m->breaker_drawdown);
    if (day_start == 0 && m->day_start_equity > 0) day_start = m->day_start_equity;
    auto& l = last_of[m->symbol];
    if (m->ts_ms >= l.ts_ms) l = *m;
  }
  const std::string date = format_utc(from_ms(day * kDayMs)).substr(0, 10);
  if (points.empty()) {
    log_("bot: daily summary " + date + ": no mon:metrics that day, nothing sent");
    state_.summary_day = day;
    return save();
  }
  std::sort(points.begin(), points.end(), [](const EquityPoint& a, const EquityPoint& b) { return a.ts_ms < b.ts_ms; });
  const double close = points.back().equity;
  std::string caption = "Daily summary " + date + "\nEquity " + money(close);
  if (day_start > 0) caption += ", day start " + money(day_start) + ", day " + money(close - day_start) + " (" + percent(close / day_start - 1) + ")";
  caption += "\nWorst drawdown " + percent(worst) + breaker_text(breaker);
  for (const auto& [symbol, m] : last_of) {
    caption += "\n" + symbol + ": realised " + money(m.realized_pnl) + ", open " + money(m.open_pnl) + ", position " +
               std::to_string(m.position) + (m.halted ? ", halted" : "");
  }
  ChartOptions chart;
  chart.title = "Equity " + date + " (" + config_.time_zone + ")";
  chart.day_start_equity = day_start;
  chart.breaker_equity = day_start > 0 && breaker < 0 ? day_start * (1 + breaker) : 0;
  chart.utc_offset_s = offset_ms / 1000;
  auto png = equity_chart_png(points, chart);
  bool any = false;
  for (std::int64_t chat : config_.chat_ids) {
    Expected<void> sent = png ? api_.send_photo(chat, *png, caption) : api_.send_message(chat, caption);
    if (sent) {
      any = true;
    } else {
      log_("bot: daily summary to chat " + std::to_string(chat) + ": " + sent.error().message);
    }
  }
  if (!png) log_("bot: daily summary chart: " + png.error().message + " (sent as text)");
  if (!any) return {};
  metrics_.alert_sent("summary");
  state_.summary_day = day;
  return save();
}

}  // namespace quant::bot
