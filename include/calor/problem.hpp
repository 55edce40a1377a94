#pragma once
/// \file problem.hpp
/// What to solve: the heat equation du/dt = div(alpha grad u) + q on a grid, discretised by
/// forward-time centred-space (FTCS) with Fourier numbers r_d = alpha dt / h_d^2. A constant
/// alpha gives alpha * laplacian(u); a field alpha(x) the conservative form, with alpha on each
/// face between two cells the harmonic (or arithmetic) mean of theirs.

#include <cstdint>
#include <string>

#include "calor/boundary.hpp"
#include "calor/cell_values.hpp"
#include "calor/grid.hpp"
#include "calor/initial.hpp"
#include "calor/source.hpp"
#include "calor/stencil.hpp"

namespace calor {

/// Everything that defines a run's mathematics.
struct Problem {
  std::string name = "custom";  ///< preset name or "custom"
  Grid grid;
  double alpha = 1.0;                  ///< diffusivity, or the background of a `diffusivity` shape
  CellValues diffusivity;              ///< alpha per cell, if it varies (empty: `alpha` everywhere)
  FaceMean mean = FaceMean::harmonic;  ///< how a face's alpha comes from its two cells
  double dt = 0.0;                     ///< time step
  std::int64_t steps = 0;
  Boundaries boundaries;
  Sources sources;
  Initial initial;
  StencilForm form = StencilForm::expanded;
  bool allow_unstable = false;  ///< run even if r exceeds the FTCS limit of 1/2

  /// The largest diffusivity over the grid: what stability depends on.
  [[nodiscard]] double max_alpha() const {
    return diffusivity.empty() ? alpha : diffusivity.max(grid, alpha);
  }
  /// True when a boundary value or a source strength follows a time table.
  [[nodiscard]] bool time_dependent() const {
    return boundaries.time_dependent() || sources.time_dependent();
  }
  /// Per-axis Fourier numbers max_alpha dt / h_d^2 (0 on inactive axes).
  [[nodiscard]] std::array<double, 3> fourier_numbers() const;
  /// The stability number r = max_alpha dt sum_d 1/h_d^2; FTCS is stable for r <= 1/2.
  [[nodiscard]] double stability_number() const;
  /// The largest stable dt: 1 / (2 max_alpha sum_d 1/h_d^2).
  [[nodiscard]] double max_stable_dt() const;
  /// The default dt, half the stable limit (r = 1/4; in 2D with equal spacing r_d = 1/8, the
  /// case study's value).
  [[nodiscard]] double default_dt() const { return 0.5 * max_stable_dt(); }
  /// Coefficients of the update for `form`.
  [[nodiscard]] Coefficients coefficients() const;

  /// Throws calor::Error naming the offending setting, value and limit if the problem is invalid.
  void validate() const;
  /// The part of validate() that checks the diffusivity and source fields (a pass over the grid).
  void validate_fields() const;
  /// The part of validate() that checks boundary values, Robin coefficients, source energies
  /// and their time tables: all that a running simulation may change (Solver::set_values).
  void validate_values() const;
};

/// FTCS stability limit on r.
inline constexpr double kStabilityLimit = 0.5;

}  // namespace calor
