#pragma once
// The row kernels: update cells [i0, i1) of one x-row. Every CPU backend is built from these, and
// they are built from combine() in stencil.hpp, so all agree bit for bit.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

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

/// Row pointers and strides of one row of a sweep. The vector kernels take it by value: a copy
/// the compiler keeps in registers. Through a reference it reloaded the pointers and strides
/// after every vector store (a store through memcpy may alias anything): 73 instructions an
/// iteration of the four-row loop instead of 48. The simd backend on a variable-alpha grid in
/// the L2, whose loop loads 7 vectors a vector, ran 1.08-1.10x as fast (docs/benchmarks.md).
struct Row {
  const double* __restrict src;  ///< cell (0, j, k) of the input
  double* __restrict dst;        ///< cell (0, j, k) of the output
  index_t sy, sz;
  FacePointers f;             ///< cell (0, j, k) of the scheme's face-alpha fields, if any
  const double* q = nullptr;  ///< cell (0, j, k) of the scheme's heat field, if it has one
};

/// `p` moved on by `by` elements, or nullptr if it is null.
inline const double* moved(const double* p, index_t by) {
  return p != nullptr ? p + by : nullptr;
}

/// The face pointers moved on by `by` elements.
inline FacePointers moved(const FacePointers& f, index_t by) {
  return FacePointers{{moved(f.k[0], by), moved(f.k[1], by), moved(f.k[2], by)}};
}

/// Points `f` and `q` at offset `at` of scheme `s`'s face-alpha fields and heat field, for the
/// shapes that read them. Only those look at the cell fields: this runs once per row, and a row
/// in cache is short enough for its setup to show (docs/benchmarks.md, "In-core ceilings").
template <class S>
inline void point_at_cell_fields(const Scheme& s, index_t at, FacePointers& f, const double*& q) {
  if constexpr (S::conservative)
    for (int a = 0; a < S::dim; ++a)
      f.k[a] = s.face[a]->raw() + at;
  if constexpr (S::heat == Heating::field) q = s.heat->raw() + at;
}

/// Row (j, k) of a step from `in` into `out` with scheme `s` (its fields share their layout).
template <class S>
inline Row row(const Scheme& s, const Field& in, Field& out, index_t j, index_t k) {
  const index_t at = in.offset(0, j, k);
  Row r{in.raw() + at, out.raw() + at, in.stride_y(), in.stride_z(), {}, nullptr};
  point_at_cell_fields<S>(s, at, r.f, r.q);
  return r;
}

/// The same row `by` further on along y (a value made where it is used: kept in an array, rows
/// went through the stack on every call, and 3D rows of 64 cells ran 15% slower).
template <class S>
inline Row next_row(const Row& r, index_t by = 1) {
  const index_t at = by * r.sy;
  Row n{r.src + at, r.dst + at, r.sy, r.sz, {}, nullptr};
  if constexpr (S::conservative) n.f = moved(r.f, at);
  if constexpr (S::heat == Heating::field) n.q = r.q + at;
  return n;
}

/// Scalar row: the reference order, one cell at a time.
template <class S>
inline void row_scalar(const Weights<double>& w, double dq, const Row& r, index_t i0, index_t i1) {
  for (index_t i = i0; i < i1; ++i) {
    FacePointers f;
    const double* q = nullptr;
    if constexpr (S::conservative) f = moved(r.f, i);
    if constexpr (S::heat == Heating::field) q = r.q + i;
    r.dst[i] = cell_update<S::dim, S::form, S::heat>(w, r.src + i, r.sy, r.sz, dq, f, q);
  }
}

/// Adds the volumetric term to an output vector at cell `at`, as cell_update does.
template <class S>
inline vec add_heat(vec v, vec dq, const Row& r, index_t at) {
  if constexpr (S::heat == Heating::uniform) return v + dq;
  if constexpr (S::heat == Heating::field) return v + load(r.q + at);
  return v;
}

/// Stores an output vector at cell `at` of row r.
template <bool Stream>
inline void put(const Row& r, index_t at, vec v) {
  if constexpr (Stream)
    stream(r.dst + at, v);
  else
    store(r.dst + at, v);
}

