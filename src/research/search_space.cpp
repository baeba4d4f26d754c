#include "research/search_space.h"

#include <cmath>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

namespace quant::research {

SearchSpace& SearchSpace::add_int(std::string name, std::int64_t low, std::int64_t high, std::int64_t step, bool log) {
  ParamSpec p;
  p.name = std::move(name);
  p.kind = ParamKind::Int;
  p.low = static_cast<double>(low);
  p.high = static_cast<double>(high);
  p.step = static_cast<double>(step);
  p.log = log;
  params_.push_back(std::move(p));
  return *this;
}

SearchSpace& SearchSpace::add_float(std::string name, double low, double high, bool log) {
  ParamSpec p;
  p.name = std::move(name);
  p.kind = ParamKind::Float;
  p.low = low;
  p.high = high;
  p.log = log;
  params_.push_back(std::move(p));
  return *this;
}

SearchSpace& SearchSpace::add_categorical(std::string name, std::vector<std::string> choices) {
  ParamSpec p;
  p.name = std::move(name);
  p.kind = ParamKind::Categorical;
  p.choices = std::move(choices);
  params_.push_back(std::move(p));
  return *this;
}

Expected<void> SearchSpace::validate() const {
  if (params_.empty()) return make_error("search space: no parameters");
  std::set<std::string, std::less<>> names;
  for (const ParamSpec& p : params_) {
    const std::string where = "search space parameter '" + p.name + "': ";
    if (p.name.empty()) return make_error("search space: a parameter has an empty name");
    if (!names.insert(p.name).second) return make_error(where + "the name is used twice");
    if (p.kind == ParamKind::Categorical) {
      if (p.choices.empty()) return make_error(where + "no choices");
      std::set<std::string> seen(p.choices.begin(), p.choices.end());
      if (seen.size() != p.choices.size()) return make_error(where + "a choice is listed twice");
      continue;
    }
    if (!std::isfinite(p.low) || !std::isfinite(p.high)) return make_error(where + "bounds must be finite");
    if (p.low > p.high) return make_error(where + "low > high");
    if (p.log && p.low <= 0) return make_error(where + "log scale needs low > 0");
    if (p.kind == ParamKind::Int) {
      if (p.step < 1) return make_error(where + "step must be >= 1");
      if (p.log && p.step != 1) return make_error(where + "log scale needs step 1");
      const double steps = (p.high - p.low) / p.step;
      if (steps != std::floor(steps))
        return make_error(where + "high - low must be a whole number of steps (set high to low + k*step)");
    }
  }
  return {};
}

const ParamSpec* SearchSpace::find(std::string_view name) const {
  for (const ParamSpec& p : params_)
    if (p.name == name) return &p;
  return nullptr;
}

bool SearchSpace::contains(const Params& params) const {
  if (params.size() != params_.size()) return false;
  for (const ParamSpec& p : params_) {
    const auto it = params.find(p.name);
    if (it == params.end() || !std::isfinite(it->second)) return false;
    const double v = it->second;
    switch (p.kind) {
      case ParamKind::Categorical:
        if (v != std::floor(v) || v < 0 || v >= static_cast<double>(p.choices.size())) return false;
        break;
      case ParamKind::Int: {
        if (v < p.low || v > p.high) return false;
        const double k = (v - p.low) / p.step;
        if (k != std::floor(k)) return false;
        break;
      }
      case ParamKind::Float:
        if (v < p.low || v > p.high) return false;
        break;
    }
  }
  return true;
}

std::string SearchSpace::signature() const {
  nlohmann::json out = nlohmann::json::array();
  for (const ParamSpec& p : params_) {
    nlohmann::json j;
    j["name"] = p.name;
    switch (p.kind) {
      case ParamKind::Int: j["kind"] = "int"; break;
      case ParamKind::Float: j["kind"] = "float"; break;
      case ParamKind::Categorical: j["kind"] = "categorical"; break;
    }
    if (p.kind == ParamKind::Categorical) {
      j["choices"] = p.choices;
    } else {
      j["low"] = p.low;
      j["high"] = p.high;
      j["step"] = p.step;
      j["log"] = p.log;
    }
    out.push_back(std::move(j));
  }
  return out.dump();
}

std::string_view to_string(TrialState state) {
  switch (state) {
    case TrialState::Running: return "running";
    case TrialState::Complete: return "complete";
    case TrialState::Pruned: return "pruned";
    case TrialState::Failed: return "failed";
  }
  return "?";
}

Expected<TrialState> parse_trial_state(std::string_view text) {
  if (text == "running") return TrialState::Running;
  if (text == "complete") return TrialState::Complete;
  if (text == "pruned") return TrialState::Pruned;
  if (text == "failed") return TrialState::Failed;
  return make_error("unknown trial state '" + std::string(text) + "'");
}

std::string_view to_string(Direction direction) { return direction == Direction::Minimize ? "minimize" : "maximize"; }

}  // namespace quant::research
