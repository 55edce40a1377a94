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
// Each unit is the same row kernel as the other backends, sources are added per slab right after
// its update, and halos are filled slab by slab from the boundary conditions, so the result is the
// reference's, bit for bit. The outermost axis must not be periodic (its halo would need the far
// slab at the same step); then, in 1D, or under MPI, the backend sweeps step by step on all
// threads.

#include <omp.h>

#include <algorithm>
#include <utility>

#include "calor/backend.hpp"
#include "calor/machine.hpp"
#include "sweep.hpp"

namespace calor {

/// Whether the wavefront applies to this grid and halo, and if not why.
const char* tiling_obstacle(const Grid& g, const Boundaries* bc) {
  if (bc == nullptr) return "halo comes from other processes";
  if (g.dim < 2) return "1D grids sweep step by step";
  if (bc->periodic(g.dim - 1)) return "the outermost axis is periodic";
  return nullptr;
}

/// Depth of a block: as many steps as keep the 2T + 2 slabs in flight in each of the two arrays
/// within about half of one core's L2 (the rest holds the other arrays' lines and the stack).
int auto_tile_depth(const Grid& g, int threads) {
  const double slab = static_cast<double>(g.dim == 2 ? g.n[0] + 2 : (g.n[0] + 2) * (g.n[1] + 2)) *
                      sizeof(double) / std::max(threads, 1);
  const double budget = 0.5 * static_cast<double>(caches().l2);
  const int t = static_cast<int>((budget / (2.0 * slab) - 2.0) / 2.0);
  return std::clamp(t, 2, 64);
}

namespace {

class TiledBackend final : public Backend {
 public:
  TiledBackend(int threads, int depth)
      : threads_(threads > 0 ? threads : default_threads()), depth_(depth) {}
  std::string_view name() const override { return "tiled"; }

  void advance(const Scheme& scheme, Halo& halo, Field& cur, Field& next,
               std::int64_t steps) override {
    const Grid& g = cur.grid();
    const Boundaries* bc = halo.physical();
    if (tiling_obstacle(g, bc) != nullptr || steps < 2) {
      detail::threaded_steps(scheme, halo, cur, next, steps, threads_);
      return;
    }
    const int depth = depth_ > 0 ? depth_ : auto_tile_depth(g, threads_);
    // Step 0's halo in `cur`; `next` gets the constant (Dirichlet) parts, the rest is refilled
    // slab by slab before it is read.
    fill_halo(*bc, g, cur);
    fill_halo(*bc, g, next);
    const bool refill = !halo_is_constant(*bc, g.dim);
    const bool stream = detail::should_stream(cur);
    while (steps > 0) {
      const int t = static_cast<int>(std::min<std::int64_t>(depth, steps));
      block(scheme, *bc, cur, next, t, refill, stream);
      if (t % 2 == 1) std::swap(cur, next);
      steps -= t;
    }
  }

 private:
  // Advances `depth` steps: the result is in `a` if depth is even, else in `b`.
  void block(const Scheme& scheme, const Boundaries& bc, Field& a, Field& b, int depth, bool refill,
             bool stream) const {
    const Grid& g = a.grid();
    const int outer = g.dim - 1;
    const index_t slabs = g.n[outer];
    const index_t lines = g.dim == 3 ? g.n[1] : 1;  // x-rows per slab
    const index_t waves = slabs + 2 * (depth - 1);
    detail::dispatch(scheme, [&](auto shape) {
      using S = decltype(shape);
      const auto w = Weights<double>::from(scheme.coeffs);
      const auto wv = Weights<detail::vec>::from(scheme.coeffs);
#pragma omp parallel num_threads(threads_)
      {
        const int nt = omp_get_num_threads(), id = omp_get_thread_num();
        // This thread's part of every slab: whole x-rows when a slab has enough of them (3D),
        // else a block of columns of the one row (2D).
        const bool by_lines = lines >= nt;
        const auto [l0, l1] =
            by_lines ? detail::static_block(lines, id, nt) : std::pair<index_t, index_t>{0, lines};
        const auto [c0, c1] = by_lines ? std::pair<index_t, index_t>{0, g.n[0]}
                                       : detail::static_block(g.n[0], id, nt);
        for (index_t wave = 0; wave < waves; ++wave) {
          for (int t = 1; t <= depth; ++t) {
            const index_t slab = wave - 2 * (t - 1);
            if (slab < 0 || slab >= slabs) continue;
            const Field& in = t % 2 == 1 ? a : b;
            Field& out = t % 2 == 1 ? b : a;
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
              const index_t slab = wave - 2 * (t - 1);
              if (slab >= 0 && slab < slabs) fill_halo_slab(bc, g, t % 2 == 1 ? b : a, slab);
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
