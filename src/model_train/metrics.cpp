#include "model_train/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace quant::model_train {

double auc(std::span<const float> prob, std::span<const float> labels) {
  QUANT_CHECK(prob.size() == labels.size());
  const std::size_t n = prob.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return prob[a] < prob[b]; });
  double positive_rank_sum = 0.0;
  std::size_t positives = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j < n && prob[order[j]] == prob[order[i]]) ++j;
    const double rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;  // average of ranks i+1..j
    for (std::size_t k = i; k < j; ++k) {
      if (labels[order[k]] > 0.5f) {
        positive_rank_sum += rank;
        ++positives;
      }
    }
    i = j;
  }
  const std::size_t negatives = n - positives;
  if (positives == 0 || negatives == 0) return std::nan("");
  const auto p = static_cast<double>(positives), q = static_cast<double>(negatives);
  return (positive_rank_sum - p * (p + 1.0) / 2.0) / (p * q);
}

double log_loss(std::span<const float> prob, std::span<const float> labels) {
  QUANT_CHECK(prob.size() == labels.size() && !prob.empty());
  double sum = 0.0;
  for (std::size_t i = 0; i < prob.size(); ++i) {
    const double p = std::clamp(static_cast<double>(prob[i]), 1e-15, 1.0 - 1e-15);
    const double y = static_cast<double>(labels[i]);
    sum -= y * std::log(p) + (1.0 - y) * std::log(1.0 - p);
  }
  return sum / static_cast<double>(prob.size());
}

double brier_score(std::span<const float> prob, std::span<const float> labels) {
  QUANT_CHECK(prob.size() == labels.size() && !prob.empty());
  double sum = 0.0;
  for (std::size_t i = 0; i < prob.size(); ++i) {
    const double d = static_cast<double>(prob[i]) - static_cast<double>(labels[i]);
    sum += d * d;
  }
  return sum / static_cast<double>(prob.size());
}

std::vector<CalibrationBin> calibration_table(std::span<const float> prob, std::span<const float> labels,
                                              std::size_t bins) {
  QUANT_CHECK(prob.size() == labels.size() && bins > 0);
  std::vector<CalibrationBin> table(bins);
  std::vector<double> sum_p(bins, 0.0), sum_y(bins, 0.0);
  for (std::size_t b = 0; b < bins; ++b) {
    table[b].lower = static_cast<double>(b) / static_cast<double>(bins);
    table[b].upper = static_cast<double>(b + 1) / static_cast<double>(bins);
  }
  for (std::size_t i = 0; i < prob.size(); ++i) {
    const double p = std::clamp(static_cast<double>(prob[i]), 0.0, 1.0);
    const auto b = std::min(bins - 1, static_cast<std::size_t>(p * static_cast<double>(bins)));
    sum_p[b] += p;
    sum_y[b] += static_cast<double>(labels[i]);
    ++table[b].count;
  }
  for (std::size_t b = 0; b < bins; ++b) {
    const auto c = static_cast<double>(table[b].count);
    table[b].mean_predicted = table[b].count ? sum_p[b] / c : std::nan("");
    table[b].observed = table[b].count ? sum_y[b] / c : std::nan("");
  }
  return table;
}

QuantileCoverage quantile_coverage(std::span<const float> lower, std::span<const float> upper,
                                   std::span<const float> y, double tie) {
  QUANT_CHECK(lower.size() == y.size() && upper.size() == y.size() && !y.empty() && tie >= 0);
  std::size_t below = 0, above = 0, at_below = 0, at_above = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double v = y[i], lo = lower[i], hi = upper[i];
    below += v < lo - tie ? 1 : 0;
    above += v > hi + tie ? 1 : 0;
    at_below += v <= lo + tie ? 1 : 0;
    at_above += v >= hi - tie ? 1 : 0;
  }
  const auto n = static_cast<double>(y.size());
  QuantileCoverage out;
  out.below_lower = static_cast<double>(below) / n;
  out.above_upper = static_cast<double>(above) / n;
  out.inside = 1.0 - out.below_lower - out.above_upper;
  out.at_or_below_lower = static_cast<double>(at_below) / n;
  out.at_or_above_upper = static_cast<double>(at_above) / n;
  return out;
}

double coverage_error(double strict, double inclusive, double level) {
  if (level < strict) return strict - level;
  if (level > inclusive) return level - inclusive;
  return 0.0;
}

namespace {
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
}  // namespace

nlohmann::json ValidationMetrics::to_json() const {
  nlohmann::json table = nlohmann::json::array();
  for (const auto& bin : calibration) {
    table.push_back({{"lower", bin.lower},
                     {"upper", bin.upper},
                     {"mean_predicted", number(bin.mean_predicted)},
                     {"observed", number(bin.observed)},
                     {"count", bin.count}});
  }
  return {{"rows", rows},
          {"auc", number(auc)},
          {"log_loss", number(log_loss)},
          {"brier", number(brier)},
          {"calibration", table},
          {"coverage",
           {{"below_q10", coverage.below_lower},
            {"above_q90", coverage.above_upper},
            {"inside", coverage.inside},
            {"at_or_below_q10", coverage.at_or_below_lower},
            {"at_or_above_q90", coverage.at_or_above_upper}}}};
}

ValidationMetrics evaluate(std::span<const float> prob, std::span<const float> labels, std::span<const float> q10,
                           std::span<const float> q90, std::span<const float> move, double tie) {
  ValidationMetrics m;
  m.rows = prob.size();
  m.auc = model_train::auc(prob, labels);
  m.log_loss = model_train::log_loss(prob, labels);
  m.brier = brier_score(prob, labels);
  m.calibration = calibration_table(prob, labels);
  m.coverage = quantile_coverage(q10, q90, move, tie);
  return m;
}

}  // namespace quant::model_train
