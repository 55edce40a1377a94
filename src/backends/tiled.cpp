// The tiled backend: temporal blocking by a skewed wavefront over the outermost axis.
//
// A block advances T steps in one pass over memory. The grid is cut into slabs along the outermost
// axis (rows in 2D, planes in 3D). Wavefront W computes step t of slab W - 2(t - 1) for t = 1..T,
// so step t+1 of a slab runs two wavefronts after step t of the slab above it: every input it
// reads is complete, and with only two arrays (step t writes array t % 2) nothing is overwritten
// while still needed. Within a wavefront no unit depends on another, so threads split every slab
// between them and meet once per wavefront. The slabs in flight, 2T + 2 of them in each array,
// stay in cache, and memory sees each cell once per block instead of once per step.
//
// The slabs are also cut into strips (block_strips: of columns in 2D, of y-rows in 3D), so that
// what is in flight fits in a core's L2 cache instead of the shared last-level cache, however
// large the grid: each thread runs whole strips, and threads wait only for the strip before
// theirs, never at a barrier. Whole slabs (block()) remain where no strips fit.
//
// Faces are physical (Dirichlet, Neumann, Robin: the latter two refill their halo from the cells
// just computed, slab by slab or unit by unit) or exchanged (periodic, or another MPI rank: filled
// once per block, T cells wide). Towards an exchanged face, step t also computes the T - t halo
// cells next to the interior, as the neighbour does, so that step t + 1 has its inputs without
// another exchange: this is the communication-avoiding mode, one exchange of a T-wide halo per T
// steps.
//
// Each unit is the same row kernel as the other backends, sources (those in the widened region
// too) are added per slab right after its update, so the result is the reference's, bit for bit.

#include <omp.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "backends/registry.hpp"
#include "calor/backend.hpp"
#include "calor/machine.hpp"
#include "sweep.hpp"

