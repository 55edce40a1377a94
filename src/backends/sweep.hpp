#pragma once
// One vectorised sweep over a range of x-rows, shared by the simd, threads and tiled backends.

#include <algorithm>
#include <cstdint>
#include <utility>

#include "calor/halo.hpp"
#include "calor/machine.hpp"
#include "dispatch.hpp"
#include "rows.hpp"

namespace calor::detail {

/// Items [lo, hi) of `count` for thread `t` of `nt`: contiguous blocks, the first ones one larger.
/// The threads and tiled backends split work this way. A solver's fields are zeroed in shares
/// like it (Field, threads > 1), so that a threads-backend thread mostly sweeps memory it placed.
inline std::pair<index_t, index_t> static_block(index_t count, int t, int nt) {
  const index_t base = count / nt, extra = count % nt;
  const index_t lo = t * base + (t < extra ? t : extra);
  return {lo, lo + base + (t < extra ? 1 : 0)};
}

/// Advances `steps` steps with a vectorised sweep on `threads` threads (the threads backend).
void threaded_steps(const Scheme& scheme, Halo& halo, Field& cur, Field& next, std::int64_t steps,
                    int threads);

/// Rows of a field's interior, flattened: row r is (j, k) = (r % ny, r / ny).
inline index_t row_count(const Grid& g) {
  return g.n[1] * g.n[2];
}

/// The share of a slow last-level cache (llc_feeds_sweeps() false) past which a plain sweep runs
/// at memory's pace anyway, so that streaming stores only save traffic. On the Intel VM
/// (260 MiB L3; docs/benchmarks.md, "Streaming past part of a slow last level") the crossing lay
/// between 0.25 of it (2048^2: ordinary stores 1.04-1.34x as fast) and 0.49 (2896^2: streaming
/// 1.23-1.64x as fast at one thread).
inline constexpr double kSlowLlcStreamShare = 0.4;

/// Whether a sweep over fields of `bytes` (both together) should use streaming stores: where they
/// cannot stay in the last-level cache, skipping the read-for-ownership saves a third of the
/// traffic. A plain sweep streams past kSlowLlcStreamShare of a slow last level too (its speed
/// is measured once per process, and only for fields past that share). A tiled block's last step
/// (`blocked`) streams only past a fast last level: where it is slow, its cached stores leave
/// part of the fields there for the next block, and on the Intel VM's 260 MiB L3 none of the
/// sizes measured, 1.4x to 4.1x the L3, ran faster streaming (docs/benchmarks.md, "A tiled
/// block's last step no longer streams past a slow last level").
inline bool should_stream(double bytes, bool blocked = false) {
  const auto llc = static_cast<double>(caches().llc);
  if (blocked) return bytes > llc && llc_feeds_sweeps();
  return bytes > llc || (bytes > kSlowLlcStreamShare * llc && !llc_feeds_sweeps());
}

inline bool should_stream(const Field& f, bool blocked = false) {
  return should_stream(2.0 * static_cast<double>(f.size()) * sizeof(double), blocked);
}

/// Cells [i0, i1) of rows j, j + 1, ... of one plane, `rw` being row j: four rows at once where
/// fits(4), else two where fits(2), else one (the conservative forms: two or one). With Prefetch
/// (a sweep from memory), the rows read for the first time are prefetched (see kPrefetchAhead).
/// Returns how many rows it updated.
template <class S, bool Stream, bool Prefetch, class Fits>
inline index_t rows_at_once(const Scheme& s, const Weights<double>& w, const Weights<vec>& wv,
                            const Row& rw, index_t i0, index_t i1, const Fits& fits) {
  if constexpr (S::dim >= 2 && !S::conservative) {
    if (fits(4)) {
      rows_simd<S, 4, Stream, Stream, Prefetch>(w, wv, s.dq, rw, i0, i1);
      return 4;
    }
  }
  if constexpr (S::dim >= 2) {
    if (fits(2)) {
      rows_simd<S, 2, Stream, Stream, Prefetch>(w, wv, s.dq, rw, i0, i1);
      return 2;
    }
  }
  row_simd<S, Stream>(w, wv, s.dq, rw, i0, i1);
  return 1;
}

/// Updates flattened rows [r0, r1) of `out` from `in` (no sources): rows of the same plane
/// several at once (rows_at_once); a streaming sweep reads from memory, so it prefetches.
template <class S, bool Stream>
inline void sweep_rows(const Scheme& s, const Field& in, Field& out, index_t r0, index_t r1) {
  const auto w = Weights<double>::from(s.coeffs);
  const auto wv = Weights<vec>::from(s.coeffs);
  const Grid& g = in.grid();
  for (index_t r = r0; r < r1;) {
    const index_t j = r % g.n[1], k = r / g.n[1];
    r += rows_at_once<S, Stream, Stream>(s, w, wv, row<S>(s, in, out, j, k), 0, g.n[0],
                                         [&](index_t n) { return r + n <= r1 && j + n <= g.n[1]; });
  }
}

/// sweep_rows with the stencil shape and streaming chosen at run time.
inline void sweep_rows(const Scheme& s, const Field& in, Field& out, index_t r0, index_t r1,
                       bool stream) {
  dispatch(s, [&](auto shape) {
    using S = decltype(shape);
    if (stream)
      sweep_rows<S, true>(s, in, out, r0, r1);
    else
      sweep_rows<S, false>(s, in, out, r0, r1);
  });
  if (stream) stream_fence();
}

/// The cells a step may update while an overlapped halo exchange is in flight: all but the
/// layer next to each exchanged face, as [lo, hi) per axis.
struct Inner {
  index_t lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
  [[nodiscard]] bool holds_row(index_t j, index_t k) const {
    return j >= lo[1] && j < hi[1] && k >= lo[2] && k < hi[2];
  }
};

inline Inner inner_region(const Halo& h, const Grid& g) {
  Inner in;
  for (int a = 0; a < g.dim; ++a) {
    in.lo[a] = h.exchanged(a, 0) ? 1 : 0;
    in.hi[a] = std::max(in.lo[a], g.n[a] - (h.exchanged(a, 1) ? 1 : 0));
  }
  return in;
}

/// Updates flattened rows [r0, r1) of `out`, in one of two parts: the inner cells (while the
/// exchange is in flight, calling halo.progress() every 16 rows or so) or the rest (after it).
/// Every cell gets exactly the arithmetic of sweep_rows.
template <class S, bool Stream>
inline void sweep_rows_part(const Scheme& s, const Field& in, Field& out, index_t r0, index_t r1,
                            const Inner& inner, bool inner_part, Halo* halo) {
  const auto w = Weights<double>::from(s.coeffs);
  const auto wv = Weights<vec>::from(s.coeffs);
  const Grid& g = in.grid();
  const index_t nx = g.n[0];
  for (index_t r = r0; r < r1;) {
    const index_t j = r % g.n[1], k = r / g.n[1];
    const Row rw = row<S>(s, in, out, j, k);
    const bool inside = inner.holds_row(j, k);
    index_t done = 1;
    if (inner_part) {
      if (inside)  // as many rows at once as are inner rows of the plane
        done = rows_at_once<S, Stream, false>(
            s, w, wv, rw, inner.lo[0], inner.hi[0],
            [&](index_t n) { return r + n <= r1 && inner.holds_row(j + n - 1, k); });
      if (halo != nullptr && (r - r0) / 16 != (r + done - r0) / 16) halo->progress();
    } else if (inside) {
      row_simd<S, Stream>(w, wv, s.dq, rw, 0, inner.lo[0]);
      row_simd<S, Stream>(w, wv, s.dq, rw, inner.hi[0], nx);
    } else {
      row_simd<S, Stream>(w, wv, s.dq, rw, 0, nx);
    }
    r += done;
  }
}

/// sweep_rows_part with the stencil shape and streaming chosen at run time.
inline void sweep_rows_part(const Scheme& s, const Field& in, Field& out, index_t r0, index_t r1,
                            bool stream, const Inner& inner, bool inner_part, Halo* halo) {
  dispatch(s, [&](auto shape) {
    using S = decltype(shape);
    if (stream)
      sweep_rows_part<S, true>(s, in, out, r0, r1, inner, inner_part, halo);
    else
      sweep_rows_part<S, false>(s, in, out, r0, r1, inner, inner_part, halo);
  });
  if (stream) stream_fence();
}

}  // namespace calor::detail
