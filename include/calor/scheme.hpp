#pragma once
/// \file scheme.hpp
/// The discrete update rule of one time step, as a backend needs it: stencil coefficients and
/// form, the volumetric increment, and the point sources as field offsets.

#include <memory>
#include <vector>

#include "calor/field.hpp"
#include "calor/problem.hpp"

namespace calor {

/// A point source as a storage offset into the fields it is applied to.
struct SourceCell {
  index_t offset = 0;
  double energy = 0.0;
  int index = 0;  ///< which of the problem's point sources (one may have periodic images)
};

/// One step: out = stencil(in) + dq on every interior cell, then out[cell] += energy per source.
/// The conservative forms read alpha per cell from `alpha`, and Heating::field reads dq per cell
/// from `heat`: fields laid out exactly as the ones stepped (same grid, halo and strides), filled
/// halo included, so that a backend reads them at the offsets it reads u at.
struct Scheme {
  int dim = 2;
  StencilForm form = StencilForm::expanded;
  Heating heating = Heating::none;
  Coefficients coeffs;
  double dq = 0.0;                     ///< volumetric rate * dt (Heating::uniform)
  std::vector<SourceCell> sources;     ///< sorted by offset (stable), for fields like the solver's
  std::shared_ptr<const Field> alpha;  ///< the conservative forms: alpha per cell (Robin faces)
  /// The conservative forms: face[d] holds, at each cell, the alpha of its face towards +d
  /// (face_alpha of the two cells), computed once; empty beyond dim.
  std::array<std::shared_ptr<const Field>, 3> face;
  std::shared_ptr<const Field> heat;  ///< Heating::field: (q(x) + volumetric) * dt per cell

  /// Sets each point source's energy to that of the step starting at time `t` (time tables).
  void set_time(const Problem& p, double t) {
    for (SourceCell& c : sources)
      c.energy = p.sources.points[static_cast<std::size_t>(c.index)].energy_at(t);
  }

  /// Builds the scheme of `p` for fields shaped like `f`, whose cell (0, 0, 0) is global cell
  /// `origin`. Sources are kept where `f` computes them: its interior, widened by `reach` cells
  /// into the halo (a rank that recomputes its neighbours' edge cells adds their sources too).
  static Scheme from(const Problem& p, const Field& f, const std::array<index_t, 3>& origin = {},
                     index_t reach = 0);
};

/// Adds the point sources to `out`.
inline void add_sources(const Scheme& s, Field& out) {
  double* u = out.raw();
  for (const SourceCell& c : s.sources)
    u[c.offset] += c.energy;
}

}  // namespace calor