namespace calor {

/// Whether the wavefront applies, and if not why.
namespace {
const char* tiling_obstacle(const Grid& g) {
  if (g.dim < 2) return "1D grids sweep step by step";
  return nullptr;
}
}  // namespace

namespace {

/// Depth of a block of whole slabs: the 2T + 2 slabs in flight in each of the two arrays take
/// about a sixth of the last-level cache (measured best on the 4800^2 case study: depth 32 beat
/// 8, 16 and 64).
int slab_depth(const Grid& g) {
  const double slab =
      static_cast<double>(g.dim == 2 ? g.n[0] + 2 : (g.n[0] + 2) * (g.n[1] + 2)) * sizeof(double);
  const double budget = static_cast<double>(caches().llc) / 6.0;
  const int t = static_cast<int>((budget / (2.0 * slab) - 2.0) / 2.0);
  return std::clamp(t, 2, 64);
}

/// The least automatic depth in 3D, where strips of y-rows (block_strips) keep the planes in
/// flight small however large the planes: memory then sees a cell once per kStripDepth3D steps
/// (docs/benchmarks.md, "Temporal blocking in 3D": 16 beat 6, 8 and 12 at 400^3, and 24 or 32
/// gained nothing more).
constexpr int kStripDepth3D = 16;

/// The most automatic depth of 2D strips where the last-level cache is slow (llc_feeds_sweeps):
/// the rows in flight must then fit in the L2 with room to spare, and shallower blocks keep the
/// strips wide. A strip's waves alone on the Intel VM (build/bin/calor_strip_waves: 4800 rows,
/// one core, best of 4 interleaved rounds, two runs): 960 columns 32 steps deep (1 MB in flight)
/// ran at 2682-3155 MLUP/s, 64 deep (2 MB, the whole L2) at 1974-2113, and 480 columns 64 deep
/// at 2585 (docs/benchmarks.md, "Strips for a slow last level").
constexpr int kSlowLlcDepth2D = 32;

/// Depth of a block when the user gives none.
int auto_tile_depth(const Grid& g) {
  if (g.dim == 3) return std::max(slab_depth(g), kStripDepth3D);
  return llc_feeds_sweeps() ? slab_depth(g) : std::min(slab_depth(g), kSlowLlcDepth2D);
}

// Waits until `counter` >= `value` (acquire: what was written before it was raised is visible).
// Spins, as the wait is a fraction of a wave, and yields after a while in case the threads
// outnumber the cores.
void wait_at_least(const std::atomic<index_t>& counter, index_t value) {
  for (int spins = 0; counter.load(std::memory_order_acquire) < value; ++spins) {
    if (spins < 4096) {
#if defined(__SSE2__)
      _mm_pause();
#endif
    } else {
      std::this_thread::yield();
    }
  }
}

// The cells step t (1..depth) of a block computes: the interior, widened by depth - t cells
// towards exchanged faces (their halo holds depth valid layers at the block's start).
struct Region {
  const Grid& g;
  const FaceMask& physical;
  int depth;
  [[nodiscard]] index_t lo(int t, int axis) const {
    return axis < g.dim && !physical[axis][0] ? -(depth - t) : 0;
  }
  [[nodiscard]] index_t hi(int t, int axis) const {
    return g.n[axis] + (axis < g.dim && !physical[axis][1] ? depth - t : 0);
  }
  /// Wavefronts of a block over `axis` in units of `unit` cells, step t running `lag` wavefronts
  /// behind step t - 1.
  [[nodiscard]] index_t waves(int axis, index_t unit = 1, index_t lag = 2) const {
    return waves_over(hi(1, axis) - lo(1, axis), unit, lag);
  }
  /// The same over `extent` cells (a band of them).
  [[nodiscard]] index_t waves_over(index_t extent, index_t unit, index_t lag) const {
    return (extent + unit - 1) / unit + lag * (depth - 1);
  }
  /// Strips of `width` cells across `axis` (the last one takes the remainder).
  [[nodiscard]] index_t strips(int axis, index_t width) const {
    return std::max<index_t>(1, (hi(1, axis) - lo(1, axis)) / width);
  }
};

// Step t of a block on cells [c0, c1) of rows (j, k) .. (j + Rows - 1, k) (Rows > 1: the kernel
// that updates them at once): from array a into b if t is odd, else from b into a, with the sources
// of those cells. Only the block's last step leaves the cache, so it alone may stream; the others
// keep their results in it.
template <class S, int Rows = 1>
void step_cells(const Scheme& scheme, const Weights<double>& w, const Weights<detail::vec>& wv,
                Field& a, Field& b, int t, bool stream_out, index_t j, index_t k, index_t c0,
                index_t c1) {
  Field& out = t % 2 == 1 ? b : a;
  const detail::Row r = detail::row<S>(scheme, t % 2 == 1 ? a : b, out, j, k);
  if constexpr (Rows > 1) {
    if (stream_out)
      detail::rows_simd<S, Rows, true>(w, wv, scheme.dq, r, c0, c1);
    else
      detail::rows_simd<S, Rows, false, true>(w, wv, scheme.dq, r, c0, c1);
  } else if (stream_out) {
    detail::row_simd<S, true>(w, wv, scheme.dq, r, c0, c1);
  } else {
    detail::row_simd<S, false, true>(w, wv, scheme.dq, r, c0, c1);
  }
  for (index_t y = j; y < j + Rows; ++y)
    detail::add_sources_in(scheme, out, out.offset(c0, y, k), out.offset(c1, y, k));
}

// Runs body(shape, w, wv, nt, id) on `threads` threads, for the scheme's stencil shape.
template <class Body>
void on_threads(const Scheme& scheme, int threads, const Body& body) {
  detail::dispatch(scheme, [&](auto shape) {
    const auto w = Weights<double>::from(scheme.coeffs);
    const auto wv = Weights<detail::vec>::from(scheme.coeffs);
#pragma omp parallel num_threads(threads)
    body(shape, w, wv, omp_get_num_threads(), omp_get_thread_num());
  });
}

// Where a piece of an in-place step lies in its strip's rows at that step (StripBlock::
// piece_in_place): at their start (first), at the start or end of a band beside another, or
// across whole rows (a wedge: no strip edges to keep or read).
struct Ends {
  bool first = false, keep_first = false, keep_last = false, whole_rows = false;
};

// One block of block_strips: `depth` steps over strips of `width` cells across the
// second-outermost axis (columns in 2D, y-rows in 3D), each a wavefront along the outermost one
// (see TiledBackend::block_strips for the schedule and why it is right).
struct StripBlock {
  const Scheme& scheme;
  const Halo& halo;
  const FaceMask& physical;
  Field& a;
  Field& b;
  const Region& region;
  int depth;
  index_t width;
  bool stream, refill;
  int across, along;
  index_t unit;    // rows (2D) or planes (3D) a wave takes per step
  index_t x0;      // where the strips start across
  index_t strips;  // how many
  // In place (2D, see rows_in_place): the result stays in `a`. Each thread keeps, for each step,
  // the row above its next unit at the step before (`saved`, rows of `a`'s layout), and strip
  // s leaves the cells left of strip s + 1 at the step before in edge(s + 1, t, j).
  bool in_place = false;
  double* saved = nullptr;  // cell 0 of thread 0's row for step 0; a thread has depth + 1 rows
  double* edges = nullptr;
  index_t edge_first = 0, edge_rows = 0;
  // In bands, thread id keeps its band's first row at each step t, before the step, in
  // band_row(id, t, 0), and its last one in band_row(id, t, 1): the wedges read them.
  double* band_rows = nullptr;  // cell 0 of thread 0's first row for step 0

  // The first row at step t of a band starting at row `lo` below another band: t - 1 rows past
  // lo (the two bands' trapezoids meet at the wedge between them), one more in place, so that
  // neither band reads a row the other overwrites during the same steps (banded_strips).
  [[nodiscard]] index_t band_start(index_t lo, int t) const { return lo + t - (in_place ? 0 : 1); }

  [[nodiscard]] double* band_row(int id, int t, int side) const {
    return band_rows + ((index_t{id} * (depth + 1) + t) * 2 + side) * a.stride_y();
  }

  [[nodiscard]] double* saved_row(int id, int t) const {
    return saved + (index_t{id} * (depth + 1) + t) * a.stride_y();
  }
  [[nodiscard]] double* edge(index_t s, int t, index_t j) const {
    return edges + (s * (depth + 1) + t) * edge_rows + (j - edge_first);
  }

  // Strip s's cells across at step t: it leans back one cell a step.
  [[nodiscard]] std::pair<index_t, index_t> columns(index_t s, int t) const {
    const index_t lo = region.lo(t, across), hi = region.hi(t, across);
    return {s == 0 ? lo : std::max(lo, x0 + s * width - (t - 1)),
            s == strips - 1 ? hi : std::min(hi, x0 + (s + 1) * width - (t - 1))};
  }

