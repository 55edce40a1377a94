#pragma once
// One vectorised sweep over a range of x-rows, shared by the simd, threads and tiled backends.

#include <cstdint>
#include <utility>

#include "calor/halo.hpp"
#include "calor/machine.hpp"
#include "dispatch.hpp"
#include "rows.hpp"

namespace calor::detail {

/// Items [lo, hi) of `count` for thread `t` of `nt`: contiguous blocks, the first ones one larger.
/// The threads and tiled backends and the fields' first touch all split work this way.
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

/// Whether a sweep over `f` should use streaming stores: only when the two fields cannot stay in
/// the last-level cache, where skipping the read-for-ownership saves a third of the traffic.
inline bool should_stream(const Field& f) {
  return 2.0 * static_cast<double>(f.size()) * sizeof(double) > static_cast<double>(caches().llc);
}

/// Updates flattened rows [r0, r1) of `out` from `in` (no sources).
template <class S, bool Stream>
inline void sweep_rows(const Scheme& s, const Field& in, Field& out, index_t r0, index_t r1) {
  const auto w = Weights<double>::from(s.coeffs);
  const auto wv = Weights<vec>::from(s.coeffs);
  const Grid& g = in.grid();
  for (index_t r = r0; r < r1; ++r)
    row_simd<S, Stream>(w, wv, s.dq, row(in, out, r % g.n[1], r / g.n[1]), 0, g.n[0]);
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

}  // namespace calor::detail
