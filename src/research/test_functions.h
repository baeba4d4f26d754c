#pragma once
/// Standard optimisation test functions with known minima, for the sampler's
/// tests and bench/research (not part of the library).
///
///   Branin        x1 ∈ [−5, 10], x2 ∈ [0, 15]        minimum 0.397887 (three points)
///   Hartmann-6    x ∈ [0, 1]^6                         minimum −3.32237 at (0.20169, 0.150011, 0.476874,
///                                                        0.275332, 0.311652, 0.6573)
///   Rosenbrock-4  x ∈ [−5, 10]^4                       minimum 0 at (1, 1, 1, 1)

#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "research/search_space.h"

namespace quant::research::testing {

inline double branin(double x1, double x2) {
  constexpr double kPi = 3.14159265358979323846;
  const double a = 1.0, b = 5.1 / (4 * kPi * kPi), c = 5 / kPi, r = 6, s = 10, t = 1 / (8 * kPi);
  const double u = x2 - b * x1 * x1 + c * x1 - r;
  return a * u * u + s * (1 - t) * std::cos(x1) + s;
}

inline double hartmann6(const std::array<double, 6>& x) {
  static constexpr double kAlpha[4] = {1.0, 1.2, 3.0, 3.2};
  static constexpr double kA[4][6] = {
      {10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14}, {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}};
  static constexpr double kP[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                      {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                      {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                      {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j) inner += kA[i][j] * (x[j] - kP[i][j]) * (x[j] - kP[i][j]);
    sum += kAlpha[i] * std::exp(-inner);
  }
  return -sum;
}

inline double rosenbrock(const std::vector<double>& x) {
  double sum = 0;
  for (std::size_t i = 0; i + 1 < x.size(); ++i)
    sum += 100 * (x[i + 1] - x[i] * x[i]) * (x[i + 1] - x[i] * x[i]) + (1 - x[i]) * (1 - x[i]);
  return sum;
}

/// A named problem: its space, its objective over a trial's params, its minimum.
struct Problem {
  std::string name;
  SearchSpace space;
  double (*objective)(const Params&);
  double minimum;
};

inline double branin_of(const Params& p) { return branin(p.at("x1"), p.at("x2")); }
inline double hartmann6_of(const Params& p) {
  std::array<double, 6> x{};
  for (int i = 0; i < 6; ++i) x[static_cast<std::size_t>(i)] = p.at("x" + std::to_string(i));
  return hartmann6(x);
}
inline double rosenbrock4_of(const Params& p) {
  std::vector<double> x;
  for (int i = 0; i < 4; ++i) x.push_back(p.at("x" + std::to_string(i)));
  return rosenbrock(x);
}

inline Problem branin_problem() {
  SearchSpace s;
  s.add_float("x1", -5, 10).add_float("x2", 0, 15);
  return {"branin", s, branin_of, 0.397887};
}
inline Problem hartmann6_problem() {
  SearchSpace s;
  for (int i = 0; i < 6; ++i) s.add_float("x" + std::to_string(i), 0, 1);
  return {"hartmann6", s, hartmann6_of, -3.32237};
}
inline Problem rosenbrock4_problem() {
  SearchSpace s;
  for (int i = 0; i < 4; ++i) s.add_float("x" + std::to_string(i), -5, 10);
  return {"rosenbrock4", s, rosenbrock4_of, 0.0};
}

}  // namespace quant::research::testing