  // Step t on outer rows (3D: planes) [j0, j1) and cells [c0, c1) across (3D: y-rows, over the
  // region's whole x-extent), then the halo of a Neumann or Robin face next to them (before step
  // t + 1 reads it, by the thread that computed them).
  template <class S>
  void piece(const Weights<double>& w, const Weights<detail::vec>& wv, int t, index_t j0,
             index_t j1, index_t c0, index_t c1, index_t s = 0, int id = 0, Ends ends = {}) const {
    const bool out = stream && t == depth;
    if constexpr (S::dim == 2) {
      if (!in_place) {
        index_t j = j0;
        if (unit == 4)
          for (; j + 3 < j1; j += 4)
            step_cells<S, 4>(scheme, w, wv, a, b, t, out, j, 0, c0, c1);
        for (; j + 1 < j1; j += 2)
          step_cells<S, 2>(scheme, w, wv, a, b, t, out, j, 0, c0, c1);
        if (j < j1) step_cells<S>(scheme, w, wv, a, b, t, out, j, 0, c0, c1);
      } else {
        piece_in_place<S>(w, wv, t, j0, j1, c0, c1, s, id, ends);
      }
    } else if constexpr (S::dim == 3) {
      const index_t i0 = region.lo(t, 0), i1 = region.hi(t, 0);
      for (index_t k = j0; k < j1; ++k) {
        index_t y = c0;
        for (; y + 1 < c1; y += 2)
          step_cells<S, 2>(scheme, w, wv, a, b, t, out, y, k, i0, i1);
        if (y < c1) step_cells<S>(scheme, w, wv, a, b, t, out, y, k, i0, i1);
      }
    }
    if (!refill) return;
    std::array<std::array<index_t, 2>, 3> box{};
    box[across] = {c0, c1};
    box[along] = {j0, j1};
    if (S::dim == 3)
      box[0] = {region.lo(t, 0), region.hi(t, 0)};
    else
      box[2] = {0, 1};
    fill_physical_box(halo.boundaries(), region.g, t % 2 == 1 && !in_place ? b : a, box, physical,
                      halo.conductivity());
  }

  // Step t in place on rows [j0, j1) and cells [c0, c1) of strip s, by thread `id`: four rows a
  // call, then two, then one. Step t's first rows (ends.first) take the row above them from `a`
  // itself (no step t has touched it yet); the others from what the rows above them left. A
  // band's first and last rows at step t (ends.keep_first, ends.keep_last) are kept for the
  // wedges as they were before it.
  template <class S>
  void piece_in_place(const Weights<double>& w, const Weights<detail::vec>& wv, int t, index_t j0,
                      index_t j1, index_t c0, index_t c1, index_t s, int id, Ends ends) const {
    double* above = saved_row(id, t);
    double* u = a.raw();
    if (ends.first) std::copy(u + a.offset(c0, j0 - 1), u + a.offset(c1, j0 - 1), above + c0);
    if (ends.keep_first)
      std::copy(u + a.offset(c0, j0), u + a.offset(c1, j0), band_row(id, t, 0) + c0);
    const bool left = s > 0 && !ends.whole_rows, right = s + 1 < strips && !ends.whole_rows;
    auto rows = [&]<int N>(index_t j) {
      const index_t at = a.offset(0, j);
      detail::InPlaceRows ip{a.raw() + at,
                             a.stride_y(),
                             above,
                             left ? edge(s, t, j) : nullptr,
                             right ? edge(s + 1, t, j) : nullptr,
                             nullptr,
                             {}};
      detail::point_at_cell_fields<S>(scheme, at, ip.f, ip.q);
      detail::rows_in_place<S, N>(w, wv, scheme.dq, ip, c0, c1);
      for (index_t y = j; y < j + N; ++y)
        detail::add_sources_in(scheme, a, a.offset(c0, y), a.offset(c1, y));
    };
    index_t j = j0;
    for (; j + 3 < j1; j += 4)
      rows.template operator()<4>(j);
    for (; j + 1 < j1; j += 2)
      rows.template operator()<2>(j);
    if (j < j1) rows.template operator()<1>(j);
    if (ends.keep_last) std::copy(above + c0, above + c1, band_row(id, t, 1) + c0);
  }

  // Step t of the wedge above band `id` (which starts at row lo) in place, rows [j0, j1) over the
  // region's width: the row above it at step t - 1 is band id - 1's last one, and the row below
  // it (band_start) band id's first one, both kept by their bands before step t overwrote them. The
  // row below is put back in `a` for the step's reads, then its step-t values are restored.
  // (use_bands leaves every band rows at every step, so the wedge is never clipped: j1 is that
  // row.)
  template <class S>
  void wedge_in_place(const Weights<double>& w, const Weights<detail::vec>& wv, int t, index_t j0,
                      index_t j1, index_t lo, int id) const {
    const index_t c0 = region.lo(t, across), c1 = region.hi(t, across);
    double* u = a.raw() + a.offset(0, band_start(lo, t));
    double* above = saved_row(id, t);
    double* below = band_row(id, t, 0);
    const double* over = band_row(id - 1, t, 1);
    std::copy(over + c0, over + c1, above + c0);
    std::swap_ranges(u + c0, u + c1, below + c0);
    piece<S>(w, wv, t, j0, j1, c0, c1, 0, id, Ends{.whole_rows = true});
    std::swap_ranges(u + c0, u + c1, below + c0);
  }