/// One output vector at cells [at, at + kLanes) of row r, from its x- and y-neighbours (the
/// z-neighbours are loaded here): combine() in the reference's order, then the volumetric term.
template <class S, bool Stream>
inline void put_vec(const Weights<vec>& w, vec dq, const Row& r, index_t at, vec xm, vec x, vec xp,
                    vec ym, vec yp) {
  const double* u = r.src + at;
  const vec zm = S::dim >= 3 ? load(u - r.sz) : vec{}, zp = S::dim >= 3 ? load(u + r.sz) : vec{};
  put<Stream>(r, at,
              add_heat<S>(combine<S::dim, S::form>(w, x, xm, xp, ym, yp, zm, zp), dq, r, at));
}

/// The first index from i0 (at most i1) whose output address is vector-aligned.
inline index_t aligned_from(const double* dst, index_t i0, index_t i1) {
  const auto misalign = reinterpret_cast<std::uintptr_t>(dst + i0) % sizeof(vec);
  const index_t peel =
      misalign ? static_cast<index_t>((sizeof(vec) - misalign) / sizeof(double)) : 0;
  return i0 + peel < i1 ? i0 + peel : i1;
}

/// The conservative (variable alpha) vectors of rows j .. j + N - 1 (same z; N = 1 or 2) over
/// [i, i1), i aligned as the caller chose: cell_update's operations on kLanes cells at a time,
/// the face alphas loaded from their fields. Returns where the vectors stopped. Two rows share
/// what lies between them: each one's centre is the other's y-neighbour, and the face alpha
/// between them is loaded once (5.5 loads a vector in 2D instead of 7).
template <class S, int N, bool Stream>
inline index_t rows_vectors_conservative(const Weights<vec>& wv, double dq, Row r, index_t i,
                                         index_t i1) {
  static_assert(N == 1 || (N == 2 && S::dim >= 2), "one row, or two with a y axis");
  const vec dqv = vec{} + dq;
  const Weights<vec> w = wv;  // in registers (see row_simd)
  const index_t sy = r.sy, sz = r.sz;
  if (i + kLanes > i1) return i;
  // The x-neighbours come by lane shifts from the vectors before and after, as in row_simd:
  // the same values, fewer loads.
  vec xm[N], x[N];
  for (int q = 0; q < N; ++q) {
    xm[q] = load(r.src + q * sy + i - 1);
    x[q] = load(r.src + q * sy + i);
  }
  for (; i + kLanes <= i1; i += kLanes) {
    const bool more = i + 2 * kLanes <= i1;
    vec next[N], yb[N];
    for (int q = 0; q < N; ++q) {
      next[q] = more ? load(r.src + q * sy + i + kLanes) : vec{};
      yb[q] = S::dim >= 2 ? load(r.f.k[1] + q * sy + i) : vec{};
    }
    const vec ya0 = S::dim >= 2 ? load(r.f.k[1] + i - sy) : vec{};
    const vec ym0 = S::dim >= 2 ? load(r.src + i - sy) : vec{};
    const vec ypn = S::dim >= 2 ? load(r.src + N * sy + i) : vec{};
    for (int q = 0; q < N; ++q) {
      const Row rq = next_row<S>(r, q);
      const double* u = rq.src + i;
      const vec xp = more ? lanes_from<1>(x[q], next[q]) : load(u + 1);
      const vec xa = load(rq.f.k[0] + i - 1), xb = load(rq.f.k[0] + i);
      const vec ya = q == 0 ? ya0 : yb[q - 1];
      const vec ym = q == 0 ? ym0 : x[q - 1], yp = q == N - 1 ? ypn : x[q + 1];
      vec za{}, zb{}, zm{}, zp{};
      if constexpr (S::dim >= 3) {
        za = load(rq.f.k[2] + i - sz);
        zb = load(rq.f.k[2] + i);
        zm = load(u - sz);
        zp = load(u + sz);
      }
      const vec v = combine_conservative<S::dim>(w, x[q], xm[q], xp, ym, yp, zm, zp, xa, xb, ya,
                                                 yb[q], za, zb);
      put<Stream>(rq, i, add_heat<S>(v, dqv, rq, i));
    }
    for (int q = 0; q < N; ++q) {
      xm[q] = lanes_from<kLanes - 1>(x[q], next[q]);
      x[q] = next[q];
    }
  }
  return i;
}

