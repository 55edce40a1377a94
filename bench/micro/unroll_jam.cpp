// Unroll-and-jam of the case-study update (issue 20): the factored 5-point step on R rows at
// once, R = 1, 2, 4, 8, for one core on a grid whose two fields fit in the L2 cache. Each R does
// the same operations per cell in the same order as the others (checked bit for bit); only the
// loads differ: a column of R rows needs R + 2 row loads per vector instead of 3R. This is the
// kernel alone, without a backend around it, to show what the loop itself can reach.
//   build/bin/calor_unroll_jam [n] [sweeps]   (pin it: taskset -c 0)
// With `3d` first, the same for the factored 7-point update on an nx x m x m grid: R y-rows by
// Q z-planes at once (R x Q = 1 x 1, 2 x 1 as the backends do, 2 x 2, 4 x 2), sharing the
// y- and z-neighbours between them: 4 loads per vector at 2 x 1, 3 at 2 x 2 (issue 20, item 3).
//   build/bin/calor_unroll_jam 3d [nx] [m] [sweeps]

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace {

constexpr int kLanes = 8;
using vec = double __attribute__((vector_size(kLanes * sizeof(double))));

vec load(const double* p) {
  vec v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void store(double* p, vec v) {
  std::memcpy(p, &v, sizeof v);
}

template <int First, std::size_t... I>
vec window(vec a, vec b, std::index_sequence<I...>) {
  return __builtin_shufflevector(a, b, (First + static_cast<int>(I))...);
}

template <int First>
vec lanes_from(vec a, vec b) {
  return window<First>(a, b, std::make_index_sequence<kLanes>{});
}

// The case study's 0.5 * (u + 0.25 * (xm + xp + ym + yp)), summed left to right.
vec update(vec c0, vec c1, vec u, vec xm, vec xp, vec ym, vec yp) {
  vec s = xm + xp;
  s = s + ym;
  s = s + yp;
  return c0 * (u + c1 * s);
}

// Rows 0..R-1 from `in` (row stride sy) into `out`, cells [0, nx), nx a multiple of kLanes.
template <int R>
void rows(const double* in, double* out, long sy, long nx, vec c0, vec c1) {
  vec xm[R], x[R];
  for (int r = 0; r < R; ++r) {
    xm[r] = load(in + r * sy - 1);
    x[r] = load(in + r * sy);
  }
  for (long i = 0; i < nx; i += kLanes) {
    vec next[R];
    for (int r = 0; r < R; ++r)
      next[r] = load(in + r * sy + i + kLanes);
    const vec below = load(in - sy + i), above = load(in + R * sy + i);
    for (int r = 0; r < R; ++r)
      store(out + r * sy + i, update(c0, c1, x[r], xm[r], lanes_from<1>(x[r], next[r]),
                                     r == 0 ? below : x[r - 1], r == R - 1 ? above : x[r + 1]));
    for (int r = 0; r < R; ++r) {
      xm[r] = lanes_from<kLanes - 1>(x[r], next[r]);
      x[r] = next[r];
    }
  }
}

// The factored 7-point update, summed x, y, z as the backends do.
vec update3(vec c0, vec c1, vec u, vec xm, vec xp, vec ym, vec yp, vec zm, vec zp) {
  vec s = xm + xp;
  s = s + ym;
  s = s + yp;
  s = s + zm;
  s = s + zp;
  return c0 * (u + c1 * s);
}

// R y-rows by Q z-planes from `in` into `out` (strides sy, sz), cells [0, nx).
template <int R, int Q>
void block3(const double* in, double* out, long sy, long sz, long nx, vec c0, vec c1) {
  vec xm[Q][R], x[Q][R];
  for (int q = 0; q < Q; ++q)
    for (int r = 0; r < R; ++r) {
      xm[q][r] = load(in + q * sz + r * sy - 1);
      x[q][r] = load(in + q * sz + r * sy);
    }
  for (long i = 0; i < nx; i += kLanes) {
    vec next[Q][R], c[Q + 2][R + 2];  // c: the centres with the rows and planes around them
    for (int q = 0; q < Q; ++q) {
      for (int r = 0; r < R; ++r) {
        next[q][r] = load(in + q * sz + r * sy + i + kLanes);
        c[q + 1][r + 1] = x[q][r];
      }
      c[q + 1][0] = load(in + q * sz - sy + i);
      c[q + 1][R + 1] = load(in + q * sz + R * sy + i);
    }
    for (int r = 0; r < R; ++r) {
      c[0][r + 1] = load(in - sz + r * sy + i);
      c[Q + 1][r + 1] = load(in + Q * sz + r * sy + i);
    }
    for (int q = 0; q < Q; ++q)
      for (int r = 0; r < R; ++r) {
        store(out + q * sz + r * sy + i,
              update3(c0, c1, x[q][r], xm[q][r], lanes_from<1>(x[q][r], next[q][r]), c[q + 1][r],
                      c[q + 1][r + 2], c[q][r + 1], c[q + 2][r + 1]));
        xm[q][r] = lanes_from<kLanes - 1>(x[q][r], next[q][r]);
        x[q][r] = next[q][r];
      }
  }
}

struct Grid {
  long n, sy, off;
};

struct Grid3 {
  long nx, m, sy, sz, off;
};

template <int R, int Q>
double sweep3_seconds(std::vector<double>& a, std::vector<double>& b, const Grid3& g, int sweeps) {
  const vec c0 = vec{} + 0.5, c1 = vec{} + 1.0 / 6.0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int s = 0; s < sweeps; ++s) {
    for (long k = 0; k < g.m; k += Q)
      for (long j = 0; j < g.m; j += R) {
        const long at = g.off + j * g.sy + k * g.sz;
        block3<R, Q>(a.data() + at, b.data() + at, g.sy, g.sz, g.nx, c0, c1);
      }
    std::swap(a, b);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The 3D experiment: each R x Q, best of 6 interleaved, the bits checked against 1 x 1's.
int main_3d(long nx, long m, int sweeps) {
  const Grid3 g{nx, m, nx + 16, (nx + 16) * (m + 2), 8 + (nx + 16) + (nx + 16) * (m + 2)};
  std::vector<double> init(static_cast<std::size_t>(g.sz * (m + 2) + 64), 0.0);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (long k = 0; k < m; ++k)
    for (long j = 0; j < m; ++j)
      for (long i = 0; i < nx; ++i)
        init[static_cast<std::size_t>(g.off + j * g.sy + k * g.sz + i)] = u(rng);
  const double cells = static_cast<double>(nx * m * m);
  std::printf(
      "unroll-and-jam of the 7-point update, %ld x %ld^2 (%.0f KB in two fields), %d sweeps, "
      "1 thread, random field; best of 6, interleaved:\n",
      nx, m, 16e-3 * cells, sweeps);
  using Fn = double (*)(std::vector<double>&, std::vector<double>&, const Grid3&, int);
  const std::pair<const char*, Fn> variants[] = {{"1 x 1", sweep3_seconds<1, 1>},
                                                 {"2 x 1", sweep3_seconds<2, 1>},
                                                 {"2 x 2", sweep3_seconds<2, 2>},
                                                 {"4 x 2", sweep3_seconds<4, 2>}};
  std::vector<double> reference;
  double best[4] = {};
  for (int rep = 0; rep < 6; ++rep)
    for (int v = 0; v < 4; ++v) {
      std::vector<double> a = init, b = init;
      const double t = variants[v].second(a, b, g, sweeps);
      if (reference.empty()) reference = a;
      if (std::memcmp(reference.data(), a.data(), a.size() * sizeof(double)) != 0) {
        std::printf("%s: the bits differ from 1 x 1's\n", variants[v].first);
        return 1;
      }
      best[v] = std::max(best[v], cells * sweeps / t / 1e6);
    }
  for (int v = 0; v < 4; ++v)
    std::printf("  %s (y-rows x z-planes): %8.1f MLUP/s\n", variants[v].first, best[v]);
  return 0;
}

template <int R>
double sweep_seconds(std::vector<double>& a, std::vector<double>& b, const Grid& g, int sweeps) {
  const vec c0 = vec{} + 0.5, c1 = vec{} + 0.25;
  const auto t0 = std::chrono::steady_clock::now();
  for (int s = 0; s < sweeps; ++s) {
    for (long j = 0; j < g.n; j += R)
      rows<R>(a.data() + g.off + j * g.sy, b.data() + g.off + j * g.sy, g.sy, g.n, c0, c1);
    std::swap(a, b);
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double seconds_for(int r, std::vector<double>& a, std::vector<double>& b, const Grid& g,
                   int sweeps) {
  switch (r) {
    case 1:
      return sweep_seconds<1>(a, b, g, sweeps);
    case 2:
      return sweep_seconds<2>(a, b, g, sweeps);
    case 4:
      return sweep_seconds<4>(a, b, g, sweeps);
    default:
      return sweep_seconds<8>(a, b, g, sweeps);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "3d") {
    // 128 x 16^2: two fields of 750 KB with their halos, in a 1 MiB L2; m a multiple of 4.
    const long nx = argc > 2 ? std::atol(argv[2]) / 8 * 8 : 128;
    const long m = argc > 3 ? std::atol(argv[3]) / 4 * 4 : 16;
    const int sweeps = argc > 4 ? std::atoi(argv[4]) : 8000;
    if (nx < 8 || m < 4 || sweeps < 1) {
      std::fprintf(stderr, "usage: calor_unroll_jam 3d [nx >= 8] [m >= 4] [sweeps >= 1]\n");
      return 2;
    }
    return main_3d(nx, m, sweeps);
  }
  // 176^2: two fields of 248 KB, in a 1 MiB L2 with room to spare; a multiple of 8 rows.
  const long n = argc > 1 ? std::atol(argv[1]) / 8 * 8 : 176;
  const int sweeps = argc > 2 ? std::atoi(argv[2]) : 20000;
  if (n < 8 || sweeps < 1) {
    std::fprintf(stderr, "usage: calor_unroll_jam [n >= 8] [sweeps >= 1]\n");
    return 2;
  }
  // x padded by 8 in front (halo 1 at -1) and 16 behind, one halo row above and below, all 0.
  const Grid g{n, n + 16, (n + 16) + 8};
  std::vector<double> init(static_cast<std::size_t>(g.sy * (n + 2) + 64), 0.0);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (long j = 0; j < n; ++j)
    for (long i = 0; i < n; ++i)
      init[static_cast<std::size_t>(g.off + j * g.sy + i)] = u(rng);
  std::printf(
      "unroll-and-jam of the case-study update, %ld^2 (%.0f KB in two fields), %d sweeps, "
      "1 thread, random field; best of 6, interleaved:\n",
      n, 16.0 * static_cast<double>(n * n) / 1e3, sweeps);
  std::vector<double> reference;
  double best[9] = {};
  for (int rep = 0; rep < 6; ++rep)
    for (int r : {1, 2, 4, 8}) {
      std::vector<double> a = init, b = init;
      const double t = seconds_for(r, a, b, g, sweeps);
      if (reference.empty()) reference = a;
      if (std::memcmp(reference.data(), a.data(), a.size() * sizeof(double)) != 0) {
        std::printf("rows %d: the bits differ from one row's\n", r);
        return 1;
      }
      best[r] = std::max(best[r], static_cast<double>(n * n) * sweeps / t / 1e6);
    }
  for (int r : {1, 2, 4, 8})
    std::printf("  %d row%s at once: %8.1f MLUP/s  %6.1f GB/s (16 B per update, from L2)\n", r,
                r == 1 ? " " : "s", best[r], best[r] * 16 / 1e3);
  return 0;
}