  // Wave `wave` of strip s over outer cells [lo, hi) (of a band; lo_shrinks and hi_shrinks: the
  // band ends one cell closer each step on that side): step t on the unit wave - (t - 1) units
  // past lo, t = 1..depth.
  template <class S>
  void wave_of(const Weights<double>& w, const Weights<detail::vec>& wv, index_t s, index_t wave,
               index_t lo, index_t hi, bool lo_shrinks, bool hi_shrinks, int id) const {
    for (int t = 1; t <= depth; ++t) {
      const index_t at = lo + unit * (wave - (t - 1));
      const index_t first = std::max(region.lo(t, along), lo_shrinks ? band_start(lo, t) : lo);
      const index_t last = std::min(region.hi(t, along), hi_shrinks ? hi - (t - 1) : hi);
      const index_t j0 = std::max(at, first), j1 = std::min(at + unit, last);
      const auto [c0, c1] = columns(s, t);
      const Ends ends{j0 == first, j0 == first && lo_shrinks, j1 == last && hi_shrinks};
      if (j0 < j1 && c0 < c1) piece<S>(w, wv, t, j0, j1, c0, c1, s, id, ends);
    }
  }
};

// How block_strips cuts a block: strips `width` cells across, waves `unit` rows (3D: planes)
// along.
struct Strips {
  index_t width, unit;
};

class TiledBackend final : public Backend {
 public:
  TiledBackend(int threads, int depth, int width)
      : threads_(threads > 0 ? threads : default_threads()), depth_(depth), width_(width) {}
  std::string_view name() const override { return "tiled"; }
  std::string plan() const override { return plan_; }
  [[nodiscard]] int threads() const override { return threads_; }

  int halo_width(const Grid& g, const Halo& halo) const override {
    // Exchanged faces need a halo as wide as a block is deep.
    if (tiling_obstacle(g) != nullptr || !halo.any_exchanged(g.dim)) return 1;
    return wanted_depth(g, halo);
  }

  std::int64_t steps_per_pass(const Field& cur, const Halo& halo) const override {
    const int depth = block_depth(cur, halo);
    return tiling_obstacle(cur.grid()) == nullptr && depth >= 2 ? depth : 1;
  }

  void advance(const Scheme& scheme, Halo& halo, Field& cur, Field& next,
               std::int64_t steps) override {
    const Grid& g = cur.grid();
    const int depth = block_depth(cur, halo);
    if (const char* why = tiling_obstacle(g); why != nullptr || depth < 2 || steps < 2) {
      // A lone step (the end of a run, say) keeps the plan of the blocks before it.
      if (why != nullptr || depth < 2 || plan_.empty())
        plan_ = std::string("a plain sweep: ") + (why != nullptr ? why
                                                  : depth < 2    ? "blocks of fewer than 2 steps"
                                                                 : "one step");
      detail::threaded_steps(scheme, halo, cur, next, steps, threads_);
      return;
    }
    const FaceMask physical = halo.physical_faces(g.dim);
    // `next` needs the constant (Dirichlet) parts of its halo; the rest is written before it is
    // read. The whole halo of `cur` is refreshed at the start of every block.
    for (int a = 0; a < g.dim; ++a)
      for (int s = 0; s < 2; ++s)
        if (physical[a][s]) fill_halo_face(halo.boundaries(), g, next, a, s, halo.conductivity());
    const bool refill = refills_halo(halo, g.dim);
    // Strips (of columns in 2D, of y-rows in 3D), each thread a band of them or the strips
    // pipelined over the threads (see block_strips). In place, the lines a step writes are the
    // ones it has just read, so nothing is gained by streaming them past the cache.
    const index_t unit = strip_unit(g, scheme.form), width = strip_width(g, depth, unit);
    const bool in_place = in_place_applies(g, width, depth);
    const bool stream = !in_place && detail::should_stream(cur, true);
    plan_ = "blocks of " + std::to_string(depth) + " steps, ";
    const char* slabs = g.dim == 2 ? "whole rows" : "whole planes";
    if (width > 0)
      plan_ +=
          std::to_string(Region{g, physical, depth}.strips(g.dim - 2, width)) +
          (g.dim == 2 ? " column strips of " : " strips of ") + std::to_string(width) +
          (g.dim == 2 ? "" : " y-rows") +
          (width_ > 0 ? " (the user's width)"
           : g.dim == 2 && unit == 4
               ? " (rows in flight sized to a share of the last-level cache; four a step)"
           : g.dim == 2
               ? (llc_feeds_sweeps() ? " (rows in flight sized to a share of the last-level cache)"
                                     : " (rows in flight sized to half the L2 cache)")
           : strips_3d_by_l2() ? " (planes in flight sized to half the L2 cache)"
                               : " (planes in flight sized to a share of the last-level cache)");
    else
      plan_ += std::string(slabs) + " (too narrow for strips)";
    if (width > 0 && use_bands(g, depth)) plan_ += ", each thread a band of rows";
    if (in_place) plan_ += ", in place";
    while (steps > 0) {
      const int t = static_cast<int>(std::min<std::int64_t>(depth, steps));
      halo.update(cur);
      if (width > 0)
        block_strips(scheme, halo, physical, cur, next, t, Strips{width, unit}, stream, refill,
                     in_place);
      else
        block(scheme, halo, physical, cur, next, t, refill, stream);
      if (t % 2 == 1 && !in_place) std::swap(cur, next);
      steps -= t;
    }
  }

