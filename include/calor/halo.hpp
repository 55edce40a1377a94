#pragma once
/// \file halo.hpp
/// Who fills the halo before a step: the physical boundary conditions on one process, and (with
/// MPI) the neighbours' data. Backends call this; they never know which it is.

#include "calor/boundary.hpp"

namespace calor {

/// Brings the halo of a field up to date for the next step.
class Halo {
 public:
  virtual ~Halo() = default;
  /// Makes the halo of `f` consistent with its interior and the boundary conditions.
  virtual void update(Field& f) = 0;
  /// The boundary conditions when every face is physical (no neighbour process), else null. A
  /// temporally blocked backend needs them to fill halos slab by slab inside a tile.
  [[nodiscard]] virtual const Boundaries* physical() const { return nullptr; }
};

/// The single-process halo: every face is a physical boundary.
class BoundaryHalo final : public Halo {
 public:
  explicit BoundaryHalo(Boundaries bc) : bc_(bc) {}
  void update(Field& f) override { fill_halo(bc_, f.grid(), f); }
  [[nodiscard]] const Boundaries* physical() const override { return &bc_; }

 private:
  Boundaries bc_;
};

}  // namespace calor
