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
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "backends/dispatch.hpp"
#include "calor/boundary.hpp"
#include "calor/box.hpp"
#include "calor/error.hpp"
#include "calor/field.hpp"
#include "calor/halo.hpp"
#include "calor/hd.hpp"
#include "calor/scheme.hpp"
#include "calor/stats.hpp"
#include "calor/stencil.hpp"

namespace calor::cuda {

/// Point sources carried in the kernel's parameters (sorted by offset, as the Scheme has them).
inline constexpr int kFusedSources = 8;

/// Everything a sweep thread needs, passed by value to the kernel.
struct SweepParams {
  Weights<double> w{};
  index_t lo[3] = {0, 0, 0};  ///< the first interior cell this launch updates, per axis
  index_t n[3] = {1, 1, 1};   ///< cells per axis from there (the launch's box)
  index_t sy = 0, sz = 0;     ///< strides
  index_t base = 0;           ///< offset of interior cell (0, 0, 0)
  double dq = 0;              ///< Heating::uniform
  /// The conservative form: each axis's face-alpha field, laid out as u (Scheme::face).
  const double* face[3] = {nullptr, nullptr, nullptr};
  const double* heat = nullptr;  ///< Heating::field: the increment per cell, laid out as u
  int sources = 0;  ///< fused point sources (0 when they go through the sequential pass)
  index_t source_offset[kFusedSources] = {};
  double source_energy[kFusedSources] = {};
  /// The least and the greatest of source_offset (an empty range without sources).
  index_t source_lo = std::numeric_limits<index_t>::max();
  index_t source_hi = std::numeric_limits<index_t>::min();
};

/// Appends a fused point source (sources on one cell add in the order they are appended, which
/// must be the Scheme's); false, with nothing appended, where all kFusedSources are taken.
inline bool add_source(SweepParams& p, index_t offset, double energy) {
  if (p.sources == kFusedSources) return false;
  p.source_offset[p.sources] = offset;
  p.source_energy[p.sources] = energy;
  ++p.sources;
  p.source_lo = std::min(p.source_lo, offset);
  p.source_hi = std::max(p.source_hi, offset);
  return true;
}

/// Where cell (i, j, k) of the launch's box lies in the fields.
CALOR_HD inline index_t sweep_offset(const SweepParams& p, index_t i, index_t j, index_t k) {
  return p.base + (p.lo[0] + i) + (p.lo[1] + j) * p.sy + (p.lo[2] + k) * p.sz;
}

// The loops over the fused sources run to their constant bound, every index a constant, behind
// sources_within's range check: on an H200 the three sources of bench/gpu/gpu_variants.cu then
// cost nothing measurable, where the loop to p.sources had cost a tenth of a 3D step
// (docs/benchmarks.md; ptxas showed no local memory either way, so why was not taken apart).

/// `v` plus the fused point sources on cell `c`, in the Scheme's order.
CALOR_HD inline double with_sources(const SweepParams& p, double v, index_t c) {
#if defined(__CUDACC__)
#pragma unroll
#endif
  for (int s = 0; s < kFusedSources; ++s)
    if (s < p.sources && p.source_offset[s] == c) v += p.source_energy[s];
  return v;
}

/// Whether a fused point source lies on an offset in [lo, hi]. sweep_column asks once for its
/// whole column (sweep_cell for its cell), so that a thread no source is near skips
/// with_sources' compares (the result is the same: with_sources adds nothing there).
CALOR_HD inline bool sources_within(const SweepParams& p, index_t lo, index_t hi) {
  if (hi < p.source_lo || lo > p.source_hi) return false;  // most threads: two compares
#if defined(__CUDACC__)
#pragma unroll
#endif
  for (int s = 0; s < kFusedSources; ++s)
    if (s < p.sources && p.source_offset[s] >= lo && p.source_offset[s] <= hi) return true;
  return false;
}

/// The thread for cell (i, j, k) of the launch's box: out = cell_update(in) + its point sources.
template <int Dim, StencilForm Form, Heating Heat>
CALOR_HD inline void sweep_cell(const SweepParams& p, const double* in, double* out, index_t i,
                                index_t j, index_t k) {
  if (i >= p.n[0] || j >= p.n[1] || k >= p.n[2]) return;
  const index_t c = sweep_offset(p, i, j, k);
  FacePointers f;
  if constexpr (is_conservative(Form))
    for (int d = 0; d < Dim; ++d)
      f.k[d] = p.face[d] + c;
  const double* q = Heat == Heating::field ? p.heat + c : nullptr;
  const double v = cell_update<Dim, Form, Heat>(p.w, in + c, p.sy, p.sz, p.dq, f, q);
  out[c] = sources_within(p, c, c) ? with_sources(p, v, c) : v;
}

/// The thread for cells (i, Rows j + r, k), r < Rows, of the launch's box: `Rows` cells down one
/// column (along y). The non-conservative forms keep each cell's neighbours along y in registers as
/// the thread walks (one load from `in` per cell along y instead of three) and look for point
/// sources once per column; the conservative forms update the cells one by one. Either way each
/// cell gets sweep_cell's bits.
template <int Dim, StencilForm Form, Heating Heat, int Rows>
CALOR_HD inline void sweep_column(const SweepParams& p, const double* in, double* out, index_t i,
                                  index_t j, index_t k) {
  if constexpr (Rows == 1 || Dim == 1 || is_conservative(Form)) {
    for (int r = 0; r < Rows; ++r)
      sweep_cell<Dim, Form, Heat>(p, in, out, i, Rows * j + r, k);
  } else {
    const index_t j0 = Rows * j;
    if (i >= p.n[0] || j0 >= p.n[1] || k >= p.n[2]) return;
    index_t c = sweep_offset(p, i, j0, k);
    const bool sources = sources_within(p, c, c + (Rows - 1) * p.sy);
    double ym = in[c - p.sy], u = in[c];
#if defined(__CUDACC__)
#pragma unroll
#endif
    for (int r = 0; r < Rows; ++r) {
      if (j0 + r >= p.n[1]) return;
      const double yp = in[c + p.sy];
      const double* q = Heat == Heating::field ? p.heat + c : nullptr;
      const double v = cell_update_column<Dim, Form, Heat>(p.w, in + c, u, ym, yp, p.sz, p.dq, q);
      out[c] = sources ? with_sources(p, v, c) : v;
      ym = u;
      u = yp;
      c += p.sy;
    }
  }
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

/// The rows of a field's interior, reduced one per thread for the statistics (stats.hpp's
/// order: each row by itself, then the rows merged in order on the host).
struct RowParams {
  index_t n[3] = {1, 1, 1};  ///< interior cells per axis
  index_t sy = 0, sz = 0;    ///< strides
  index_t base = 0;          ///< offset of interior cell (0, 0, 0)
};

inline RowParams row_params(const Field& f) {
  RowParams r;
  for (int a = 0; a < 3; ++a)
    r.n[a] = f.n(a);
  r.sy = f.stride_y();
  r.sz = f.stride_z();
  r.base = f.offset(0, 0, 0);
  return r;
}

/// The thread for row t = j + n[1] k: its cells accumulated into out[t].
CALOR_HD inline void row_stats(const RowParams& r, const double* u, StatsAccumulator* out,
                               index_t t) {
  if (t >= r.n[1] * r.n[2]) return;
  const index_t j = t % r.n[1], k = t / r.n[1];
  out[t] = accumulate_row(u + r.base + j * r.sy + k * r.sz, r.n[0]);
}

/// Rows reduced on the device only where there are enough of them to keep it busy; fewer, long
/// rows (a 1D grid is one) are copied to the host and reduced there.
inline constexpr index_t kMinDeviceRows = 1024;

/// The rows' accumulators merged in order: the field's statistics, as accumulate() has them.
inline StatsAccumulator merge_rows(const std::vector<StatsAccumulator>& rows) {
  StatsAccumulator total;
  for (const StatsAccumulator& r : rows)
    total.merge(r);
  return total;
}

/// A launch: blocks per grid and threads per block, x fastest; each thread of a sweep updates
/// `rows` cells down one column (sweep_column).
struct Launch {
  std::array<std::uint32_t, 3> grid{1, 1, 1}, block{1, 1, 1};
  int rows = 1;
};

/// Cells down one column (along y) a sweep thread updates: 4 in 2D, 2 in 3D (on an H200,
/// bench/gpu/gpu_variants.cu at 512^3 in 32 x 4 x 2 threads: 615 us a step with 2, 641 with 4,
/// 682 with 1; in 2D 4 beat 2 and 8).
constexpr int sweep_rows(int dim) {
  return dim == 2 ? 4 : dim == 3 ? 2 : 1;
}

/// Calls f(std::integral_constant<int, R>{}) with R = l.rows: the sweep kernels of dimension Dim
/// are compiled for 1 and sweep_rows(Dim).
template <int Dim, class F>
void with_rows(const Launch& l, F&& f) {
  if constexpr (sweep_rows(Dim) > 1)
    if (l.rows == sweep_rows(Dim)) {
      f(std::integral_constant<int, sweep_rows(Dim)>{});
      return;
    }
  f(std::integral_constant<int, 1>{});
}

/// Blocks of 256 threads, x fastest (whole warps along a row: coalesced loads and stores), each
/// thread sweep_rows(dim) cells down its column: 128 x 2 threads in 2D (a block covers 128 x 8
/// cells), 32 x 4 x 2 in 3D (32 x 8 x 2). On an H200 (bench/gpu/gpu_variants.cu,
/// docs/benchmarks.md) the 2D sweep ran 1.3x as fast as 32 x 8 threads of one cell each, the 3D
/// one 1.2x as fast as 32 x 4 x 2 of one. Thin grids can need more than CUDA's 65535 blocks
/// along y or z (a 2D grid of more than 524280 rows, a 3D one of more than 131070 planes):
/// launch_fits. A box one cell thin along x (the shell beside an exchanged x face under MPI, or
/// a grid one column wide) gets its 256 threads along y (and z), one cell each, not 127 idle
/// ones in every 128 (31 in every 32 in 3D).
inline Launch sweep_launch(int dim, const index_t (&n)[3]) {
  Launch l;
  const bool thin = dim >= 2 && n[0] == 1;
  l.block = dim == 1   ? std::array<std::uint32_t, 3>{256, 1, 1}
            : dim == 2 ? (thin ? std::array<std::uint32_t, 3>{1, 256, 1}
                               : std::array<std::uint32_t, 3>{128, 2, 1})
                       : (thin ? std::array<std::uint32_t, 3>{1, 32, 8}
                               : std::array<std::uint32_t, 3>{32, 4, 2});
  l.rows = thin ? 1 : sweep_rows(dim);
  for (int a = 0; a < 3; ++a) {
    const index_t cover = index_t{l.block[a]} * (a == 1 ? l.rows : 1);
    l.grid[a] = static_cast<std::uint32_t>((n[a] + cover - 1) / cover);
  }
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

/// The physical faces of one axis, filled by one launch (blockIdx.z picks the face). The two
/// sides write disjoint halo cells and neither reads a cell the other writes, so one launch
/// gives fill_halo's bits; the next axis's faces, which read this axis's halo at the corners,
/// follow in a launch of their own.
struct AxisFaces {
  FaceParams face[2];
  int count = 0;
  int axis = 0;
};

/// The thread for position (t1, t2) of face `side` of `a`.
CALOR_HD inline void axis_face_cell(const AxisFaces& a, double* u, index_t t1, index_t t2,
                                    index_t side) {
  if (side < a.count) face_cell(side == 0 ? a.face[0] : a.face[1], u, t1, t2);
}

/// The launch of AxisFaces: face_launch over the larger face, once per face along z.
inline Launch axis_faces_launch(const AxisFaces& a) {
  Launch l = face_launch(a.face[0]);
  for (int s = 1; s < a.count; ++s) {
    const Launch o = face_launch(a.face[s]);
    for (int d = 0; d < 2; ++d)
      l.grid[d] = std::max(l.grid[d], o.grid[d]);
  }
  l.grid[2] = static_cast<std::uint32_t>(a.count);
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
  if (s.sources.size() <= static_cast<std::size_t>(kFusedSources))
    for (const auto& source : s.sources)
      add_source(p, source.offset, source.energy);
  return p;
}

/// Where face (axis, side) of `f` lies: its first interior layer over the other two axes'
/// extents, their halos included (`with_halo`, as a physical face fills them) or not (as a
/// packed exchange sends them: star stencils never read the corners).
inline FaceParams face_geometry(const Field& f, int axis, int side, bool with_halo) {
  FaceParams p;
  const index_t n = f.n(axis);
  const index_t inner = side == 0 ? 0 : n - 1, opposite = side == 0 ? n - 1 : 0;
  const index_t halo_layer = side == 0 ? -1 : n;
  const index_t step = axis == 0 ? 1 : axis == 1 ? f.stride_y() : f.stride_z();
  const int a1 = axis == 0 ? 1 : 0, a2 = axis == 2 ? 1 : 2;
  const index_t stride[3] = {1, f.stride_y(), f.stride_z()};
  const index_t h1 = with_halo ? f.halo(a1) : 0, h2 = with_halo ? f.halo(a2) : 0;
  index_t at[3] = {0, 0, 0};
  at[axis] = inner;
  at[a1] = -h1;
  at[a2] = -h2;
  p.origin = f.offset(at[0], at[1], at[2]);
  p.s1 = stride[a1];
  p.s2 = stride[a2];
  p.n1 = f.n(a1) + 2 * h1;
  p.n2 = f.n(a2) + 2 * h2;
  p.to_halo = (halo_layer - inner) * step;
  p.to_opposite = (opposite - inner) * step;
  p.shift = (side == 0 ? -1 : 1) * step;
  return p;
}

/// The parameters of face (axis, side) of `f` under condition `b`, with `alpha` the constant
/// diffusivity and `alpha_field` (in the memory the launches read) the per-cell one where alpha
/// varies (Robin); the same cells and values as fill_halo's fill_face.
inline FaceParams face_params(const Boundary& b, const Grid& g, const Field& f, int axis, int side,
                              double alpha, const double* alpha_field) {
  FaceParams p = face_geometry(f, axis, side, true);
  p.kind = b.kind;
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

/// The interior cells a step updates, split for overlap: `inner`, whose neighbours are not in
/// the halo of a face in `sent` (updated while those faces travel), and `shell`, the layers next
/// to those faces (updated once they have arrived). Together they cover every cell once; boxes
/// may be empty. Without `overlap`, inner is empty and the shell is the whole interior.
struct SweepBoxes {
  Box inner;
  std::vector<Box> shell;
};

inline SweepBoxes sweep_boxes(const Grid& g, const FaceMask& sent, bool overlap) {
  SweepBoxes b;
  Box rest = Box::of(g);
  if (!overlap) {
    b.inner = Box{rest.low, rest.low};
    b.shell.push_back(rest);
    return b;
  }
  for (int a = 0; a < g.dim; ++a) {  // peel each sent face's layer off what is left
    if (sent[a][0] && rest.size(a) > 0) {
      Box layer = rest;
      layer.high[a] = layer.low[a] + 1;
      b.shell.push_back(layer);
      ++rest.low[a];
    }
    if (sent[a][1] && rest.size(a) > 0) {
      Box layer = rest;
      layer.low[a] = layer.high[a] - 1;
      b.shell.push_back(layer);
      --rest.high[a];
    }
  }
  b.inner = rest;
  return b;
}

/// `p` restricted to the cells of `box`.
inline SweepParams sweep_params_in(SweepParams p, const Box& box) {
  for (int a = 0; a < 3; ++a) {
    p.lo[a] = box.low[a];
    p.n[a] = box.size(a);
  }
  return p;
}

/// The two queues of work a step uses: `compute` fills the physical faces and updates cells,
/// `comm` packs, copies and unpacks the exchanged layers, so an exchange overlaps the update of
/// the inner cells. On the device they are CUDA streams; the host tests replay them in the
/// orders that most strain the events between them.
enum class Stream { compute, comm };
/// The points the two queues and the host wait for, recorded once per step.
enum class Event { faces_filled, packed, halo_in, step_done };
inline constexpr int kEvents = 4;

/// The buffers of a packed exchange, `values` doubles each: the device's, which the pack and
/// unpack launches use, and the host's (pinned on a device), which MPI reads and writes unless
/// it takes device memory itself.
struct LayerStore {
  double* device_send = nullptr;
  double* device_recv = nullptr;
  double* host_send = nullptr;
  double* host_recv = nullptr;
};

/// One step after another of `scheme`, as launches on `exec` (the cuda backend's kernels, or
/// the host tests' emulation of them). What `exec` provides:
/// - read(field): a constant field of the scheme (alpha, face alphas, heat) in the memory the
///   launches read (nullptr for none);
/// - faces(stream, AxisFaces, Launch, u), template sweep<Shape>(stream, SweepParams, Launch,
///   in, out), sources(stream, u): the launches of axis_face_cell, sweep_column (launch.rows
///   cells a thread) and the point sources too many to fuse;
/// - layer_out(stream, FaceParams, u, buf), layer_in(stream, FaceParams, u, buf): a face's first
///   interior layer packed into `buf`, a packed layer unpacked into the face's halo;
/// - layers(values): a LayerStore of at least `values` doubles per buffer; copy(stream, to,
///   from, values) between its device and host buffers;
/// - record(event, stream), wait(stream, event) (the stream waits for the event's last record,
///   as cudaStreamWaitEvent), sync(event) (the host waits), finish() (everything done).
///
/// Physical faces are filled on `compute` in fill_halo's order, an axis's two faces by one
/// launch (x, then y, then z: the corners come out as on the CPU); where they are all Dirichlet,
/// only in the first step for each of the two fields. Where `halo` sends layers (MPI), each
/// exchanged face's first interior layer is packed on `comm`, copied to the host (unless `direct`:
/// a CUDA-aware MPI reads the device buffer), exchanged by the halo, copied back and unpacked into
/// the halo layer, while `compute` updates the inner cells (Halo::overlaps()); the shell follows.
template <class Exec>
class DeviceSteps {
 public:
  DeviceSteps(Exec& exec, const Scheme& scheme, Halo& halo, const Field& cur, bool direct)
      : exec_(exec), halo_(halo), direct_(direct) {
    const Grid& g = cur.grid();
    const double* alpha = exec.read(scheme.alpha);
    FaceMask sent{};
    for (int a = 0; a < g.dim; ++a)
      for (int s = 0; s < 2; ++s) {
        sent[a][s] = halo.sends_layers() && halo.exchanged(a, s);
        if (sent[a][s]) {  // packed one after the other, in this order
          sent_.push_back(face_geometry(cur, a, s, false));
          buffers_.count[a][s] = sent_.back().n1 * sent_.back().n2;
          at_.push_back(Packed{a, s, values_});
          values_ += buffers_.count[a][s];
        } else {
          if (filled_.empty() || filled_.back().axis != a) filled_.push_back(AxisFaces{{}, 0, a});
          const Boundary& b = halo.boundaries().face[a][s];
          filled_.back().face[filled_.back().count++] =
              face_params(b, g, cur, a, s, halo.conductivity().constant, alpha);
          refill_ = refill_ || b.kind != BoundaryKind::dirichlet;
        }
      }
    p_ = sweep_params(scheme, cur);
    for (int d = 0; d < 3; ++d)
      p_.face[d] = exec.read(scheme.face[static_cast<std::size_t>(d)]);
    p_.heat = exec.read(scheme.heat);
    fused_ = p_.sources == static_cast<int>(scheme.sources.size());
    check_launches(g);
    boxes_ = sweep_boxes(g, sent, !sent_.empty() && halo.overlaps());
    if (!sent_.empty()) share_buffers();
  }

  /// One step from `cur` into `next`.
  template <class S>
  void step(Field& cur, Field& next) {
    if (refill_ || filled_steps_ < 2) {  // constant faces: each of the two fields once
      for (const AxisFaces& f : filled_)
        exec_.faces(Stream::compute, f, axis_faces_launch(f), cur.raw());
      ++filled_steps_;
    }
    if (!sent_.empty()) send(cur);
    sweep<S>(boxes_.inner, cur, next);
    if (!sent_.empty()) receive(cur);
    for (const Box& b : boxes_.shell)
      sweep<S>(b, cur, next);
    if (!fused_) exec_.sources(Stream::compute, next.raw());
    exec_.record(Event::step_done, Stream::compute);
  }

 private:
  void check_launches(const Grid& g) {
    bool fits = launch_fits(sweep_launch(g.dim, p_.n));
    for (const AxisFaces& f : filled_)
      fits = fits && launch_fits(axis_faces_launch(f));
    for (const FaceParams& f : sent_)
      fits = fits && launch_fits(face_launch(f));
    if (!fits)
      throw Error("the cuda backend cannot launch over a grid this thin (" +
                  std::to_string(p_.n[0]) + " x " + std::to_string(p_.n[1]) + " x " +
                  std::to_string(p_.n[2]) +
                  " cells: more than CUDA's 65535 blocks along y or z): use a CPU backend");
  }

  // The packed buffers, and each sent face's place in those MPI is given.
  void share_buffers() {
    store_ = exec_.layers(values_);
    double* send = direct_ ? store_.device_send : store_.host_send;
    double* recv = direct_ ? store_.device_recv : store_.host_recv;
    for (const Packed& p : at_) {
      buffers_.send[p.axis][p.side] = send + p.offset;
      buffers_.recv[p.axis][p.side] = recv + p.offset;
    }
  }

  // comm: once the last step's update is done, the sent faces' layers packed (and copied to
  // the host).
  void send(const Field& cur) {
    exec_.record(Event::faces_filled, Stream::compute);
    exec_.wait(Stream::comm, Event::step_done);
    for (std::size_t i = 0; i < sent_.size(); ++i)
      exec_.layer_out(Stream::comm, sent_[i], cur.raw(), store_.device_send + at_[i].offset);
    if (!direct_) exec_.copy(Stream::comm, store_.host_send, store_.device_send, values_);
    exec_.record(Event::packed, Stream::comm);
  }

  // The host exchanges the layers (while the device updates the inner cells); comm unpacks them
  // once the physical faces, which read the same layers' ends, are filled; compute then waits.
  void receive(Field& cur) {
    exec_.sync(Event::packed);
    halo_.begin_layers(buffers_);
    halo_.end_layers();
    if (!direct_) exec_.copy(Stream::comm, store_.device_recv, store_.host_recv, values_);
    exec_.wait(Stream::comm, Event::faces_filled);
    for (std::size_t i = 0; i < sent_.size(); ++i)
      exec_.layer_in(Stream::comm, sent_[i], cur.raw(), store_.device_recv + at_[i].offset);
    exec_.record(Event::halo_in, Stream::comm);
    exec_.wait(Stream::compute, Event::halo_in);
  }

  template <class S>
  void sweep(const Box& box, const Field& cur, Field& next) {
    if (box.count() <= 0) return;
    const SweepParams p = sweep_params_in(p_, box);
    exec_.template sweep<S>(Stream::compute, p, sweep_launch(cur.grid().dim, p.n), cur.raw(),
                            next.raw());
  }

  Exec& exec_;
  Halo& halo_;
  bool direct_;
  std::vector<AxisFaces> filled_;  // the physical faces, one launch per axis
  // Whether a step refills the physical faces. Dirichlet halos hold a constant (a time table's
  // value changes only between advance() calls, each with a plan of its own) that no launch
  // overwrites, so once each of the two fields has them they stay.
  bool refill_ = false;
  int filled_steps_ = 0;
  std::vector<FaceParams> sent_;
  SweepParams p_;
  bool fused_ = true;
  SweepBoxes boxes_;
  // Where sent_[i] lies in the packed buffers: its face and first value.
  struct Packed {
    int axis, side;
    index_t offset;
  };
  std::vector<Packed> at_;
  index_t values_ = 0;  // in all the packed layers
  LayerStore store_;
  LayerBuffers buffers_;
};

/// `steps` steps of `scheme` on `cur` (swapped with `next` after each) as DeviceSteps on
/// `exec`, which has finished them all on return.
template <class Exec>
void advance_on(Exec& exec, const Scheme& scheme, Halo& halo, Field& cur, Field& next,
                std::int64_t steps, bool direct = false) {
  DeviceSteps<Exec> plan(exec, scheme, halo, cur, direct);
  detail::dispatch(scheme, [&](auto shape) {
    for (std::int64_t step = 0; step < steps; ++step) {
      plan.template step<decltype(shape)>(cur, next);
      std::swap(cur, next);
    }
  });
  exec.finish();
}

}  // namespace calor::cuda
