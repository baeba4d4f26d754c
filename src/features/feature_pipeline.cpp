#include "features/feature_pipeline.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>
#include <string>

#include "features/order_flow.h"

namespace quant::features {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
// Volumes are quantised to 2^-16 and clamped to 1e9 so that the window sums
// are exact integers: q < 2^46, window <= 2^14, so N × Σq² < 2^120 fits in 128 bits.
constexpr double kVolumeScale = 65536.0;
constexpr double kMaxVolume = 1e9;
constexpr int kMaxVolumeWindow = 10000;

bool resolve_real_volume(VolumeSource source, AssetClass asset_class) {
  switch (source) {
    case VolumeSource::Real: return true;
    case VolumeSource::Tick: return false;
    case VolumeSource::Auto: break;
  }
  return asset_class == AssetClass::Future || asset_class == AssetClass::Equity || asset_class == AssetClass::Crypto;
}

std::string hh_mm(std::chrono::minutes m) {
  const auto minutes = static_cast<int>(m.count());
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60, minutes % 60);
  return buf;
}

/// What `minutes_since_open` and `day_of_week` depend on: the open of every
/// date. Without a calendar, one fixed open. With one: the first dated open,
/// the dates from which it changes, and the special sessions that open at
/// another time than that date's regular open. Closes, holidays and weekdays
/// change no value, so they stay out of the hash.
void describe_opens(const InstrumentSpec& spec, nlohmann::json& instrument) {
  if (spec.calendar == nullptr) {
    instrument["session_open"] = hh_mm(spec.session.open);
    return;
  }
  const TradingCalendar& c = *spec.calendar;
  instrument["session_open"] = hh_mm(c.hours.front().session.open);
  nlohmann::json changes = nlohmann::json::array(), specials = nlohmann::json::array();
  std::chrono::minutes open = c.hours.front().session.open;
  for (const DatedSession& e : c.hours) {
    if (e.session.open == open) continue;
    open = e.session.open;
    changes.push_back(nlohmann::json::array({format_date(e.from), hh_mm(open)}));
  }
  for (const SpecialSession& s : c.special_sessions) {
    if (s.open && *s.open != c.regular_session(s.date).open) {
      specials.push_back(nlohmann::json::array({format_date(s.date), hh_mm(*s.open)}));
    }
  }
  if (!changes.empty()) instrument["session_open_changes"] = std::move(changes);
  if (!specials.empty()) instrument["special_session_opens"] = std::move(specials);
}

}  // namespace

const char* to_string(VolumeSource source) {
  switch (source) {
    case VolumeSource::Auto: return "auto";
    case VolumeSource::Real: return "real";
    case VolumeSource::Tick: return "tick";
  }
  return "?";
}

Expected<void> validate(const FeatureConfig& c) {
  if (c.return_windows.empty()) return make_error("features.return_windows: must list at least one window");
  std::set<int> seen;
  for (int w : c.return_windows) {
    if (w < 1 || w > 100000)
      return make_error("features.return_windows: each window must be in [1, 100000], got " + std::to_string(w));
    if (!seen.insert(w).second)
      return make_error("features.return_windows: window " + std::to_string(w) + " is listed twice");
  }
  if (c.ma_fast < 1) return make_error("features.ma_fast: must be >= 1, got " + std::to_string(c.ma_fast));
  if (c.ma_slow <= c.ma_fast) {
    return make_error("features.ma_slow: must be greater than features.ma_fast (" + std::to_string(c.ma_fast) +
                      "), got " + std::to_string(c.ma_slow));
  }
  if (c.atr_period < 1) return make_error("features.atr_period: must be >= 1, got " + std::to_string(c.atr_period));
  if (c.keltner_period < 1)
    return make_error("features.keltner_period: must be >= 1, got " + std::to_string(c.keltner_period));
  if (!(c.keltner_multiple > 0) || !std::isfinite(c.keltner_multiple)) {
    return make_error("features.keltner_multiple: must be > 0, got " + std::to_string(c.keltner_multiple));
  }
  if (c.volume_window < 2 || c.volume_window > kMaxVolumeWindow) {
    return make_error("features.volume_window: must be in [2, 10000], got " + std::to_string(c.volume_window));
  }
  if (c.book_depth < 1) return make_error("features.book_depth: must be >= 1, got " + std::to_string(c.book_depth));
  if (c.hmm_volatility_window < 2 || c.hmm_volatility_window > RollingVolatility::kMaxPeriod) {
    return make_error("features.hmm_volatility_window: must be in [2, 100000], got " +
                      std::to_string(c.hmm_volatility_window));
  }
  return {};
}

