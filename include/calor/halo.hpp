#pragma once
/// \file halo.hpp
/// Who fills the halo before a step. Each face is either physical (a Dirichlet or Neumann
/// condition, computed from the cells next to it) or exchanged (periodic, or a neighbour
/// process's cells): an exchanged face can deliver a halo several cells wide, which lets a
/// backend advance several steps per exchange. Backends never know whether MPI is involved.

#include <array>

#include "calor/boundary.hpp"

namespace calor {

/// Which faces are physical: mask[axis][side].
using FaceMask = std::array<std::array<bool, 2>, 3>;

/// The buffers of a packed layer exchange (Halo::begin_layers), per face [axis][side].
struct LayerBuffers {
  std::array<std::array<const double*, 2>, 3> send{};
  std::array<std::array<double*, 2>, 3> recv{};
  std::array<std::array<index_t, 2>, 3> count{};
};

/// Brings the halo of a field up to date.
class Halo {
 public:
  virtual ~Halo() = default;
  /// Makes the whole halo of `f` (all f.halo() layers of exchanged faces, the first layer of
  /// physical faces) consistent with the interior: the state at the current step.
  virtual void update(Field& f) = 0;
  /// True when face (axis, side) is filled from other cells rather than a boundary condition.
  [[nodiscard]] virtual bool exchanged(int axis, int side) const = 0;
  /// The boundary conditions (used on physical faces).
  [[nodiscard]] virtual const Boundaries& boundaries() const = 0;
  /// Replaces the boundary conditions: the values of time tables at the coming step.
  virtual void set_boundaries(const Boundaries& bc) = 0;
  /// What Robin faces divide their coefficient by: the solver's alpha (a field laid out as the
  /// fields this halo fills, or a constant).
  void set_conductivity(const Conductivity& k) { conductivity_ = k; }
  [[nodiscard]] const Conductivity& conductivity() const { return conductivity_; }

  /// Split update, to overlap an exchange with computation, for star stencils (they never read
  /// a halo cell that lies in two faces' halos, a corner). begin_update fills the physical
  /// faces and starts filling the first layer of the exchanged ones; until end_update, a
  /// backend may update every cell whose neighbours are not in an exchanged face's halo, and
  /// should call progress() now and then so that the transfer moves on. After end_update the
  /// faces (not the corners) hold the current step. By default all of it happens in
  /// begin_update.
  virtual void begin_update(Field& f) { update(f); }
  virtual void progress() {}
  virtual void end_update(Field& /*f*/) {}
  /// True when begin_update returns before the exchange is done (so overlap can pay).
  [[nodiscard]] virtual bool overlaps() const { return false; }
  /// True when update() is fill_halo() with boundaries(): every face, periodic ones included,
  /// comes from the field's own cells, so a backend may fill it in parts on several threads
  /// (fill_physical_rows with every face marked).
  [[nodiscard]] virtual bool local() const { return false; }

  /// Packed exchange, for backends whose fields MPI's datatypes cannot read in place (the GPU's:
  /// they pack each face's first interior layer themselves). True when this halo sends the
  /// exchanged faces to other processes that way; false for a single process's halo, whose
  /// exchanged (periodic) faces the backend copies itself.
  [[nodiscard]] virtual bool sends_layers() const { return false; }
  /// True when the buffers of begin_layers may be device memory (a CUDA-aware MPI).
  [[nodiscard]] virtual bool reads_device_memory() const { return false; }
  /// Starts sending each exchanged face's packed first interior layer, `b.send[axis][side]`
  /// (`b.count[axis][side]` values, packed as the backend likes), across that face, and
  /// receiving the neighbour's into `b.recv[axis][side]`; the neighbour packs its layer in the
  /// same order, over the same extents. Faces not exchanged are skipped. The buffers stay
  /// untouched until end_layers returns. Throws calor::Error where !sends_layers().
  virtual void begin_layers(const LayerBuffers& b);
  /// Waits until begin_layers's transfers are done.
  virtual void end_layers() {}

  /// The physical faces of a `dim`-dimensional grid.
  [[nodiscard]] FaceMask physical_faces(int dim) const {
    FaceMask m{};
    for (int a = 0; a < dim; ++a)
      for (int s = 0; s < 2; ++s)
        m[a][s] = !exchanged(a, s);
    return m;
  }
  /// True when any face of a `dim`-dimensional grid is exchanged.
  [[nodiscard]] bool any_exchanged(int dim) const {
    for (int a = 0; a < dim; ++a)
      if (exchanged(a, 0) || exchanged(a, 1)) return true;
    return false;
  }

 protected:
  Conductivity conductivity_;
};

/// The single-process halo: boundary conditions on every face, periodic ones by copying.
class BoundaryHalo final : public Halo {
 public:
  explicit BoundaryHalo(Boundaries bc) : bc_(bc) {}
  void update(Field& f) override { fill_halo(bc_, f.grid(), f, conductivity_); }
  [[nodiscard]] bool exchanged(int axis, int /*side*/) const override { return bc_.periodic(axis); }
  [[nodiscard]] bool local() const override { return true; }
  [[nodiscard]] const Boundaries& boundaries() const override { return bc_; }
  void set_boundaries(const Boundaries& bc) override { bc_ = bc; }

 private:
  Boundaries bc_;
};

}  // namespace calor