 private:
  // Steps per block on `g`: the user's depth, else one from the cache sizes (for whole slabs,
  // block(), or for strips), cut where exchanged faces would make the redundant work more than
  // about a tenth. (Towards an exchanged face, step t also computes depth - t halo layers:
  // (depth - 1) / 2 per face per step on average. A 3D block of 64^3 between six neighbours
  // took 16 steps deep 70% more work than its own.)
  int wanted_depth(const Grid& g, const Halo& halo) const {
    if (depth_ > 0) return depth_;
    // Whole slabs (block()) where no strips fit, asked in four-row units where those apply:
    // strips in two-row units (the conservative forms) are at least as wide, so fit there too.
    const int auto_depth = auto_tile_depth(g);
    const bool slabs = strip_width(g, auto_depth, strip_unit(g, StencilForm::factored)) == 0;
    const int depth = slabs ? slab_depth(g) : auto_depth;
    double per_layer = 0;  // the share of the block's cells one layer on every exchanged face is
    for (int a = 0; a < g.dim; ++a)
      for (int s = 0; s < 2; ++s)
        if (halo.exchanged(a, s)) per_layer += 1.0 / static_cast<double>(g.n[a]);
    if (per_layer == 0) return depth;
    return std::min(depth, std::max(2, 1 + static_cast<int>(0.2 / per_layer)));
  }

  // Steps per block: wanted_depth, at most the halo's width where a face is exchanged (a block
  // takes one exchange of that many layers; the Solver gives every rank the same width, the
  // narrowest any rank wants, so that all run blocks of the same depth).
  int block_depth(const Field& cur, const Halo& halo) const {
    const Grid& g = cur.grid();
    const int depth = wanted_depth(g, halo);
    return halo.any_exchanged(g.dim) ? std::min<int>(depth, static_cast<int>(cur.halo())) : depth;
  }

  // Whether a physical face other than Dirichlet refills its halo from the cells just computed
  // (block() does it slab by slab, block_strips unit by unit).
  static bool refills_halo(const Halo& halo, int dim) {
    const FaceMask physical = halo.physical_faces(dim);
    for (int a = 0; a < dim; ++a)
      for (int s = 0; s < 2; ++s)
        if (physical[a][s] && halo.boundaries().face[a][s].kind != BoundaryKind::dirichlet)
          return true;
    return false;
  }

  // A thread's share of the last-level cache for its strip in flight (3D; 2D in four-row units).
  double llc_share() const {
    return static_cast<double>(caches().llc) / (4.0 * std::max(threads_, 2));
  }

  // Whether 3D strips are sized to half the L2 rather than to llc_share() (see strip_width):
  // where the share is no larger, or where the last level is slow (measured only then).
  bool strips_3d_by_l2() const {
    return llc_share() <= 0.5 * static_cast<double>(caches().l2) || !llc_feeds_sweeps();
  }

  // Width of the strips of block_strips (columns in 2D, y-rows in 3D) for a block `depth` steps
  // deep, or 0 for whole slabs (block()). The user's width where it gives two strips or more.
  // Else what is in flight per strip should fit in a budget (budget_width): in 2D the unit x
  // depth + 2 rows of u's arrays, one where the strips step in place (in_place_applies) and two
  // otherwise (the face alphas and heat field of some schemes, read only, are not counted), in
  // a share of the last-level cache, at least the L2, where that level feeds a sweep at its
  // in-cache rate (four-row units, see strip_unit; the conservative forms' two-row strips ran
  // 1.04-1.05x as fast there as sized to the L2), else in half the L2 (a strip that spills from
  // the L2 then waits on the last level; see kSlowLlcDepth2D); in 3D the depth + 2 planes of
  // each in a share of the last-level cache (below); the strips are as many as that needs,
  // rounded up to a multiple of the threads so that none waits for the others. Counting one
  // array in place, the case study runs in two strips of 2400 columns instead of three of 1600:
  // 1.06x as fast at one thread, 1.04-1.05x at two (variable alpha's two-row strips stay at the
  // two-strip least up to 8192^2). 2D gives every thread two strips or more, narrower than the
  // budget if need be, while a strip keeps 4 vectors across (on the Intel VM at 2 threads,
  // 728^2 and 1024^2 ran 1.4x faster in four strips than in whole rows, which block() runs with
  // a barrier per wave); 3D uses strips always, if a strip gets two rows (its lag of one plane
  // beats block()'s two, with a barrier). Strips beat whole rows on the case study, and the
  // width is not critical within a factor of a few around this choice (docs/benchmarks.md has
  // the measurements). Threads in bands of rows (use_bands) take the one-thread width.
  index_t strip_width(const Grid& g, int depth, index_t unit) const {
    if (g.dim < 2) return 0;
    const index_t n = g.n[g.dim - 2];
    if (width_ > 0) return n >= 2 * index_t{width_} ? width_ : 0;
    // Strips sized for one array but too narrow to step in place step two: sized for two.
    const index_t one = budget_width(g, depth, unit, 1);
    return in_place_applies(g, one, depth) ? one : budget_width(g, depth, unit, 2);
  }

