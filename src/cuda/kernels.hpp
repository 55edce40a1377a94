#pragma once
// What one CUDA thread computes, written as host-device functions so that the host tests run
// the very code the kernels run (tests/unit/emulated_cuda.hpp runs each launch on the
// CPU and compares with the serial backend bit for bit). The kernels themselves (cuda_backend.cu)
// only map a thread to its indices and call these.
//
// One sweep thread updates one interior cell with stencil.hpp's cell_update (any form and
// heating: the face alphas and the heat field are read at the cell's offset, as on the CPU) and
// adds, in the reference's order, the point sources on that cell (fused: up to kFusedSources of
// them; more go through a sequential pass). One face thread fills one halo cell of one face (or,
// periodic, every layer at that position), with boundary.hpp's per-cell rules.

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "backends/dispatch.hpp"
#include "calor/boundary.hpp"
#include "calor/error.hpp"
#include "calor/field.hpp"
#include "calor/halo.hpp"
#include "calor/hd.hpp"
#include "calor/scheme.hpp"
#include "calor/stencil.hpp"

namespace calor::cuda {

/// Point sources carried in the kernel's parameters (sorted by offset, as the Scheme has them).
inline constexpr int kFusedSources = 8;

/// Everything a sweep thread needs, passed by value to the kernel.
struct SweepParams {
  Weights<double> w{};
  index_t n[3] = {1, 1, 1};  ///< interior cells per axis
  index_t sy = 0, sz = 0;    ///< strides
  index_t base = 0;          ///< offset of interior cell (0, 0, 0)
  double dq = 0;             ///< Heating::uniform
  /// The conservative form: each axis's face-alpha field, laid out as u (Scheme::face).
  const double* face[3] = {nullptr, nullptr, nullptr};
  const double* heat = nullptr;  ///< Heating::field: the increment per cell, laid out as u
  int sources = 0;  ///< fused point sources (0 when they go through the sequential pass)
  index_t source_offset[kFusedSources] = {};
  double source_energy[kFusedSources] = {};
};

/// The thread for interior cell (i, j, k): out = cell_update(in) + its point sources.
template <int Dim, StencilForm Form, Heating Heat>
CALOR_HD inline void sweep_cell(const SweepParams& p, const double* in, double* out, index_t i,
                                index_t j, index_t k) {
  if (i >= p.n[0] || j >= p.n[1] || k >= p.n[2]) return;
  const index_t c = p.base + i + j * p.sy + k * p.sz;
  FacePointers f;
  if constexpr (is_conservative(Form))
    for (int d = 0; d < Dim; ++d)
      f.k[d] = p.face[d] + c;
  const double* q = Heat == Heating::field ? p.heat + c : nullptr;
  double v = cell_update<Dim, Form, Heat>(p.w, in + c, p.sy, p.sz, p.dq, f, q);
  for (int s = 0; s < p.sources; ++s)
    if (p.source_offset[s] == c) v += p.source_energy[s];
  out[c] = v;
}

/// One face: its halo cells, as t1 x t2 positions over the full extent of the two other axes.
struct FaceParams {
  BoundaryKind kind = BoundaryKind::dirichlet;
  index_t origin = 0;        ///< offset of the first interior layer's cell at (t1, t2) = (0, 0)
  index_t s1 = 0, s2 = 0;    ///< strides of the two other axes
  index_t n1 = 1, n2 = 1;    ///< their extents, halo included
  index_t to_halo = 0;       ///< from a cell of the first interior layer to its halo cell
  index_t to_opposite = 0;   ///< to its periodic image (the last layer on the other side)
  index_t shift = 0;         ///< from one halo layer to the next, outwards
  index_t layers = 1;        ///< halo layers to fill (periodic: all; others: the first)
  double value = 0;          ///< Dirichlet value, Robin ambient
  double gh = 0;             ///< Neumann: gradient * h
  double beta = 0;           ///< Robin with a constant alpha: H h / alpha
  double coefficient_h = 0;  ///< Robin: H h, divided by the cell's alpha where alpha varies
  const double* alpha = nullptr;  ///< Robin: alpha per cell, laid out as u (nullptr: constant)
};

/// The thread for position (t1, t2) of a face.
CALOR_HD inline void face_cell(const FaceParams& f, double* u, index_t t1, index_t t2) {
  if (t1 >= f.n1 || t2 >= f.n2) return;
  const index_t c = f.origin + t1 * f.s1 + t2 * f.s2;
  switch (f.kind) {
    case BoundaryKind::dirichlet:
      u[c + f.to_halo] = f.value;
      return;
    case BoundaryKind::neumann:
      u[c + f.to_halo] = neumann_halo(u[c], f.gh);
      return;
    case BoundaryKind::robin:
      u[c + f.to_halo] =
          robin_halo(u[c], f.alpha != nullptr ? f.coefficient_h / f.alpha[c] : f.beta, f.value);
      return;
    case BoundaryKind::periodic:
      for (index_t m = 0; m < f.layers; ++m)
        u[c + f.to_halo + m * f.shift] = u[c + f.to_opposite + m * f.shift];
      return;
  }
}

/// The thread for position (t1, t2) of a face's layer `shift` away from its first interior
/// layer (0: that layer; f.to_halo: its halo layer), copied into a contiguous buffer of
/// n1 x n2 values, t1 fastest.
CALOR_HD inline void layer_out(const FaceParams& f, const double* u, double* buf, index_t shift,
                               index_t t1, index_t t2) {
  if (t1 >= f.n1 || t2 >= f.n2) return;
  buf[t1 + f.n1 * t2] = u[f.origin + t1 * f.s1 + t2 * f.s2 + shift];
}

/// The reverse of layer_out: the buffer's values into the layer.
CALOR_HD inline void layer_in(const FaceParams& f, double* u, const double* buf, index_t shift,
                              index_t t1, index_t t2) {
  if (t1 >= f.n1 || t2 >= f.n2) return;
  u[f.origin + t1 * f.s1 + t2 * f.s2 + shift] = buf[t1 + f.n1 * t2];
}

/// A launch: blocks per grid and threads per block, x fastest.
struct Launch {
  std::array<std::uint32_t, 3> grid{1, 1, 1}, block{1, 1, 1};
};

/// Blocks of 256 threads, 32 along x (one warp per row segment: coalesced loads and stores);
/// 8 rows in 2D, 4 x 2 in 3D. Thin grids can need more than CUDA's 65535 blocks along y or z
/// (a 2D grid of more than 524280 rows, a 3D one of more than 131070 planes): launch_fits.
inline Launch sweep_launch(int dim, const index_t (&n)[3]) {
  Launch l;
  l.block = dim == 1   ? std::array<std::uint32_t, 3>{256, 1, 1}
            : dim == 2 ? std::array<std::uint32_t, 3>{32, 8, 1}
                       : std::array<std::uint32_t, 3>{32, 4, 2};
  for (int a = 0; a < 3; ++a)
    l.grid[a] = static_cast<std::uint32_t>((n[a] + l.block[a] - 1) / l.block[a]);
  return l;
}

/// True when CUDA can launch `l`: at most 65535 blocks along y and z.
inline bool launch_fits(const Launch& l) {
  return l.grid[1] <= 65535 && l.grid[2] <= 65535;
}

/// A face's launch: 2D blocks of 32 x 8 over (t1, t2).
inline Launch face_launch(const FaceParams& f) {
  Launch l;
  l.block = {32, 8, 1};
  l.grid = {static_cast<std::uint32_t>((f.n1 + 31) / 32),
            static_cast<std::uint32_t>((f.n2 + 7) / 8), 1};
  return l;
}

/// The sweep parameters of `s` on fields shaped like `f`; fused sources only when they fit.
inline SweepParams sweep_params(const Scheme& s, const Field& f) {
  SweepParams p;
  p.w = Weights<double>::from(s.coeffs);
  for (int a = 0; a < 3; ++a)
    p.n[a] = f.n(a);
  p.sy = f.stride_y();
  p.sz = f.stride_z();
  p.base = f.offset(0, 0, 0);
  p.dq = s.dq;
  if (s.sources.size() <= static_cast<std::size_t>(kFusedSources)) {
    p.sources = static_cast<int>(s.sources.size());
    for (int i = 0; i < p.sources; ++i) {
      p.source_offset[i] = s.sources[static_cast<std::size_t>(i)].offset;
      p.source_energy[i] = s.sources[static_cast<std::size_t>(i)].energy;
    }
  }
  return p;
}

/// The parameters of face (axis, side) of `f` under condition `b`, with `alpha` the constant
/// diffusivity and `alpha_field` (in the memory the launches read) the per-cell one where alpha
/// varies (Robin); the same cells and values as fill_halo's fill_face.
inline FaceParams face_params(const Boundary& b, const Grid& g, const Field& f, int axis, int side,
                              double alpha, const double* alpha_field) {
  FaceParams p;
  p.kind = b.kind;
  const index_t n = f.n(axis);
  const index_t inner = side == 0 ? 0 : n - 1, opposite = side == 0 ? n - 1 : 0;
  const index_t halo_layer = side == 0 ? -1 : n;
  const index_t step = axis == 0 ? 1 : axis == 1 ? f.stride_y() : f.stride_z();
  const int a1 = axis == 0 ? 1 : 0, a2 = axis == 2 ? 1 : 2;
  const index_t stride[3] = {1, f.stride_y(), f.stride_z()};
  index_t at[3] = {0, 0, 0};
  at[axis] = inner;
  at[a1] = -f.halo(a1);
  at[a2] = -f.halo(a2);
  p.origin = f.offset(at[0], at[1], at[2]);
  p.s1 = stride[a1];
  p.s2 = stride[a2];
  p.n1 = f.n(a1) + 2 * f.halo(a1);
  p.n2 = f.n(a2) + 2 * f.halo(a2);
  p.to_halo = (halo_layer - inner) * step;
  p.to_opposite = (opposite - inner) * step;
  p.shift = (side == 0 ? -1 : 1) * step;
  p.layers = b.kind == BoundaryKind::periodic ? f.halo(axis) : 1;
  p.value = b.value;
  p.gh = b.value * g.h[axis];
  if (b.kind == BoundaryKind::robin) {
    p.coefficient_h = b.coefficient * g.h[axis];  // then / alpha: fill_face's two operations
    p.beta = p.coefficient_h / alpha;
    p.alpha = alpha_field;
  }
  return p;
}

/// True where the halo is filled on the host: under MPI (the domain's halo exchanges host
/// memory). A single process's BoundaryHalo is filled by face kernels on the device instead.
inline bool halo_on_host(const Halo& halo) {
  return dynamic_cast<const BoundaryHalo*>(&halo) == nullptr;
}

/// The host field through which `halo` is filled under MPI (kept in `staging`, laid out as cur:
/// the layers travel, not the field), or nullptr where the device fills the halo itself.
inline Field* staging_for(const Halo& halo, const Field& cur, Field& staging) {
  if (!halo_on_host(halo)) return nullptr;
  if (staging.size() != cur.size() || staging.stride_y() != cur.stride_y())
    staging = Field(cur.grid(), cur.halo());
  return &staging;
}

/// The values of all `faces`' layers `shift` away from their first interior layer, in order.
inline index_t layer_values(const std::vector<FaceParams>& faces) {
  index_t n = 0;
  for (const FaceParams& f : faces)
    n += f.n1 * f.n2;
  return n;
}

/// The halo of `cur` filled on the host, through `staging` (a host field laid out as cur):
/// every face's first interior layer goes there (exec.layers_out), `halo` fills the staging
/// field's halo as it would a CPU backend's (the MPI exchange, the physical faces), and every
/// face's halo layer comes back (exec.layers_in). Stars never read corners, so faces suffice.
template <class Exec>
void fill_halo_on_host(Exec& exec, Halo& halo, const std::vector<FaceParams>& faces, Field& cur,
                       Field& staging, std::vector<double>& buf) {
  buf.resize(static_cast<std::size_t>(layer_values(faces)));
  exec.layers_out(faces, cur.raw(), buf.data());
  index_t at = 0;
  for (const FaceParams& f : faces) {
    for (index_t t2 = 0; t2 < f.n2; ++t2)
      for (index_t t1 = 0; t1 < f.n1; ++t1)
        layer_in(f, staging.raw(), buf.data() + at, 0, t1, t2);
    at += f.n1 * f.n2;
  }
  halo.update(staging);
  at = 0;
  for (const FaceParams& f : faces) {
    for (index_t t2 = 0; t2 < f.n2; ++t2)
      for (index_t t1 = 0; t1 < f.n1; ++t1)
        layer_out(f, staging.raw(), buf.data() + at, f.to_halo, t1, t2);
    at += f.n1 * f.n2;
  }
  exec.layers_in(faces, buf.data(), cur.raw());
}

/// `steps` steps of `scheme` on `cur` (swapped with `next` after each), as launches on `exec`:
/// exec.face(FaceParams, Launch, u) for each face, in the order fill_halo fills them (x low,
/// x high, y low, ...: the corners come out as on the CPU), then
/// exec.template sweep<Shape>(SweepParams, Launch, in, out), then exec.sources(out) when the
/// point sources are too many to fuse. exec.read(field) gives the scheme's constant fields
/// (alpha, face alphas, heat; nullptr for none) in the memory the launches read. Where
/// halo_on_host(halo), the faces are filled through `staging` instead (fill_halo_on_host). The
/// cuda backend launches kernels; the host tests run every thread of each launch on the CPU.
template <class Exec>
void advance_on(Exec& exec, const Scheme& scheme, Halo& halo, Field& cur, Field& next,
                std::int64_t steps, Field* staging = nullptr) {
  const double* alpha = exec.read(scheme.alpha);
  std::vector<FaceParams> faces;
  for (int a = 0; a < cur.grid().dim; ++a)
    for (int s = 0; s < 2; ++s)
      faces.push_back(face_params(halo.boundaries().face[a][s], cur.grid(), cur, a, s,
                                  halo.conductivity().constant, alpha));
  SweepParams p = sweep_params(scheme, cur);
  for (int d = 0; d < 3; ++d)
    p.face[d] = exec.read(scheme.face[static_cast<std::size_t>(d)]);
  p.heat = exec.read(scheme.heat);
  const bool fused = p.sources == static_cast<int>(scheme.sources.size());
  const Launch sweep = sweep_launch(cur.grid().dim, p.n);
  bool fits = launch_fits(sweep);
  for (const FaceParams& f : faces)
    fits = fits && launch_fits(face_launch(f));
  if (!fits)
    throw Error("the cuda backend cannot launch over a grid this thin (" + std::to_string(p.n[0]) +
                " x " + std::to_string(p.n[1]) + " x " + std::to_string(p.n[2]) +
                " cells: more than CUDA's 65535 blocks along y or z): use a CPU backend");
  std::vector<double> buf;
  detail::dispatch(scheme, [&](auto shape) {
    using S = decltype(shape);
    for (std::int64_t step = 0; step < steps; ++step) {
      if (staging != nullptr)
        fill_halo_on_host(exec, halo, faces, cur, *staging, buf);
      else
        for (const FaceParams& f : faces)
          exec.face(f, face_launch(f), cur.raw());
      exec.template sweep<S>(p, sweep, cur.raw(), next.raw());
      if (!fused) exec.sources(next.raw());
      std::swap(cur, next);
    }
  });
}

}  // namespace calor::cuda
