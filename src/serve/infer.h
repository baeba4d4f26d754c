#pragma once
/// `POST /infer` (docs/contracts/serve_api.md): the body is parsed, every
/// feature checked against the gate's manifest (missing, unknown,
/// non-numeric, non-finite: 400 naming it), rows are built in manifest order
/// and scored, and each score is judged by `model::judge` — the backtest's
/// gate rule — with the gate's p_min/use_quantiles and the trade's distances:
/// the target (the request's `target`, else the configured target of its
/// `symbol`) and the stop (`stop`, or `atr` × stop_atr_multiple).
///
/// `pass` is true, false or null: null when the rule needs a stop (a gate
/// with quantiles that passed everything else) and the request gave none;
/// never true without every check the rule makes.
///
/// Pure with respect to I/O: `handle_infer` takes the model set and the
/// worker index and fills a status and body, so tests and the fuzz target run
/// it without a socket.

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "serve/api.h"
#include "serve/model_set.h"

namespace quant::serve {

class Metrics;

/// The distances `/infer` judges a trade with when the request does not give
/// them (`[risk]` of the configuration: the backtest's values).
struct InferSettings {
  double target_points = 100;  ///< [risk] target_points: the target of a symbol without its own (price points)
  /// [risk.target_points_by_symbol]: targets per symbol (price points).
  std::map<std::string, double, std::less<>> target_points_by_symbol;
  double stop_atr_multiple = 2.0;  ///< [risk] stop_atr_multiple: stop = this × the request's `atr`

  /// The target of `symbol` (empty: none given): its own, else target_points.
  double target_for(std::string_view symbol) const {
    const auto it = target_points_by_symbol.find(symbol);
    return it != target_points_by_symbol.end() ? it->second : target_points;
  }
};

/// Answers one /infer body with `set` on worker `worker` (< the set's worker count).
/// `metrics` may be null.
Answer handle_infer(std::string_view body, const ModelSet& set, unsigned worker, Metrics* metrics,
                    const InferSettings& settings);

}  // namespace quant::serve