/// Vector row: kLanes cells at a time with the same operations; cells after the last full vector,
/// and with Align (always when streaming) those before the first aligned output address, go
/// through the scalar path. Align pays where i0 is not a multiple of kLanes: a store that spans
/// two cache lines costs two.
template <class S, bool Stream, bool Align = Stream>
inline void row_simd(const Weights<double>& w, const Weights<vec>& wv, double dq, Row r, index_t i0,
                     index_t i1) {
  index_t i = i0;
  if constexpr (Stream || Align) {
    i = aligned_from(r.dst, i0, i1);
    row_scalar<S>(w, dq, r, i0, i);
  }
  if constexpr (S::conservative) {
    row_scalar<S>(w, dq, r, rows_vectors_conservative<S, 1, Stream>(wv, dq, r, i, i1), i1);
    return;
  }
  const vec dqv = vec{} + dq;
  const index_t sy = r.sy;
  // A local copy the compiler can keep in registers: through the reference it reloads the
  // weights after every store, two more loads per vector on a loop bound by its loads.
  const Weights<vec> wl = wv;
  auto put = [&](index_t at, vec xm, vec x, vec xp) {
    const double* u = r.src + at;
    put_vec<S, Stream>(wl, dqv, r, at, xm, x, xp, S::dim >= 2 ? load(u - sy) : vec{},
                       S::dim >= 2 ? load(u + sy) : vec{});
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

/// How far ahead (in cells) a sweep from memory prefetches the rows it reads for the first time:
/// far enough to cover the memory latency at a sweep's rate, near enough that the lines are
/// still cached when read (docs/benchmarks.md, "Out-of-cache sweeps prefetch": 512 was best or
/// within 5% of 64 to 1536 cells at 1 and 2 threads).
inline constexpr index_t kPrefetchAhead = 512;

/// Asks for the cache line of p[at] (a hint: a prefetch never faults, and the address is formed
/// as an integer, since near the end of a field it may lie past the allocation).
inline void prefetch(const double* p, index_t at) {
  const auto addr =
      reinterpret_cast<std::uintptr_t>(p) + static_cast<std::uintptr_t>(at) * sizeof(double);
  __builtin_prefetch(reinterpret_cast<const void*>(addr), 0, 3);
}

/// Rows j and j + 1 (same z) of a 2D or 3D field at once, `r` being row j: each row's centre is
/// the other's y-neighbour, so 2 loads per vector in 2D instead of 3, and two rows stream from
/// memory side by side. Fields pad their rows to whole cache lines, so both rows have the same
/// alignment and both can take streaming stores. With Prefetch (a sweep from memory), the rows
/// read for the first time (y + 1 in 2D, z + 1 in 3D) are prefetched kPrefetchAhead cells ahead:
/// with the arithmetic in between, the hardware prefetcher alone kept too few lines in flight.
/// The conservative forms share the face alpha between the rows too (rows_vectors_conservative;
/// variable alpha in the L2 1.11-1.13x as fast as row by row, from memory 1.2x; no prefetch).
template <class S, bool Stream, bool Align = Stream, bool Prefetch = false>
inline void rows2_simd(const Weights<double>& w, const Weights<vec>& wv, double dq, Row r,
                       index_t i0, index_t i1) {
  static_assert(S::dim >= 2, "two rows need a y axis");
  const index_t sy = r.sy;
  const Row r1 = next_row<S>(r);
  index_t i = i0;
  if constexpr (Stream || Align) {
    i = aligned_from(r.dst, i0, i1);
    row_scalar<S>(w, dq, r, i0, i);
    row_scalar<S>(w, dq, r1, i0, i);
  }
  if constexpr (S::conservative) {
    i = rows_vectors_conservative<S, 2, Stream>(wv, dq, r, i, i1);
    row_scalar<S>(w, dq, r, i, i1);
    row_scalar<S>(w, dq, r1, i, i1);
    return;
  }
  const vec dqv = vec{} + dq;
  const Weights<vec> wl = wv;  // in registers (see row_simd)
  if (i + kLanes <= i1) {
    vec xm0 = load(r.src + i - 1), x0 = load(r.src + i);
    vec xm1 = load(r1.src + i - 1), x1 = load(r1.src + i);
    for (; i + 2 * kLanes <= i1; i += kLanes) {
      if constexpr (Prefetch) {
        const index_t lead = (S::dim >= 3 ? r.sz : sy) + i + kPrefetchAhead;
        prefetch(r.src, lead);
        prefetch(r1.src, lead);
      }
      const vec n0 = load(r.src + i + kLanes), n1 = load(r1.src + i + kLanes);
      put_vec<S, Stream>(wl, dqv, r, i, xm0, x0, lanes_from<1>(x0, n0), load(r.src + i - sy), x1);
      put_vec<S, Stream>(wl, dqv, r1, i, xm1, x1, lanes_from<1>(x1, n1), x0, load(r1.src + i + sy));
      xm0 = lanes_from<kLanes - 1>(x0, n0);
      x0 = n0;
      xm1 = lanes_from<kLanes - 1>(x1, n1);
      x1 = n1;
    }
    put_vec<S, Stream>(wl, dqv, r, i, xm0, x0, load(r.src + i + 1), load(r.src + i - sy), x1);
    put_vec<S, Stream>(wl, dqv, r1, i, xm1, x1, load(r1.src + i + 1), x0, load(r1.src + i + sy));
    i += kLanes;
  }
  row_scalar<S>(w, dq, r, i, i1);
  row_scalar<S>(w, dq, r1, i, i1);
}

/// Rows j .. j + N - 1 (N > 2; same z) at once, as rows2_simd does two: N + 2 loads of centres
/// per N vectors in 2D (1.5 a vector for four rows, 2 for two). The left neighbours come by an
/// (unaligned) load, not by a lane shift: four rows with the shift ran 0.9x as fast on fields in
/// the L1 or the L2 of the AMD EPYC VM (its floating-point pipes, which also do the shifts, were
/// the limit), with the load 1.05x. The rows are made where they are used (next_row): kept in an
/// array they went through the stack on every call. Two rows go to rows2_simd (rows_simd), whose
/// shifts were faster there, and whose rows in 3D (64 cells at 64^3) ran 1.17x as fast as this
/// loop's.
template <class S, int N, bool Stream, bool Align, bool Prefetch>
inline void rows_many_simd(const Weights<double>& w, const Weights<vec>& wv, double dq, Row r,
                           index_t i0, index_t i1) {
  static_assert(S::dim >= 2 && N > 2, "more than two rows need a y axis");
  if constexpr (S::conservative) {
    for (int q = 0; q < N; ++q)
      row_simd<S, Stream, Align>(w, wv, dq, next_row<S>(r, q), i0, i1);
    return;
  }
  index_t i = i0;
  if constexpr (Stream || Align) {
    i = aligned_from(r.dst, i0, i1);
    for (int q = 0; q < N; ++q)
      row_scalar<S>(w, dq, next_row<S>(r, q), i0, i);
  }
  const index_t sy = r.sy;
  const vec dqv = vec{} + dq;
  const Weights<vec> wl = wv;  // in registers (see row_simd)
  if (i + kLanes <= i1) {
    vec x[N], next[N];
    for (int q = 0; q < N; ++q)
      x[q] = load(r.src + q * sy + i);
    for (; i + 2 * kLanes <= i1; i += kLanes) {
      if constexpr (Prefetch) {
        const index_t lead = (S::dim >= 3 ? r.sz : sy) + i + kPrefetchAhead;
        for (int q = 0; q < N; ++q)
          prefetch(r.src + q * sy, lead);
      }
      for (int q = 0; q < N; ++q)
        next[q] = load(r.src + q * sy + i + kLanes);
      const vec ym = load(r.src + i - sy), yp = load(r.src + i + N * sy);
      for (int q = 0; q < N; ++q) {
        const vec xm = load(r.src + q * sy + i - 1);
        put_vec<S, Stream>(wl, dqv, next_row<S>(r, q), i, xm, x[q], lanes_from<1>(x[q], next[q]),
                           q == 0 ? ym : x[q - 1], q == N - 1 ? yp : x[q + 1]);
      }
      for (int q = 0; q < N; ++q)
        x[q] = next[q];
    }
    // The last full vector: no loads past the row.
    const vec ym = load(r.src + i - sy), yp = load(r.src + i + N * sy);
    for (int q = 0; q < N; ++q) {
      const vec xm = load(r.src + q * sy + i - 1);
      put_vec<S, Stream>(wl, dqv, next_row<S>(r, q), i, xm, x[q], load(r.src + q * sy + i + 1),
                         q == 0 ? ym : x[q - 1], q == N - 1 ? yp : x[q + 1]);
    }
    i += kLanes;
  }
  for (int q = 0; q < N; ++q)
    row_scalar<S>(w, dq, next_row<S>(r, q), i, i1);
}

/// Rows j .. j + N - 1 at once, `r` being row j: rows2_simd for two, rows_many_simd for more.
template <class S, int N, bool Stream, bool Align = Stream, bool Prefetch = false>
inline void rows_simd(const Weights<double>& w, const Weights<vec>& wv, double dq, Row r,
                      index_t i0, index_t i1) {
  if constexpr (N == 2)
    rows2_simd<S, Stream, Align, Prefetch>(w, wv, dq, r, i0, i1);
  else
    rows_many_simd<S, N, Stream, Align, Prefetch>(w, wv, dq, r, i0, i1);
}

/// Where a 2D step in place (rows_in_place) finds what it has overwritten: the row above its
/// rows at the step before, and the cells left of its first column.
struct InPlaceRows {
  double* u;                  ///< cell (0, j) of the field: rows j .. j + N - 1 are updated
  index_t sy;                 ///< the field's row stride
  double* above;              ///< cell 0 of row j - 1 at the step before; gets row j + N - 1's
  const double* edge_in;      ///< N cells left of column i0 at the step before (null: in u)
  double* edge_out;           ///< gets the N cells of column i1 - 1 at the step before (or null)
  const double* q = nullptr;  ///< cell (0, j) of the scheme's heat field, if it has one
  FacePointers f;             ///< cell (0, j) of the face-alpha fields (conservative forms)
};

/// Room for kept rows laid out as a field's (InPlaceRows::above): `store` resized to `doubles`
/// and a line more, and the address in it of cell 0 of the first row, `origin` (the field's
/// origin(0)) past a 64-byte line, so that the kept rows' vectors align as the field's do.
inline double* kept_rows(std::vector<double>& store, std::size_t doubles, index_t origin) {
  constexpr std::size_t line = 64;
  store.resize(doubles + line / sizeof(double));
  const auto misalign = reinterpret_cast<std::uintptr_t>(store.data()) % line;
  return store.data() + (misalign ? (line - misalign) / sizeof(double) : 0) + origin;
}

/// A double, or a vector of them, at p.
template <class T>
inline T value_at(const double* p) {
  if constexpr (std::is_same_v<T, double>)
    return *p;
  else
    return load(p);
}

/// Row q's new value at cell i (T = double), or at the vector of cells from i (T = vec), of a
/// step in place (rows_in_place): from its value x and its neighbours, in cell_update's order,
/// with the face alphas of the conservative forms, then its heat (`dq`, or the heat field's).
template <class S, class T>
inline T in_place_value(const Weights<T>& w, const InPlaceRows& r, int q, index_t i, T x, T xl,
                        T xh, T yl, T yh, T dq) {
  T v;
  if constexpr (S::conservative) {
    const double* fx = r.f.k[0] + q * r.sy + i;
    const double* fy = r.f.k[1] + q * r.sy + i;
    v = combine_conservative<2>(w, x, xl, xh, yl, yh, T{}, T{}, value_at<T>(fx - 1),
                                value_at<T>(fx), value_at<T>(fy - r.sy), value_at<T>(fy), T{}, T{});
  } else {
    v = combine<2, S::form>(w, x, xl, xh, yl, yh, T{}, T{});
  }
  if constexpr (S::heat == Heating::uniform) v = v + dq;
  if constexpr (S::heat == Heating::field) v = v + value_at<T>(r.q + q * r.sy + i);
  return v;
}

/// Rows j .. j + N - 1 of a 2D field stepped in place over cells [i0, i1): the same operations on
/// the same inputs as rows_simd (so the same bits), but the output overwrites the input. Each
/// column's N centres are loaded before any of them is stored, the left neighbours are loaded one
/// column ahead (cells i + kLanes - 1 onwards, before column i's stores reach i + kLanes - 1) or
/// carried as the cell's old value, the row above comes from r.above, and the old values of the
/// last row go there for the rows below. Row j + N and the cells right of each column are still
/// the step before's when read. Loading the left neighbours rather than shifting them, as
/// rows_many_simd does, leaves one lane shift a vector on the floating-point pipes: the case
/// study ran 1.12x as fast at one thread and at two (docs/benchmarks.md, "Left neighbours by
/// load in place"). A strip of the tiled backend in place moves
/// each cell once through the cache per step where two fields move it twice (the write lands
/// on the line just read instead of one of the other field): on the AMD EPYC VM a wavefront of
/// 1600 columns 35 steps deep ran 1.15x as fast, and the case study 1.1x (docs/benchmarks.md).
template <class S, int N>
inline void rows_in_place(const Weights<double>& w, const Weights<vec>& wv, double dq,
                          InPlaceRows r, index_t i0, index_t i1) {
  static_assert(S::dim == 2, "in place: 2D");
  double* const u = r.u;
  const index_t sy = r.sy;
  double xm[N];  // each row's cell left of the next column, at the step before
  for (int q = 0; q < N; ++q)
    xm[q] = r.edge_in != nullptr ? r.edge_in[q] : u[q * sy + i0 - 1];
  const vec dqv = vec{} + dq;
  const Weights<vec> wl = wv;     // in registers (see row_simd)
  auto column = [&](index_t i) {  // one column, cell by cell
    double c[N];
    for (int q = 0; q < N; ++q)
      c[q] = u[q * sy + i];
    const double ym = r.above[i], yp = u[N * sy + i];
    r.above[i] = c[N - 1];
    for (int q = 0; q < N; ++q) {
      u[q * sy + i] = in_place_value<S>(w, r, q, i, c[q], xm[q], u[q * sy + i + 1],
                                        q == 0 ? ym : c[q - 1], q == N - 1 ? yp : c[q + 1], dq);
      xm[q] = c[q];
    }
  };
  index_t i = i0;
  for (const index_t ia = aligned_from(u, i0, i1); i < ia; ++i)
    column(i);
  if (i + kLanes <= i1) {
    vec x[N], xmv[N];
    for (int q = 0; q < N; ++q) {
      x[q] = load(u + q * sy + i);
      xmv[q] = lanes_from<kLanes - 1>(vec{} + xm[q], x[q]);
    }
    for (; i + 2 * kLanes <= i1; i += kLanes) {
      vec next[N], next_xm[N];
      for (int q = 0; q < N; ++q) {
        next[q] = load(u + q * sy + i + kLanes);
        next_xm[q] = load(u + q * sy + i + kLanes - 1);
      }
      const vec ym = load(r.above + i), yp = load(u + N * sy + i);
      store(r.above + i, x[N - 1]);
      for (int q = 0; q < N; ++q)
        store(u + q * sy + i,
              in_place_value<S>(wl, r, q, i, x[q], xmv[q], lanes_from<1>(x[q], next[q]),
                                q == 0 ? ym : x[q - 1], q == N - 1 ? yp : x[q + 1], dqv));
      for (int q = 0; q < N; ++q) {
        x[q] = next[q];
        xmv[q] = next_xm[q];
      }
    }
    // The last full vector: its right neighbours by a load (nothing past it is stored yet).
    const vec ym = load(r.above + i), yp = load(u + N * sy + i);
    store(r.above + i, x[N - 1]);
    for (int q = 0; q < N; ++q) {
      const vec xp = load(u + q * sy + i + 1);
      store(u + q * sy + i, in_place_value<S>(wl, r, q, i, x[q], xmv[q], xp, q == 0 ? ym : x[q - 1],
                                              q == N - 1 ? yp : x[q + 1], dqv));
      xm[q] = x[q][kLanes - 1];
    }
    i += kLanes;
  }
  for (; i < i1; ++i)
    column(i);
  if (r.edge_out != nullptr)
    for (int q = 0; q < N; ++q)
      r.edge_out[q] = xm[q];
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