std::vector<HmmObservation> hmm_observations(std::span<const Bar> bars, int volatility_window) {
  HmmObserver observer(volatility_window);
  std::vector<HmmObservation> out;
  out.reserve(bars.size());
  for (const Bar& b : bars) {
    QUANT_CHECK(b.close > 0);
    if (observer.update(b.close, std::log(b.close))) out.push_back(observer.observation());
  }
  return out;
}

Expected<FeaturePipeline> FeaturePipeline::create(const FeatureConfig& config, const InstrumentSpec& spec,
                                                  bool with_book, const HmmParams* hmm) {
  if (auto r = validate(config); !r) return tl::unexpected(r.error());
  if (!(spec.tick_size > 0)) return make_error("features: instrument " + spec.symbol + " has no tick size");
  if (hmm != nullptr) {
    if (auto r = hmm->validate(); !r) return tl::unexpected(r.error());
  }
  auto zone = TimeZone::find(spec.time_zone);
  if (!zone) return tl::unexpected(zone.error());
  return FeaturePipeline(config, spec, *zone, with_book, hmm);
}

FeaturePipeline::FeaturePipeline(const FeatureConfig& config, const InstrumentSpec& spec, TimeZone zone, bool with_book,
                                 const HmmParams* hmm)
    : return_windows_(config.return_windows),
      log_closes_(static_cast<std::size_t>(
                      std::max(1, *std::max_element(config.return_windows.begin(), config.return_windows.end()))) +
                  1),
      spread_(config.ma_kind, config.ma_fast, config.ma_kind, config.ma_slow),
      keltner_(config.keltner_period, config.keltner_multiple, config.atr_period),
      volumes_(static_cast<std::size_t>(std::clamp(config.volume_window, 2, kMaxVolumeWindow))),
      observer_(config.hmm_volatility_window),
      grid_(spec.tick_size),
      sessions_(spec, std::move(zone)),
      book_depth_(static_cast<std::size_t>(std::max(1, config.book_depth))),
      use_real_volume_(resolve_real_volume(config.volume_source, spec.asset_class)),
      with_book_(with_book) {
  QUANT_CHECK(validate(config).has_value());
  QUANT_CHECK(spec.tick_size > 0);
  max_window_ = log_closes_.capacity() - 1;
  if (hmm != nullptr) hmm_.emplace(*hmm);  // HmmFilter checks the params
  build_manifest(config, spec, hmm);
  values_.assign(manifest_.names.size(), kNaN);
}

void FeaturePipeline::build_manifest(const FeatureConfig& config, const InstrumentSpec& spec, const HmmParams* hmm) {
  auto& names = manifest_.names;
  for (int w : return_windows_) names.push_back("ret_log_" + std::to_string(w));
  slot_spread_ = names.size();
  names.emplace_back("ma_spread_atr");
  slot_keltner_ = names.size();
  names.emplace_back("keltner_position");
  slot_atr_ = names.size();
  names.emplace_back("atr_pct");
  slot_volume_ = names.size();
  names.emplace_back("volume_z");
  slot_minutes_ = names.size();
  names.emplace_back("minutes_since_open");
  slot_weekday_ = names.size();
  names.emplace_back("day_of_week");
  nlohmann::json p = nlohmann::json::object();
  p["version"] = 1;
  p["bar"] = {
      {"return_windows", return_windows_},
      {"ma", {{"kind", to_string(config.ma_kind)}, {"fast", config.ma_fast}, {"slow", config.ma_slow}}},
      {"atr_period", config.atr_period},
      {"keltner", {{"period", config.keltner_period}, {"multiple", config.keltner_multiple}}},
      {"volume", {{"window", config.volume_window}, {"source", use_real_volume_ ? "real" : "tick"}}},
  };
  p["instrument"] = {{"tick_size", spec.tick_size}, {"time_zone", spec.time_zone}};
  describe_opens(spec, p["instrument"]);
  if (with_book_) {
    slot_book_ = names.size();
    names.emplace_back("book_imbalance_top");
    names.push_back("book_imbalance_depth" + std::to_string(book_depth_));
    names.emplace_back("book_spread_ticks");
    names.emplace_back("book_microprice_mid_ticks");
    p["book"] = {{"depth", book_depth_}};
  }
  if (hmm != nullptr) {
    slot_hmm_ = names.size();
    for (int k = 0; k < hmm->states; ++k) names.push_back("hmm_p" + std::to_string(k));
    p["hmm"] = {{"volatility_window", config.hmm_volatility_window}, {"model", hmm->to_json()}};
  }
  manifest_.params = std::move(p);
  manifest_.rehash();
}

