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
// Faces are physical (Dirichlet, Neumann: their halo is refilled slab by slab from the cells just
// computed) or exchanged (periodic, or another MPI rank: filled once per block, T cells wide).
// Towards an exchanged face, step t also computes the T - t halo cells next to the interior, as
// the neighbour does, so that step t + 1 has its inputs without another exchange: this is the
// communication-avoiding mode, one exchange of a T-wide halo per T steps.
//
// Each unit is the same row kernel as the other backends, sources (those in the widened region
// too) are added per slab right after its update, so the result is the reference's, bit for bit.

#include <omp.h>

#include <algorithm>
#include <array>
#include <utility>

#include "calor/backend.hpp"
#include "calor/machine.hpp"
#include "sweep.hpp"

namespace calor {

/// Whether the wavefront applies, and if not why.
const char* tiling_obstacle(const Grid& g) {
  if (g.dim < 2) return "1D grids sweep step by step";
  return nullptr;
}

/// Depth of a block: the 2T + 2 slabs in flight in each of the two arrays take about a sixth of
/// the last-level cache (measured best on the 4800^2 case study: depth 32 beat 8, 16 and 64).
int auto_tile_depth(const Grid& g) {
  const double slab =
      static_cast<double>(g.dim == 2 ? g.n[0] + 2 : (g.n[0] + 2) * (g.n[1] + 2)) * sizeof(double);
  const double budget = static_cast<double>(caches().llc) / 6.0;
  const int t = static_cast<int>((budget / (2.0 * slab) - 2.0) / 2.0);
  return std::clamp(t, 2, 64);
}

namespace {

class TiledBackend final : public Backend {
 public:
  TiledBackend(int threads, int depth)
      : threads_(threads > 0 ? threads : default_threads()), depth_(depth) {}
  std::string_view name() const override { return "tiled"; }

  int halo_width(const Grid& g, const Halo& halo) const override {
    // Exchanged faces need a halo as wide as a block is deep.
    if (tiling_obstacle(g) != nullptr || !halo.any_exchanged(g.dim)) return 1;
    return depth_ > 0 ? depth_ : auto_tile_depth(g);
  }

  void advance(const Scheme& scheme, Halo& halo, Field& cur, Field& next,
               std::int64_t steps) override {
    const Grid& g = cur.grid();
    int depth = depth_ > 0 ? depth_ : auto_tile_depth(g);
    if (halo.any_exchanged(g.dim)) depth = std::min<int>(depth, static_cast<int>(cur.halo()));
    if (tiling_obstacle(g) != nullptr || depth < 2 || steps < 2) {
      detail::threaded_steps(scheme, halo, cur, next, steps, threads_);
      return;
    }
    const FaceMask physical = halo.physical_faces(g.dim);
    // `next` needs the constant (Dirichlet) parts of its halo; the rest is written before it is
    // read. The whole halo of `cur` is refreshed at the start of every block.
    for (int a = 0; a < g.dim; ++a)
      for (int s = 0; s < 2; ++s)
        if (physical[a][s]) fill_halo_face(halo.boundaries(), g, next, a, s);
    bool refill = false;
    for (int a = 0; a < g.dim; ++a)
      for (int s = 0; s < 2; ++s)
        refill = refill ||
                 (physical[a][s] && halo.boundaries().face[a][s].kind != BoundaryKind::dirichlet);
    const bool stream = detail::should_stream(cur);
    while (steps > 0) {
      const int t = static_cast<int>(std::min<std::int64_t>(depth, steps));
      halo.update(cur);
      block(scheme, halo, physical, cur, next, t, refill, stream);
      if (t % 2 == 1) std::swap(cur, next);
      steps -= t;
    }
  }

 private:
  // Advances `depth` steps: the result is in `a` if depth is even, else in `b`.
  void block(const Scheme& scheme, const Halo& halo, const FaceMask& physical, Field& a, Field& b,
             int depth, bool refill, bool stream) const {
    const Grid& g = a.grid();
    const int outer = g.dim - 1;
    // The region step t computes: the interior, widened by depth - t cells towards exchanged faces.
    auto lo = [&](int t, int axis) -> index_t {
      return axis < g.dim && !physical[axis][0] ? -(depth - t) : 0;
    };
    auto hi = [&](int t, int axis) -> index_t {
      return g.n[axis] + (axis < g.dim && !physical[axis][1] ? depth - t : 0);
    };
    const index_t first = lo(1, outer), waves = hi(1, outer) - first + 2 * (depth - 1);
    detail::dispatch(scheme, [&](auto shape) {
      using S = decltype(shape);
      const auto w = Weights<double>::from(scheme.coeffs);
      const auto wv = Weights<detail::vec>::from(scheme.coeffs);
#pragma omp parallel num_threads(threads_)
      {
        const int nt = omp_get_num_threads(), id = omp_get_thread_num();
        for (index_t wave = 0; wave < waves; ++wave) {
          for (int t = 1; t <= depth; ++t) {
            const index_t slab = first + wave - 2 * (t - 1);
            if (slab < lo(t, outer) || slab >= hi(t, outer)) continue;
            const Field& in = t % 2 == 1 ? a : b;
            Field& out = t % 2 == 1 ? b : a;
            // This thread's part of the slab: whole x-rows when there are enough of them (3D),
            // else a block of columns of the one row (2D).
            const index_t l_lo = g.dim == 3 ? lo(t, 1) : 0, l_hi = g.dim == 3 ? hi(t, 1) : 1;
            const bool by_lines = l_hi - l_lo >= nt;
            auto [l0, l1] = std::pair<index_t, index_t>{l_lo, l_hi};
            auto [c0, c1] = std::pair<index_t, index_t>{lo(t, 0), hi(t, 0)};
            if (by_lines) {
              const auto [p0, p1] = detail::static_block(l_hi - l_lo, id, nt);
              l0 = l_lo + p0;
              l1 = l_lo + p1;
            } else {
              const auto [p0, p1] = detail::static_block(c1 - c0, id, nt);
              c1 = c0 + p1;
              c0 = c0 + p0;
            }
            for (index_t l = l0; l < l1; ++l) {
              const index_t j = g.dim == 3 ? l : slab, k = g.dim == 3 ? slab : 0;
              const detail::Row r = detail::row(in, out, j, k);
              // Only the block's last step leaves the cache; earlier results must stay in it.
              if (stream && t == depth)
                detail::row_simd<S, true>(w, wv, scheme.dq, r, c0, c1);
              else
                detail::row_simd<S, false>(w, wv, scheme.dq, r, c0, c1);
              detail::add_sources_in(scheme, out, out.offset(c0, j, k), out.offset(c1, j, k));
            }
          }
          if (stream) detail::stream_fence();
#pragma omp barrier
          if (refill) {
#pragma omp single
            for (int t = 1; t <= depth; ++t) {
              const index_t slab = first + wave - 2 * (t - 1);
              if (slab >= lo(t, outer) && slab < hi(t, outer))
                fill_physical_slab(halo.boundaries(), g, t % 2 == 1 ? b : a, slab, physical);
            }
          }
        }
      }
    });
  }

  int threads_;
  int depth_;
};

}  // namespace

std::unique_ptr<Backend> make_tiled_backend(int threads, int depth) {
  return std::make_unique<TiledBackend>(threads, depth);
}

}  // namespace calor
