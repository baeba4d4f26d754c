#pragma once
/// The vocabulary of hyper-parameter search: a search space (int, float and
/// categorical parameters), a trial's parameter values, and a trial as the
/// sampler, the pruner and the study storage see it.
///
/// Parameter values are doubles in one map: an int parameter holds a whole
/// number, a float its value, a categorical the index of its choice. The same
/// map is what the storage writes (JSON), so a trial re-run after a crash gets
/// exactly the values it had.

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace quant::research {

/// What kind of values a parameter takes.
enum class ParamKind { Int, Float, Categorical };

/// One dimension of a search space.
struct ParamSpec {
  std::string name;
  ParamKind kind = ParamKind::Float;
  double low = 0.0;                  ///< Int, Float: smallest value (> 0 when `log`)
  double high = 1.0;                 ///< Int, Float: largest value, >= low (Int: low + a whole number of steps)
  double step = 0.0;                 ///< Int: the grid step (whole, >= 1); Float: 0 (continuous)
  bool log = false;                  ///< sampled uniformly in log space (Int with step 1 only)
  std::vector<std::string> choices;  ///< Categorical: the choices, in order (values are their indexes)
};

/// Parameter values of one trial: name → value (Categorical: index of the choice).
using Params = std::map<std::string, double, std::less<>>;

/// Minimise or maximise the objective.
enum class Direction { Minimize, Maximize };

/// An ordered set of parameters. Built with the add_* calls, then checked
/// once by validate() (Study::open calls it): bad bounds are a configuration
/// error, reported with the parameter's name.
class SearchSpace {
 public:
  /// Integers low..high on the grid low + k·step; with `log`, sampled
  /// uniformly in log space (then step must be 1 and low >= 1).
  SearchSpace& add_int(std::string name, std::int64_t low, std::int64_t high, std::int64_t step = 1, bool log = false);
  /// Reals in [low, high]; with `log`, sampled uniformly in log space (low > 0).
  SearchSpace& add_float(std::string name, double low, double high, bool log = false);
  /// One of `choices` (at least one, no repeats).
  SearchSpace& add_categorical(std::string name, std::vector<std::string> choices);

  /// The first problem: a repeated or empty name, low > high, a non-finite
  /// bound, log with low <= 0, an int range that is not a whole number of
  /// steps, an empty or repeated choice list.
  Expected<void> validate() const;

  const std::vector<ParamSpec>& params() const { return params_; }
  /// The parameter called `name`, or nullptr.
  const ParamSpec* find(std::string_view name) const;
  /// True when `params` has a value inside the domain of every parameter of
  /// this space (and no other names).
  bool contains(const Params& params) const;
  /// A canonical JSON text of the space (names, kinds, bounds, choices): the
  /// storage keeps it so a second worker opening the same study with a
  /// different space is refused.
  std::string signature() const;

 private:
  std::vector<ParamSpec> params_;
};

/// Where a trial is in its life. Complete, Pruned and Failed are final.
enum class TrialState { Running, Complete, Pruned, Failed };

/// "running", "complete", "pruned", "failed".
std::string_view to_string(TrialState state);
/// The inverse of to_string; fails on anything else.
Expected<TrialState> parse_trial_state(std::string_view text);
/// "minimize" or "maximize".
std::string_view to_string(Direction direction);

/// A trial as stored: what the sampler, the pruner and the reports read.
struct TrialRecord {
  std::int64_t number = 0;  ///< 0, 1, 2, ... in creation order across all workers
  TrialState state = TrialState::Running;
  Params params;
  double value = std::numeric_limits<double>::quiet_NaN();  ///< the objective, when Complete
  std::map<std::int64_t, double> intermediate;              ///< step → reported value (NaN allowed)
  // The worker running it (the current attempt's owner).
  std::string token;              ///< unique per attempt; reports and tells must carry it
  std::string host;               ///< the worker's host name
  std::int64_t pid = 0;           ///< the worker's process id on `host`
  std::int64_t heartbeat_ms = 0;  ///< last sign of life, ms since the Unix epoch (storage's clock)
  std::int64_t attempt = 1;       ///< 1 for the first run, +1 each time a dead worker's run is re-claimed

  bool finished() const { return state != TrialState::Running; }
};

}  // namespace quant::research
