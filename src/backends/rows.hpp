#pragma once
// The row kernels: update cells [i0, i1) of one x-row. Every CPU backend is built from these, and
// they are built from combine() in stencil.hpp, so all agree bit for bit.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <utility>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "calor/field.hpp"
#include "calor/scheme.hpp"
#include "calor/stencil.hpp"

namespace calor::detail {

// One SIMD register of doubles, as a GCC/Clang vector extension: + and * act lane by lane with
// the same IEEE rounding as scalar code.
#if !defined(CALOR_LANES)
#if defined(__AVX512F__)
#define CALOR_LANES 8
#elif defined(__AVX__)
#define CALOR_LANES 4
#else
#define CALOR_LANES 2
#endif
#endif
inline constexpr int kLanes = CALOR_LANES;
using vec = double __attribute__((vector_size(kLanes * sizeof(double))));

inline vec load(const double* p) {
  vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store(double* p, vec v) {
  std::memcpy(p, &v, sizeof v);
}

// A store that bypasses the cache (p aligned to sizeof(vec)): the line is not read first, so a
// sweep moves 16 instead of 24 bytes per cell when the grid does not fit in cache.
inline void stream(double* p, vec v) {
#if CALOR_LANES == 8 && defined(__AVX512F__)
  _mm512_stream_pd(p, v);
#elif CALOR_LANES == 4 && defined(__AVX__)
  _mm256_stream_pd(p, v);
#elif CALOR_LANES == 2 && defined(__SSE2__)
  _mm_stream_pd(p, v);
#else
  store(p, v);
#endif
}

/// Orders the streamed stores before anything that follows (call once per thread per sweep).
inline void stream_fence() {
#if defined(__SSE2__)
  _mm_sfence();
#endif
}

namespace lanes {
template <int First, std::size_t... I>
inline vec window(vec a, vec b, std::index_sequence<I...>) {
  return __builtin_shufflevector(a, b, (First + static_cast<int>(I))...);
}
}  // namespace lanes

/// Lanes First .. First + kLanes - 1 of the pair (a, b): e.g. lanes_from<1>(u[i..], u[i+L..]) is
/// u[i+1..], the right neighbours of u[i..], without a load.
template <int First>
inline vec lanes_from(vec a, vec b) {
  return lanes::window<First>(a, b, std::make_index_sequence<kLanes>{});
}

/// Row pointers and strides of one row of a sweep.
struct Row {
  const double* __restrict src;  ///< cell (0, j, k) of the input
  double* __restrict dst;        ///< cell (0, j, k) of the output
  index_t sy, sz;
};

inline Row row(const Field& in, Field& out, index_t j, index_t k) {
  return Row{in.raw() + in.offset(0, j, k), out.raw() + out.offset(0, j, k), in.stride_y(),
             in.stride_z()};
}

/// Scalar row: the reference order, one cell at a time.
template <class S>
inline void row_scalar(const Weights<double>& w, double dq, const Row& r, index_t i0, index_t i1) {
  for (index_t i = i0; i < i1; ++i)
    r.dst[i] = cell_update<S::dim, S::form, S::volumetric>(w, r.src + i, r.sy, r.sz, dq);
}

/// Vector row: kLanes cells at a time with the same operations; cells after the last full vector,
/// and with Align (always when streaming) those before the first aligned output address, go
/// through the scalar path. Align pays where i0 is not a multiple of kLanes: a store that spans
/// two cache lines costs two.
template <class S, bool Stream, bool Align = Stream>
inline void row_simd(const Weights<double>& w, const Weights<vec>& wv, double dq, const Row& r,
                     index_t i0, index_t i1) {
  index_t i = i0;
  if constexpr (Stream || Align) {
    const auto misalign = reinterpret_cast<std::uintptr_t>(r.dst + i) % sizeof(vec);
    const index_t peel =
        misalign ? static_cast<index_t>((sizeof(vec) - misalign) / sizeof(double)) : 0;
    const index_t stop = i + peel < i1 ? i + peel : i1;
    row_scalar<S>(w, dq, r, i, stop);
    i = stop;
  }
  const vec dqv = vec{} + dq;
  const index_t sy = r.sy, sz = r.sz;
  // A local copy the compiler can keep in registers: through the reference it reloads the
  // weights after every store, two more loads per vector on a loop bound by its loads.
  const Weights<vec> wl = wv;
  auto put = [&](index_t at, vec xm, vec x, vec xp) {
    const double* u = r.src + at;
    const vec ym = S::dim >= 2 ? load(u - sy) : vec{}, yp = S::dim >= 2 ? load(u + sy) : vec{};
    const vec zm = S::dim >= 3 ? load(u - sz) : vec{}, zp = S::dim >= 3 ? load(u + sz) : vec{};
    vec v = combine<S::dim, S::form>(wl, x, xm, xp, ym, yp, zm, zp);
    if constexpr (S::volumetric) v = v + dqv;
    if constexpr (Stream)
      stream(r.dst + at, v);
    else
      store(r.dst + at, v);
  };
  if (i + kLanes <= i1) {
    // The x-neighbours come from the vectors before and after by a lane shift, not two more
    // loads: the same values, so the same arithmetic, with 3 loads per vector in 2D, not 5.
    vec xm = load(r.src + i - 1), x = load(r.src + i);
    for (; i + 2 * kLanes <= i1; i += kLanes) {
      const vec next = load(r.src + i + kLanes);
      put(i, xm, x, lanes_from<1>(x, next));
      xm = lanes_from<kLanes - 1>(x, next);
      x = next;
    }
    put(i, xm, x, load(r.src + i + 1));  // the last full vector: no loads past the row
    i += kLanes;
  }
  row_scalar<S>(w, dq, r, i, i1);
}

/// Adds the sources whose offsets lie in [lo, hi) of `out` (the scheme keeps them sorted).
inline void add_sources_in(const Scheme& s, Field& out, index_t lo, index_t hi) {
  double* u = out.raw();
  auto it = std::lower_bound(s.sources.begin(), s.sources.end(), lo,
                             [](const SourceCell& c, index_t v) { return c.offset < v; });
  for (; it != s.sources.end() && it->offset < hi; ++it)
    u[it->offset] += it->energy;
}

}  // namespace calor::detail
