#include "calor/analytic.hpp"

#include <cmath>

namespace calor {

double gaussian_solution(const Problem& p, double t, index_t i, index_t j, index_t k) {
  const Grid& g = p.grid;
  const Initial& in = p.initial;
  const double var = in.width * in.width + 2.0 * p.alpha * t;
  const double scale = std::pow(in.width * in.width / var, 0.5 * g.dim);
  const std::array<index_t, 3> c{i, j, k};
  double value = 1.0;
  // The Gaussian factorises over axes, so the image sum is a product of 1D image sums.
  for (int a = 0; a < g.dim; ++a) {
    const double period = static_cast<double>(g.n[a]) * g.h[a];
    const double x = cell_coordinate(g, a, c[a]) - in.centre[a];
    double s = 0;
    for (int m = -2; m <= 2; ++m) {
      const double d = x + m * period;
      s += std::exp(-d * d / (2.0 * var));
    }
    value *= s;
  }
  return in.amplitude * scale * value;
}

bool has_analytic_solution(const Problem& p) {
  if (p.initial.kind != InitialKind::gaussian || !p.sources.points.empty() ||
      p.sources.volumetric != 0.0)
    return false;
  for (int a = 0; a < p.grid.dim; ++a)
    if (!p.boundaries.periodic(a)) return false;
  return true;
}

std::optional<double> analytic_error(const Problem& p, const std::vector<double>& u, double t) {
  if (!has_analytic_solution(p) || u.size() != static_cast<std::size_t>(p.grid.cells()))
    return std::nullopt;
  double sq = 0;
  for_each_cell(p.grid, [&](index_t i, index_t j, index_t k) {
    const double d = u[static_cast<std::size_t>(i + p.grid.n[0] * (j + p.grid.n[1] * k))] -
                     gaussian_solution(p, t, i, j, k);
    sq += d * d;
  });
  return std::sqrt(sq / static_cast<double>(p.grid.cells()));
}

}  // namespace calor
