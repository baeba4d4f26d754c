#pragma once
/// The feature pipeline: one object computes the model's feature vector bar by
/// bar, identically in training (research), the backtest and live. Streaming
/// only (each value depends on the bars and book snapshots seen so far), O(1)
/// per bar, no allocation after construction, no I/O.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/instrument.h"
#include "core/market_data.h"
#include "core/session_locator.h"
#include "core/time.h"
#include "features/atr.h"
#include "features/feature_manifest.h"
#include "features/hmm.h"
#include "features/keltner.h"
#include "features/moving_average.h"
#include "features/ring_buffer.h"
#include "features/rolling_volatility.h"

namespace quant::features {

/// Which volume feeds the volume z-score.
enum class VolumeSource : std::uint8_t {
  Auto,  ///< real volume for futures, equities and crypto; tick volume otherwise (FX, index CFDs)
  Real,  ///< Bar::volume
  Tick,  ///< Bar::tick_volume
};
/// "auto" / "real" / "tick".
const char* to_string(VolumeSource source);

/// Feature settings; defaults match the MA-breakout strategy's defaults.
struct FeatureConfig {
  /// Log-return windows in bars (each >= 1, distinct): ret_log_<w> = ln(close_t / close_{t−w}).
  std::vector<int> return_windows = {1, 5, 15, 60};
  MaKind ma_kind = MaKind::Sma;   ///< both averages of the spread
  int ma_fast = 9;                ///< bars, >= 1
  int ma_slow = 21;               ///< bars, > ma_fast
  int atr_period = 14;            ///< Wilder ATR (Keltner bands, spread and ATR features), >= 1
  int keltner_period = 20;        ///< EMA of the Keltner middle line, >= 1
  double keltner_multiple = 1.5;  ///< band half-width in ATRs, > 0
  int volume_window = 20;         ///< bars of the volume z-score, in [2, 10000]
  VolumeSource volume_source = VolumeSource::Auto;
  int book_depth = 5;  ///< levels per side of the depth imbalance, >= 1
  /// Rolling-volatility window of the HMM observation (return, volatility), in [2, 100000].
  int hmm_volatility_window = 20;
};

/// The error names the field and what is allowed.
Expected<void> validate(const FeatureConfig& config);

/// The HMM observation stream the pipeline feeds its filter: for each bar
/// once `window` + 1 closes were seen, {ln(close_t) − ln(close_{t−1}),
/// RollingVolatility(window)}. Research uses `hmm_observations` (same class)
/// to fit the model the pipeline later filters with.
class HmmObserver {
 public:
  explicit HmmObserver(int window) : volatility_(window) {}
  /// Adds one close (> 0); returns true when `observation()` is available.
  bool update(double close, double log_close) {
    volatility_.update(close);
    const double r = log_close - previous_log_close_;
    previous_log_close_ = log_close;
    if (!volatility_.ready()) return false;
    observation_ = {r, volatility_.value()};
    return true;
  }
  bool ready() const { return volatility_.ready(); }
  const HmmObservation& observation() const { return observation_; }

