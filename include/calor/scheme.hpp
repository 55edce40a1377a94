#pragma once
/// \file scheme.hpp
/// The discrete update rule of one time step, as a backend needs it: stencil coefficients and
/// form, the volumetric increment, and the point sources as field offsets.

#include <vector>

#include "calor/field.hpp"
#include "calor/problem.hpp"

namespace calor {

/// A point source as a storage offset into the fields it is applied to.
struct SourceCell {
  index_t offset = 0;
  double energy = 0.0;
};

/// One step: out = stencil(in) + dq on every interior cell, then out[cell] += energy per source.
struct Scheme {
  int dim = 2;
  StencilForm form = StencilForm::expanded;
  Coefficients coeffs;
  double dq = 0.0;                  ///< volumetric rate * dt
  std::vector<SourceCell> sources;  ///< sorted by offset (stable), for fields like the solver's

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