  // strip_width from the budget, with `arrays` arrays of u in flight (2D; 3D always two).
  index_t budget_width(const Grid& g, int depth, index_t unit, int arrays) const {
    const index_t n = g.n[g.dim - 2];
    const double per_unit = g.dim == 2 ? arrays * static_cast<double>(unit * depth + 2) *
                                             static_cast<double>(sizeof(double))
                                       : 2.0 * (depth + 2) * static_cast<double>(g.n[0] + 2) *
                                             static_cast<double>(sizeof(double));
    // 3D: each thread's strip in flight takes a share of the last-level cache, at least half
    // the L2 (at 400^3, 2 threads, the best strips held 4-6 MB of the 32 MB L3; 1 MB strips,
    // the L2's size, ran 25% slower), where that cache feeds a sweep at its in-cache rate. Where
    // it does not, half the L2: at 328^3 on the Intel VM, strips of 8-16 y-rows (1-1.5 MB in
    // flight) ran 1.3-1.6x faster than one of 328 rows sized to a share of its 260 MiB L3.
    const double l2 = static_cast<double>(caches().l2);
    const double budget = g.dim == 2 ? (llc_feeds_sweeps() ? std::max(llc_share(), l2) : 0.5 * l2)
                          : strips_3d_by_l2() ? 0.5 * l2
                                              : llc_share();
    const auto fits = std::max<index_t>(g.dim == 2 ? 4 * detail::kLanes : 2,
                                        static_cast<index_t>(budget / per_unit));
    const index_t wanted = (n + fits - 1) / fits;
    // Strips dealt out to the threads come in a multiple of them. A band (use_bands) runs its
    // strips in turn, as one thread would: at 2 threads in bands, the one-thread widths ran
    // 1.02-1.17x as fast as a multiple of the threads at 1024^2-2896^2 in 12 of 12 interleaved
    // rounds (4800^2: 2 of 4).
    const index_t dealt = use_bands(g, depth) ? 1 : threads_;
    const index_t strips = (wanted + dealt - 1) / dealt * dealt;
    if (g.dim == 3) return n / strips >= 2 ? n / strips : 0;
    const index_t across = n / std::max(strips, 2 * dealt);
    return across >= 4 * detail::kLanes ? across : 0;
  }

  // Rows a 2D strip's wave takes per step (3D: one plane). Four where the last level feeds a
  // sweep at its in-cache rate, the strips then sized to a share of it (strip_width): the
  // four-row kernel loads 6 rows per 4 it updates instead of 4 per 2, and the last level feeds
  // the rows in flight, twice as many. On the AMD EPYC VM the case study ran 1.18-1.19x as fast
  // at one thread and two as in two-row units sized to the L2, and 1.09-1.20x at equal widths
  // (docs/benchmarks.md, "Four rows a step"). Two elsewhere: where the strips must fit the L2
  // (the Intel VM), four-row units are shallower or narrower, and ran 0.89-0.98x as fast; and
  // for the conservative forms, whose kernel jams two rows (four-row units, as two such pairs,
  // ran variable alpha at 4096^2 in 1.37-1.41 s against 1.33-1.54 s in two-row units).
  static index_t strip_unit(const Grid& g, StencilForm form) {
    if (g.dim != 2) return 1;
    return llc_feeds_sweeps() && !is_conservative(form) ? 4 : 2;
  }

  // Advances `depth` steps of a 2D or 3D grid in strips across the second-outermost axis (columns
  // in 2D, y-rows in 3D), so that what is in flight stays in the L2 cache rather than the LLC.
  //
  // Strip s at step t holds [X(s) - (t - 1), X(s + 1) - (t - 1)) across, X(s) = x0 + s width,
  // clipped to the step's region; the first and last strips reach the region's ends. Each strip
  // is a wavefront along the outermost axis, in units of two or four rows in 2D (strip_unit:
  // the kernel that updates them at once shares their loads) or one plane in 3D: wave W runs step t
  // on unit W - (t - 1), for t = 1..T in that order. One unit of lag per step is enough because one
  // thread runs a whole wave of a strip: step t on unit P reads step t - 1 on units P - 1..P + 1,
  // the last of them done just before it in the same wave, and it overwrites the step t - 2 values
  // of unit P, whose last reader (step t - 1 on unit P + 1) is that same wave. (block() needs two
  // slabs of lag, as its threads share each slab.) What is in flight is then unit x T + 2 rows (3D:
  // T + 2 planes) per array, half what a lag of two units holds, which is what strip_width assumes
  // (docs/benchmarks.md: the case study ran 1.4x faster than with two pairs of lag).
  // The strips lean back by one cell per step, so strip s needs only strip s - 1 (its last two
  // cells across of each step), never the strip after it: strip s runs wave W once strip s - 1
  // has finished wave W (which reads and rewrites the cells they share). The threads share the
  // work in one of two ways: in 2D each takes a band of rows with all its strips, the bands
  // meeting in wedges after a barrier (banded_strips: two threads on separate rows ran faster
  // than side by side in the same ones); in 3D thread `id` takes strips id, id + nt, ..., each
  // waiting for its left neighbour's wave counter (pipelined_strips), so that threads meet only
  // there, never at a barrier. In place (2D, where in_place_applies) the schedule
  // is the same on one field: step t on unit P finds unit P at step t - 1 (its wave before) and
  // unit P + 1 too (just before it in its wave), and the last row of unit P - 1 at step t - 1 in
  // the row that unit kept aside; strip s finds the cells left of it at step t - 1 where strip
  // s - 1 kept them.
  void block_strips(const Scheme& scheme, const Halo& halo, const FaceMask& physical, Field& a,
                    Field& b, int depth, Strips strips, bool stream, bool refill,
                    bool in_place) const {
    const Grid& g = a.grid();
    const Region region{g, physical, depth};
    const int across = g.dim - 2, along = g.dim - 1;
    StripBlock blk{.scheme = scheme,
                   .halo = halo,
                   .physical = physical,
                   .a = a,
                   .b = b,
                   .region = region,
                   .depth = depth,
                   .width = strips.width,
                   .stream = stream,
                   .refill = refill,
                   .across = across,
                   .along = along,
                   .unit = strips.unit,
                   .x0 = region.lo(1, across),
                   .strips = region.strips(across, strips.width),
                   .in_place = in_place};
    const bool banded = use_bands(g, depth);
    if (in_place) place_buffers(blk, banded);
    std::unique_ptr<std::atomic<index_t>[]> done(new std::atomic<index_t>[blk.strips]);
    for (index_t s = 0; s < blk.strips; ++s)
      done[s].store(0, std::memory_order_relaxed);
    on_threads(scheme, threads_, [&](auto shape, const auto& w, const auto& wv, int nt, int id) {
      using S = decltype(shape);
      if (banded && nt == threads_)
        banded_strips<S>(blk, w, wv, nt, id);
      else
        pipelined_strips<S>(blk, w, wv, nt, id, done.get());
      if (stream) detail::stream_fence();
    });
  }

