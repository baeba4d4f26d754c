#include "strategy/book_imbalance_filter.h"

#include <chrono>
#include <utility>

namespace quant::strategy {

SeriesImbalanceSource::SeriesImbalanceSource(std::shared_ptr<const features::ImbalanceSeries> series)
    : series_(std::move(series)) {
  QUANT_CHECK(series_ != nullptr);
}

std::optional<double> SeriesImbalanceSource::imbalance_at(Timestamp close) {
  const auto& samples = series_->samples;
  while (next_ < samples.size() && samples[next_].close < close) ++next_;
  if (next_ < samples.size() && samples[next_].close == close) return samples[next_].value;
  return std::nullopt;
}

BookImbalanceFilter::BookImbalanceFilter(const BookImbalanceConfig& config, std::unique_ptr<ImbalanceSource> source)
    : config_(config), source_(std::move(source)) {
  QUANT_CHECK(validate(config).has_value());
  QUANT_CHECK(source_ != nullptr);
}

void BookImbalanceFilter::observe(const Bar& bar) {
  observed_close_ = bar.ts + kMinute;
  observed_ = true;
  value_ = source_->imbalance_at(observed_close_);
  ++stats_.bars;
  if (value_) ++stats_.bars_with_data;
}

bool BookImbalanceFilter::allow(const Signal& signal, const Bar& bar) {
  // A strategy that did not show the bar first still gets this bar's value, never the previous one's.
  if (!observed_ || observed_close_ != bar.ts + kMinute) observe(bar);
  ++stats_.entries;
  if (!value_) {
    if (config_.on_missing == MissingImbalance::Allow) {
      ++stats_.missing_passed;
      return true;
    }
    ++stats_.missing_blocked;
    return false;
  }
  const bool pass = signal.action == Action::EnterShort ? *value_ <= -config_.threshold : *value_ >= config_.threshold;
  ++(pass ? stats_.passed : stats_.blocked);
  return pass;
}

features::OrderFlowConfig order_flow_config(const BookImbalanceConfig& config, features::OrderFlowSource source,
                                            double tick_size) {
  features::OrderFlowConfig out;
  out.source = source;
  out.depth = static_cast<std::size_t>(config.depth);
  out.max_book_age = std::chrono::seconds(config.max_book_age_seconds);
  out.tick_size = tick_size;
  return out;
}

}  // namespace quant::strategy