void FeaturePipeline::update(const Bar& bar) {
  QUANT_CHECK(bar.close > 0);
  ++bars_;
  float* v = values_.data();

  // Returns: one log per bar; ret_w is a difference of stored log closes.
  const double log_close = std::log(bar.close);
  log_closes_.push(log_close);
  const std::size_t size = log_closes_.size();
  for (std::size_t i = 0; i < return_windows_.size(); ++i) {
    const auto w = static_cast<std::size_t>(return_windows_[i]);
    v[i] = w < size ? static_cast<float>(log_close - log_closes_[size - 1 - w]) : kNaN;
  }

  // Trend and channel (price units; the MAs run on whole ticks).
  spread_.update(grid_.to_ticks(bar.close));
  keltner_.update(bar.high, bar.low, bar.close);
  const WilderAtr& atr = keltner_.atr();
  if (spread_.ready() && atr.ready()) {
    const double diff = (spread_.fast().value() - spread_.slow().value()) * grid_.tick_size();
    v[slot_spread_] = atr.value() > 0 ? static_cast<float>(diff / atr.value()) : 0.0f;
  }
  if (keltner_.ready()) {
    const double width = keltner_.upper() - keltner_.lower();
    v[slot_keltner_] = width > 0 ? static_cast<float>((bar.close - keltner_.lower()) / width) : 0.5f;
  }
  if (atr.ready()) v[slot_atr_] = static_cast<float>(100.0 * atr.value() / bar.close);

  // Volume z-score from exact integer window sums (no drift, no recompute).
  const double raw_volume = use_real_volume_ ? bar.volume : static_cast<double>(bar.tick_volume);
  const std::int64_t q = std::llround(std::clamp(raw_volume, 0.0, kMaxVolume) * kVolumeScale);
  const std::int64_t old = volumes_.push(q);
  volume_sum_ += static_cast<Int128>(q) - old;
  volume_sum_squares_ += static_cast<Int128>(q) * q - static_cast<Int128>(old) * old;
  if (volumes_.full()) {
    // z = (N q − S) × sqrt((N − 1) / (N × D)), D = N Σq² − S² (exact, >= 0).
    const auto n = static_cast<Int128>(volumes_.capacity());
    const Int128 d = n * volume_sum_squares_ - volume_sum_ * volume_sum_;
    const double centred = static_cast<double>(n * q - volume_sum_);
    const double nd = static_cast<double>(n);
    v[slot_volume_] = d > 0 ? static_cast<float>(centred * std::sqrt((nd - 1) / (nd * static_cast<double>(d)))) : 0.0f;
  }

  // Session time, by the same rule as the engine's session clock.
  const SessionPlace place = sessions_.locate(bar.ts);
  v[slot_minutes_] = static_cast<float>(place.minutes_since_open);
  v[slot_weekday_] = static_cast<float>(place.weekday);

  if (observer_.update(bar.close, log_close) && hmm_) {
    const auto p = hmm_->update(observer_.observation());
    for (std::size_t k = 0; k < p.size(); ++k) v[slot_hmm_ + k] = static_cast<float>(p[k]);
  }
}

bool FeaturePipeline::update_book(const BookSnapshot& book) {
  if (!with_book_ || book.bids.empty() || book.asks.empty()) return false;
  // One imbalance formula for the model's features and the strategy's
  // book-imbalance filter (order_flow.h). No value — a corrupt level (negative
  // or NaN size) or nothing on either side — makes the snapshot unusable: the
  // previous snapshot's values hold, as for any unusable snapshot.
  const std::optional<double> top = book_imbalance(book, 1);
  const std::optional<double> deep = book_imbalance(book, book_depth_);
  if (!top || !deep) return false;
  const BookLevel& bid = book.bids.front();
  const BookLevel& ask = book.asks.front();
  const double tick = grid_.tick_size();
  const double mid = 0.5 * (bid.price + ask.price);
  const double micro = (bid.price * ask.size + ask.price * bid.size) / (bid.size + ask.size);
  const double computed[4] = {*top, *deep, (ask.price - bid.price) / tick, (micro - mid) / tick};
  for (double x : computed) {
    if (!std::isfinite(x)) return false;
  }
  float* v = values_.data() + slot_book_;
  for (std::size_t i = 0; i < 4; ++i) v[i] = static_cast<float>(computed[i]);
  book_seen_ = true;
  return true;
}

bool FeaturePipeline::ready() const {
  return log_closes_.size() > max_window_ && spread_.ready() && keltner_.ready() && volumes_.full() &&
         (!with_book_ || book_seen_) && (!hmm_ || observer_.ready());
}

std::span<const double> FeaturePipeline::regime_probabilities() const {
  if (!hmm_) return {};
  return hmm_->probabilities();
}

std::optional<HmmObservation> FeaturePipeline::hmm_observation() const {
  if (!observer_.ready()) return std::nullopt;
  return observer_.observation();
}

}  // namespace quant::features