  // Whether block_strips gives each thread a band of rows of its own: in 2D at two threads or
  // more, where each band has room for its trapezoid (it loses a row a step on each side it
  // shares). On the Intel VM at 2 threads, 2D in bands against pipelined strips: 1024^2 and
  // 1448^2 1.04-1.19x as fast in all 9 interleaved rounds; 2896^2-8192^2 and the case study
  // within the noise (faster in 12 of 20 case-study rounds). In 3D the wedges are whole planes
  // without temporal reuse: 512^3 ran 0.82-1.00x as fast in bands, so 3D keeps the pipeline.
  [[nodiscard]] bool use_bands(const Grid& g, int depth) const {
    return g.dim == 2 && threads_ >= 2 && g.n[1] / threads_ >= 2 * index_t{depth} + 2;
  }

  // Whether 2D strips step in place (StripBlock::piece_in_place): where the strips hold their
  // rows in flight in the last level (llc_feeds_sweeps; four-row units, two for the
  // conservative forms), in strips at least twice as wide as the block is deep. Then every strip
  // keeps cells at every step (the first one loses a cell a step, and one more towards an exchanged
  // face), so the cells left of a strip are always the last ones of the strip before, whose old
  // values it kept (StripBlock::edge). Narrower strips step two fields.
  static bool in_place_applies(const Grid& g, index_t width, int depth) {
    return g.dim == 2 && llc_feeds_sweeps() && width >= 2 * index_t{depth};
  }

  // Points blk's in-place buffers at this backend's storage (kept between blocks): a saved row
  // per step and thread, laid out as a's rows, two more (a band's first and last) where the
  // threads run in bands, and a cell per row and step for each strip edge.
  void place_buffers(StripBlock& blk, bool banded) const {
    const Field& a = blk.a;
    const auto rows = static_cast<std::size_t>((banded ? 3 : 1) * (blk.depth + 1) * threads_);
    blk.saved =
        detail::kept_rows(saved_store_, rows * static_cast<std::size_t>(a.stride_y()), a.origin(0));
    blk.band_rows = banded ? blk.saved + (blk.depth + 1) * threads_ * a.stride_y() : nullptr;
    blk.edge_first = blk.region.lo(1, blk.along) - 1;
    blk.edge_rows = blk.region.hi(1, blk.along) + 1 - blk.edge_first;
    edge_store_.resize(static_cast<std::size_t>(blk.strips * (blk.depth + 1) * blk.edge_rows));
    blk.edges = edge_store_.data();
  }

  // Thread `id` takes strips id, id + nt, ...: wave W of strip s runs once strip s - 1 has
  // finished wave W (which reads and rewrites the cells they share).
  template <class S, class W, class WV>
  static void pipelined_strips(const StripBlock& blk, const W& w, const WV& wv, int nt, int id,
                               std::atomic<index_t>* done) {
    const index_t lo = blk.region.lo(1, blk.along), hi = blk.region.hi(1, blk.along);
    const index_t waves = blk.region.waves(blk.along, blk.unit, 1);
    for (index_t s = id; s < blk.strips; s += nt)
      for (index_t wave = 0; wave < waves; ++wave) {
        if (s > 0) wait_at_least(done[s - 1], wave + 1);
        blk.wave_of<S>(w, wv, s, wave, lo, hi, false, false, id);
        done[s].store(wave + 1, std::memory_order_release);
      }
  }