 private:
  RollingVolatility volatility_;
  double previous_log_close_ = 0;
  HmmObservation observation_{0, 0};
};

/// The observations `FeaturePipeline` would feed its HMM over `bars` (closes > 0).
std::vector<HmmObservation> hmm_observations(std::span<const Bar> bars, int volatility_window);

/// Computes the feature vector. Features, in manifest order:
///
/// | name | definition |
/// |---|---|
/// | `ret_log_<w>` per window | ln(close_t / close_{t−w}) |
/// | `ma_spread_atr` | (fast MA − slow MA) in price units / ATR (0 while ATR = 0) |
/// | `keltner_position` | (close − lower) / (upper − lower) (0.5 while the band is flat) |
/// | `atr_pct` | 100 × ATR / close |
/// | `volume_z` | (v − mean) / sample sd over `volume_window` bars including this one (0 when sd = 0) |
/// | `minutes_since_open` | local minutes from the open of the bar's trading day to the bar's start (>= 0) |
/// | `day_of_week` | local weekday of the trading day the bar belongs to, 0 = Sunday |
/// | book (only `with_book`): `book_imbalance_top` | (bid size − ask size) / sum at the best level, in [−1, 1] |
/// | `book_imbalance_depth<N>` | the same over the top N levels per side |
/// | `book_spread_ticks` | (best ask − best bid) / tick |
/// | `book_microprice_mid_ticks` | (microprice − mid) / tick, microprice = (bid × ask size + ask × bid size) / sizes |
/// | HMM (only with a model): `hmm_p<k>` per state | filtered P(state k | observations so far) |
///
/// The trading day and its open come from `quant::SessionLocator` (core), the
/// rule the engine's session clock uses: with a calendar on the spec, each
/// date's actual open (a special session's, else its dated hours); without,
/// the spec's fixed `session.open`. Minutes stay below 1440 unless the next
/// date opens later (the hours before Ash Wednesday's 13:00 open still count
/// from the previous day's 09:00). The manifest records the opens the values
/// depend on (`instrument.session_open`, and with a calendar
/// `session_open_changes` and `special_session_opens` when there are any), so
/// a calendar that moves an open changes the hash; holidays and closes do not
/// change any value and are not hashed.
///
/// Values are floats in a preallocated vector; a feature that is not yet warm
/// is NaN, and `ready()` holds once every feature is warm (book features
/// after the first usable snapshot), after which no value is NaN. Book
/// features keep the latest snapshot's values until the next one. Bars must
/// have close > 0 (QUANT_CHECK: bars reach features validated).
/// Not thread-safe; one instance per instrument and run.
class FeaturePipeline {
 public:
  /// Validates `config` (and `hmm` when given), the spec's tick size (> 0) and
  /// looks up its time zone.
  static Expected<FeaturePipeline> create(const FeatureConfig& config, const InstrumentSpec& spec, bool with_book,
                                          const HmmParams* hmm = nullptr);
  /// The same with the zone already resolved; invalid arguments are bugs (QUANT_CHECK).
  FeaturePipeline(const FeatureConfig& config, const InstrumentSpec& spec, TimeZone zone, bool with_book,
                  const HmmParams* hmm = nullptr);

  /// Adds one closed bar. O(1), no allocation (one time-zone lookup per UTC
  /// offset period, one calendar lookup per local date).
  void update(const Bar& bar);
  /// Adds an L2 snapshot (ignored without book features). Returns false, keeping
  /// the previous book values, when the pipeline has no book features, the
  /// snapshot lacks a bid or an ask, or a value would not be finite.
  bool update_book(const BookSnapshot& book);

  bool ready() const;
  /// One value per manifest name, in manifest order.
  std::span<const float> values() const { return values_; }
  const FeatureManifest& manifest() const { return manifest_; }
  /// The HMM filter's probabilities (empty without a model).
  std::span<const double> regime_probabilities() const;
  /// The latest HMM observation, once the volatility window is warm.
  std::optional<HmmObservation> hmm_observation() const;
  std::size_t bars_seen() const { return bars_; }

 private:
  void build_manifest(const FeatureConfig& config, const InstrumentSpec& spec, const HmmParams* hmm);

  std::vector<int> return_windows_;
  RingBuffer<double> log_closes_;
  MaSpread spread_;
  Keltner keltner_;
  RingBuffer<std::int64_t> volumes_;  // quantised volume, see update()
  HmmObserver observer_;
  std::optional<HmmFilter> hmm_;
  TickGrid grid_;
  SessionLocator sessions_;
  FeatureManifest manifest_;
  std::vector<float> values_;
  Int128 volume_sum_ = 0;
  Int128 volume_sum_squares_ = 0;
  std::size_t bars_ = 0;
  std::size_t max_window_ = 1;
  std::size_t book_depth_ = 5;
  bool use_real_volume_ = true;
  bool with_book_ = false;
  bool book_seen_ = false;
  // Slots in values_.
  std::size_t slot_spread_ = 0, slot_keltner_ = 0, slot_atr_ = 0, slot_volume_ = 0, slot_minutes_ = 0,
              slot_weekday_ = 0;
  std::size_t slot_book_ = 0, slot_hmm_ = 0;
};

}  // namespace quant::features