  // Thread `id` takes band `id` of the outermost axis, all its strips in turn. A band's step t
  // ends t - 1 cells short of each band beside it, so it needs nothing from them (a trapezoid in
  // space and time); after a barrier, the wedge between two bands (2 (t - 1) cells at step t) is
  // computed by the band above it, step by step: step t there reads step t - 1 of the wedge and
  // of the two bands' last cells beside it, which their step t + 1 (one cell shorter again) did
  // not overwrite. In place, a band's step t starts t cells past the band before it (one more),
  // so that no band reads a row the other overwrites during the same steps; the wedge (2 t - 1
  // cells from step 1) then reads the bands' edge rows at step t - 1 where they kept them.
  template <class S, class W, class WV>
  static void banded_strips(const StripBlock& blk, const W& w, const WV& wv, int nt, int id) {
    const index_t first = blk.region.lo(1, blk.along);
    const index_t n = blk.region.hi(1, blk.along) - first;
    const index_t lo = first + n * id / nt, hi = first + n * (id + 1) / nt;
    const index_t waves = blk.region.waves_over(hi - lo, blk.unit, 1);
    for (index_t s = 0; s < blk.strips; ++s)
      for (index_t wave = 0; wave < waves; ++wave)
        blk.wave_of<S>(w, wv, s, wave, lo, hi, id > 0, id < nt - 1, id);
    if (blk.stream) detail::stream_fence();
#pragma omp barrier
    if (id == 0) return;
    for (int t = blk.in_place ? 1 : 2; t <= blk.depth; ++t) {
      const index_t j0 = std::max(lo - (t - 1), blk.region.lo(t, blk.along));
      const index_t j1 = std::min(blk.band_start(lo, t), blk.region.hi(t, blk.along));
      if constexpr (S::dim == 2)
        if (blk.in_place) {
          blk.wedge_in_place<S>(w, wv, t, j0, j1, lo, id);
          continue;
        }
      blk.piece<S>(w, wv, t, j0, j1, blk.region.lo(t, blk.across), blk.region.hi(t, blk.across));
    }
  }

  // Advances `depth` steps: the result is in `a` if depth is even, else in `b`.
  void block(const Scheme& scheme, const Halo& halo, const FaceMask& physical, Field& a, Field& b,
             int depth, bool refill, bool stream) const {
    const Grid& g = a.grid();
    const int outer = g.dim - 1;
    const Region region{g, physical, depth};
    const index_t first = region.lo(1, outer), waves = region.waves(outer);
    on_threads(scheme, threads_, [&](auto shape, const auto& w, const auto& wv, int nt, int id) {
      using S = decltype(shape);
      for (index_t wave = 0; wave < waves; ++wave) {
        for (int t = 1; t <= depth; ++t) {
          const index_t slab = first + wave - 2 * (t - 1);
          if (slab < region.lo(t, outer) || slab >= region.hi(t, outer)) continue;
          // This thread's part of the slab: whole x-rows when there are enough of them (3D),
          // else a block of columns of the one row (2D).
          const index_t l_lo = g.dim == 3 ? region.lo(t, 1) : 0,
                        l_hi = g.dim == 3 ? region.hi(t, 1) : 1;
          const bool by_lines = l_hi - l_lo >= nt;
          auto [l0, l1] = std::pair<index_t, index_t>{l_lo, l_hi};
          auto [c0, c1] = std::pair<index_t, index_t>{region.lo(t, 0), region.hi(t, 0)};
          if (by_lines) {
            const auto [p0, p1] = detail::static_block(l_hi - l_lo, id, nt);
            l0 = l_lo + p0;
            l1 = l_lo + p1;
          } else {
            const auto [p0, p1] = detail::static_block(c1 - c0, id, nt);
            c1 = c0 + p1;
            c0 = c0 + p0;
          }
          for (index_t l = l0; l < l1; ++l)
            step_cells<S>(scheme, w, wv, a, b, t, stream && t == depth, g.dim == 3 ? l : slab,
                          g.dim == 3 ? slab : 0, c0, c1);
        }
        if (stream) detail::stream_fence();
#pragma omp barrier
        if (refill) {
#pragma omp single
          for (int t = 1; t <= depth; ++t) {
            const index_t slab = first + wave - 2 * (t - 1);
            if (slab >= region.lo(t, outer) && slab < region.hi(t, outer))
              fill_physical_slab(halo.boundaries(), g, t % 2 == 1 ? b : a, slab, physical,
                                 halo.conductivity());
          }
        }
      }
    });
  }

  int threads_;
  int depth_;
  int width_;
  std::string plan_;
  mutable std::vector<double> saved_store_, edge_store_;  // see place_buffers
};

}  // namespace

const BackendEntry registry::tiled_backend{
    "tiled", MemorySpace::host,
    [](const BackendOptions& o) -> std::unique_ptr<Backend> {
      return std::make_unique<TiledBackend>(o.threads, o.tile_depth, o.tile_width);
    },
    [](const Grid& block, int threads) {
      if (const char* why = tiling_obstacle(block))
        return AutoBid{0, std::string("no temporal blocking here: ") + why};
      if (!prefer_temporal_blocking(block, threads)) return AutoBid{};
      const double bytes = 2.0 * static_cast<double>(block.cells()) * sizeof(double);
      char text[32];
      std::snprintf(text, sizeof text, bytes < 1e7 ? "%.1f" : "%.0f", bytes / 1e6);
      const std::string mb = text;
      if (block.dim == 3 && bytes <= 0.5 * static_cast<double>(caches().llc))
        return AutoBid{30, "3D, the fields (" + mb +
                               " MB) in cache: strips of y-rows run several steps per pass, "
                               "the threads meeting once per plane instead of once per step"};
      if (barrier_bound(block, threads) && !outgrows_sweep_cache(block, threads, false))
        return AutoBid{30, "2D, the fields (" + mb +
                               " MB) in cache: a thread's share of a step is a few "
                               "microseconds, so blocks of steps that meet once per block beat a "
                               "sweep that meets at a barrier every step"};
      return AutoBid{30, "the fields (" + mb +
                             " MB) outgrow the cache: temporal blocking reuses each cell for "
                             "several steps per trip to memory"};
    }};

}  // namespace calor
