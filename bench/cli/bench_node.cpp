// `calor bench node`: every backend against this machine's measured memory bandwidth.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "backends/rows.hpp"
#include "backends/sweep_probe.hpp"
#include "bandwidth.hpp"
#include "bench.hpp"
#include "calor/backend.hpp"
#include "calor/config.hpp"
#include "calor/error.hpp"
#include "calor/machine.hpp"
#include "calor/solver.hpp"
#include "json.hpp"

namespace calor::bench {

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

struct Timing {
  double seconds = 0;  // best repetition
  double spread = 0;   // (worst - best) / best
  std::int64_t steps = 0;
  index_t cells = 0;
  std::string backend;
  double copy_gbs = 0;  // best copy bandwidth timed between the repetitions (0: none)
  [[nodiscard]] double mlups() const {
    return static_cast<double>(cells) * static_cast<double>(steps) / seconds / 1e6;
  }
  int bytes = kBytesPerUpdate;  // the least a cell update moves: 24 B with an alpha field
  [[nodiscard]] double gbs() const { return mlups() * bytes / 1e3; }
};

// The variable-alpha problem of the bench: the case study's grid with a box of half the
// diffusivity in its middle, in the conservative form (each update reads u, alpha and writes u).
std::vector<Override> variable_alpha(index_t n) {
  const std::string lo = std::to_string(n / 4) + ".0", hi = std::to_string(3 * n / 4) + ".0";
  return {{"form", "\"expanded\"", "bench"},
          {"diffusivity",
           "{type = \"box\", lo = [" + lo + ", " + lo + "], hi = [" + hi + ", " + hi +
               "], inside = 0.5}",
           "bench"}};
}

// The kernel alone, as a backend: each step is the row kernels over the interior
// (detail::sweep_rows, stores kept in cache), without the halo refill, sources and checks of the
// simd backend around them. What the in-core ceilings are timed with: a 3D grid in half the L2
// has about a third as many halo cells as interior ones, and the simd backend, refilling them
// every step, ran at 0.7 of its kernel there (docs/benchmarks.md, "Each kernel alone").
// In place (2D, the non-conservative forms), each step is the tiled strips' kernel instead,
// detail::rows_in_place, four rows at a time over whole rows, on the one field.
class KernelAlone final : public Backend {
 public:
  explicit KernelAlone(bool in_place = false) : in_place_(in_place) {}
  [[nodiscard]] std::string_view name() const override { return "kernel alone"; }
  void advance(const Scheme& scheme, Halo& /*halo*/, Field& cur, Field& next,
               std::int64_t steps) override {
    const index_t rows = detail::row_count(cur.grid());
    for (std::int64_t s = 0; s < steps; ++s) {
      if (in_place_) {
        step_in_place(scheme, cur);
        continue;
      }
      detail::sweep_rows(scheme, cur, next, 0, rows, false);
      std::swap(cur, next);
    }
  }

 private:
  // One step of `u` in place: row j - 1's old values, for the rows below, kept in above_ (its
  // cell 0 aligned as u's, as the tiled backend's saved rows are).
  void step_in_place(const Scheme& scheme, Field& u) {
    const Grid& g = u.grid();
    double* above = detail::kept_rows(above_, static_cast<std::size_t>(u.stride_y()), u.origin(0));
    std::copy(u.raw() + u.offset(0, -1), u.raw() + u.offset(g.n[0], -1), above);
    detail::dispatch(scheme, [&](auto shape) {
      using S = decltype(shape);
      if constexpr (S::dim == 2 && !S::conservative && S::heat != Heating::field) {
        const auto w = Weights<double>::from(scheme.coeffs);
        const auto wv = Weights<detail::vec>::from(scheme.coeffs);
        auto rows = [&]<int N>(index_t j) {
          const detail::InPlaceRows r{
              u.raw() + u.offset(0, j), u.stride_y(), above, nullptr, nullptr, nullptr, {}};
          detail::rows_in_place<S, N>(w, wv, scheme.dq, r, 0, g.n[0]);
        };
        index_t j = 0;
        for (; j + 3 < g.n[1]; j += 4)
          rows.template operator()<4>(j);
        for (; j < g.n[1]; ++j)
          rows.template operator()<1>(j);
      } else {
        throw Error(
            "bench node: the in-place kernel alone is the 2D non-conservative one without "
            "a heat field, not " +
            std::to_string(S::dim) + "D" + (S::conservative ? " conservative" : "") +
            (S::heat == Heating::field ? " with a heat field" : ""));
      }
    });
  }

  bool in_place_;
  std::vector<double> above_;
};

// One solver of the case-study stencil on an n x n grid holding random values (so no
// data-dependent shortcut can help). One solver serves every repetition, its field refilled each
// time: allocating and first touching the fields again took most of the benchmark's time where
// they are gigabytes.
class StencilRun {
 public:
  StencilRun(const std::string& backend, int threads, index_t n, bool variable = false)
      : StencilRun(backend, threads, settings(n, variable)) {}
  /// The stencil preset with `overrides` on top (another grid, dimension or kernel).
  StencilRun(const std::string& backend, int threads, const std::vector<Override>& overrides)
      : StencilRun(load_config("preset = \"stencil\"", "bench", overrides), [&](const Grid& g) {
          return select_backend(backend, BackendOptions{threads, 0}, g);
        }) {}
  /// The same with the kernel alone (KernelAlone, in place or not) stepping.
  StencilRun(const std::vector<Override>& overrides, bool in_place)
      : StencilRun(load_config("preset = \"stencil\"", "bench", overrides),
                   [&](const Grid&) { return std::make_unique<KernelAlone>(in_place); }) {}

  static std::vector<Override> settings(index_t n, bool variable) {
    std::vector<Override> o = {{"n", std::to_string(n), "bench"}, {"steps", "1", "bench"}};
    if (variable)
      for (Override& v : variable_alpha(n))
        o.push_back(v);
    return o;
  }

  /// Backend that runs ("auto" resolved).
  [[nodiscard]] std::string ran() const { return std::string(solver_.backend().name()); }
  /// The backend's plan for this grid (tiled: its blocks and strips), once it has run.
  [[nodiscard]] std::string plan() const { return solver_.backend().plan(); }
  /// Steps the backend takes per pass over memory (tiled: a block).
  [[nodiscard]] std::int64_t steps_per_pass() const { return solver_.steps_per_pass(); }

  /// Seconds for `steps` steps from a fresh random field.
  double seconds(std::int64_t steps) {
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for_each_cell(config_.problem.grid,
                  [&](index_t i, index_t j, index_t k) { solver_.field()(i, j, k) = u(rng); });
    const auto t0 = std::chrono::steady_clock::now();
    solver_.step(steps);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  /// Steps for about `target` s: at least 8 steps and one whole pass of the backend (a tiled
  /// block).
  std::int64_t calibrate(double target) {
    const double probe = seconds(4) / 4;
    const std::int64_t least = std::max<std::int64_t>(8, solver_.steps_per_pass());
    return std::clamp<std::int64_t>(static_cast<std::int64_t>(target / probe), least, 100000);
  }

  [[nodiscard]] Timing timing(std::int64_t steps, const std::vector<double>& samples) const {
    Timing t;
    t.cells = cells_;
    t.steps = steps;
    t.backend = ran();
    t.seconds = *std::min_element(samples.begin(), samples.end());
    t.spread = (*std::max_element(samples.begin(), samples.end()) - t.seconds) / t.seconds;
    t.bytes = bytes_per_update(config_.problem);
    return t;
  }

 private:
  template <class Make>
  StencilRun(Config config, const Make& make)
      : config_(std::move(config)),
        solver_(config_.problem, make(config_.problem.grid)),
        cells_(config_.problem.grid.cells()) {}

  Config config_;
  Solver solver_;
  index_t cells_;
};

// Times `steps` steps (0: calibrated to about `target` s), best of `reps`, with the copy
// bandwidth timed (best of 3) before each repetition, so that the ratio of the two compares
// runs of the same minutes.
Timing time_stencil(const std::string& backend, int threads, index_t n, std::int64_t steps,
                    int reps, CopyKernel& copy, double target = 1.5, bool variable = false) {
  StencilRun run(backend, threads, n, variable);
  if (steps == 0) steps = run.calibrate(target);
  std::vector<double> samples;
  double copy_gbs = 0;
  for (int r = 0; r < reps; ++r) {
    copy_gbs = std::max(copy_gbs, copy.measure(3).gbs);
    samples.push_back(run.seconds(steps));
  }
  Timing t = run.timing(steps, samples);
  t.copy_gbs = copy_gbs;
  return t;
}

struct Row {
  std::string label, backend;
  int threads;
  index_t n;
  Timing t;
  double roofline;    // (MLUP/s x 16 B) / copy bandwidth at the same thread count
  double incore = 0;  // MLUP/s / (the kernel's in-core ceiling per core x threads)
  int dim = 2;        // the grid is n^dim
};

// A kernel's in-core ceiling: the kernel alone (KernelAlone) on one core, on a grid whose fields
// fit in half the L2 cache, with enough steps to be steady; beside it the simd backend on the
// same grid (what the backend around the kernel costs); and what one update does, counted from
// the vector kernels' code in src/backends/rows.hpp (per vector of cells: loads and stores; per
// cell: flops), as there are no hardware counters on these VMs.
struct Kernel {
  std::string name;
  std::vector<Override> settings;  // on top of the stencil preset; "n" is set per machine
  int dim = 2;
  int fields = 2;  // arrays a step reads or writes (u, next, and face alphas)
  double loads = 0, stores = 1, flops = 0;
  bool variable = false;     // the variable-alpha problem of variable_alpha(n) on top
  bool in_place = false;     // stepped in place (the tiled strips' kernel), on fields as for two
  double mlups = 0;          // measured ceiling (the kernel alone), one core
  double backend_mlups = 0;  // the simd backend on the same grid, one core
  std::string grid{};        // the grid both ran on
};

// The kernel of the variable-alpha rows, or else the case study's: the faster of its two forms,
// with two fields (the first kernel) or in place (the tiled strips'), so that a row's fraction
// of it is the stricter one.
const Kernel& kernel_of(const std::vector<Kernel>& ks, bool variable) {
  const Kernel* best = &ks.front();
  for (const Kernel& k : ks) {
    if (variable && k.variable) return k;
    if (!variable && k.in_place && k.mlups > best->mlups) best = &k;
  }
  return *best;
}

// One grid of the auto sweep: each backend that auto may pick at this thread count (simd and
// tiled at one thread, threads and tiled at more), timed with interleaved repetitions; auto runs
// `picked`, and must be within 5% of the fastest.
struct SweepRow {
  int dim = 2;
  index_t n = 0;
  int threads = 1;
  std::string picked;
  std::vector<Timing> timings;  // one per candidate; Timing::backend names it
  [[nodiscard]] const Timing& best() const {
    return *std::min_element(timings.begin(), timings.end(), [](const Timing& a, const Timing& b) {
      return a.seconds < b.seconds;
    });
  }
  [[nodiscard]] const Timing& chosen() const {
    for (const Timing& t : timings)
      if (t.backend == picked) return t;
    return best();  // not reached: time_sweep_row times what auto picks
  }
  /// The fastest backend's time over auto's: 1 where auto picks it; at least 0.95 wanted.
  [[nodiscard]] double ratio() const { return best().seconds / chosen().seconds; }
  [[nodiscard]] double fields_mb() const { return 16e-6 * std::pow(static_cast<double>(n), dim); }
};

// Sizes from `lo` to `hi` (included), a factor of about sqrt(2) apart, multiples of 8.
std::vector<index_t> sweep_sizes(index_t lo, index_t hi) {
  std::vector<index_t> v;
  for (double n = static_cast<double>(lo); n < static_cast<double>(hi) / 1.2; n *= std::sqrt(2.0))
    v.push_back(static_cast<index_t>(std::lround(n / 8)) * 8);
  v.push_back(hi);
  return v;
}

// "8x LLC": how many last-level caches one field of an n x n grid fills, to one decimal below 2
// (about 8; a quarter of that with --quick, whose grid is half as wide, or less within its cap).
std::string out_of_cache_label(index_t n, std::size_t llc) {
  const double ratio = 8.0 * static_cast<double>(n * n) / static_cast<double>(llc);
  char label[32];  // "0.5x LLC" where the field is smaller than the cache (--quick on a large one)
  std::snprintf(label, sizeof label, ratio < 1.95 ? "%.1fx LLC" : "%.0fx LLC", ratio);
  return label;
}

std::string json_str(const std::string& s) {
  return "\"" + s + "\"";
}

// The machine, and the sizes and repetitions this run of `calor bench node` uses on it.
struct NodeSetup {
  int all = 1;  // threads at full width
  Caches cc;
  bool quick = false;
  int reps = 1;                    // repetitions of each timing
  std::vector<int> thread_counts;  // 1, and `all` when that is more
  index_t in_cache = 0;            // grid edge whose fields fit in the last-level cache
  index_t out_cache = 0;           // grid edge whose field fills about 8 last-level caches
  double array_cap = 0;            // the most bytes one array or field may take (memory_cap)
  double llc_speed = 1;            // llc_sweep_speed(), measured before any timing
};

// The most bytes one array of the run may take: a sixteenth of the machine's memory. At most
// about ten such arrays are alive at once (the four copy arrays beside a variable-alpha run's
// five fields, or beside the 3D section's two runs of two fields each), so the run stays within
// two thirds of memory, however large the last level the sizes start from. Where the memory is
// not known, 1 TB.
double memory_cap() {
  const auto m = static_cast<double>(physical_memory());
  return m > 0 ? m / 16.0 : 1e12;
}

// The largest edge n (a multiple of `multiple`, at least `multiple`) whose field of n^dim cells
// fits in `cap` bytes.
index_t edge_within(double cap, int dim, index_t n, index_t multiple) {
  const double most = std::pow(cap / 8.0, 1.0 / dim);
  const index_t edge = most < static_cast<double>(n) ? static_cast<index_t>(most) : n;
  return std::max(multiple, edge / multiple * multiple);
}

// The edge of a grid whose field fills 8 last-level caches, rounded up to a multiple of 64;
// --quick halves it (at least 1024), and keeps it at most 4096 (fields of 268 MB): on a 260 MiB
// L3 the half-width grid took 3 minutes of CI, where --quick is there to show that every row
// runs. Either way no field takes more than `cap` bytes (memory_cap).
index_t out_of_cache_edge(std::size_t llc, bool quick, double cap) {
  index_t n = static_cast<index_t>(std::ceil(std::sqrt(8.0 * static_cast<double>(llc) / 8.0)));
  n = (n + 63) / 64 * 64;
  if (quick) n = std::clamp<index_t>(n / 2, 1024, 4096);
  return edge_within(cap, 2, n, 64);
}

NodeSetup node_setup(const BenchOptions& o) {
  NodeSetup s;
  s.all = o.threads > 0 ? o.threads : default_threads();
  s.cc = caches();
  s.quick = o.quick;
  s.reps = o.quick ? 1 : 5;
  s.thread_counts = {1};
  if (s.all > 1) s.thread_counts.push_back(s.all);
  s.in_cache = o.quick ? 256 : 512;
  s.array_cap = memory_cap();
  s.out_cache = out_of_cache_edge(s.cc.llc, o.quick, s.array_cap);
  // Measured here, before any timing: measured lazily (10-20 ms), it fell inside the 4 steps the
  // in-cache tiled row calibrates its steps by, and that row then ran for 0.04 s, not 1.5 s.
  s.llc_speed = llc_sweep_speed();
  return s;
}

// The roofline: the copy bandwidth at each thread count, with arrays well beyond the last-level
// cache. The copy kernels are kept to time the copy again beside every run.
struct Roofline {
  std::vector<Bandwidth> bw;  // streaming stores, at the start
  std::vector<std::unique_ptr<CopyKernel>> copies;
  CopyKernel& at(int th) { return th == 1 ? *copies.front() : *copies.back(); }
};

Roofline measure_roofline(const NodeSetup& s) {
  // --quick: at most 512 MiB per array (see out_of_cache_edge).
  const std::size_t bytes = std::max<std::size_t>(
      std::min(s.quick ? std::min<std::size_t>(4 * s.cc.llc, 512u << 20) : 8 * s.cc.llc,
               static_cast<std::size_t>(s.array_cap)),
      64u << 20);
  Roofline roof;
  std::printf("\nMemory bandwidth (copy, %zu MiB per array, 16 B per element, best of %d):\n",
              bytes >> 20, s.reps + 2);
  for (int th : s.thread_counts) {
    roof.copies.push_back(std::make_unique<CopyKernel>(bytes, th));
    roof.bw.push_back(roof.copies.back()->measure(s.reps + 2, true));
    const Bandwidth plain = roof.copies.back()->measure(s.reps + 2, false);
    std::printf(
        "  %d thread%s: %.2f GB/s with streaming stores (spread %.0f%%), %.2f GB/s with "
        "ordinary stores\n",
        th, th == 1 ? " " : "s", roof.bw.back().gbs, 100 * roof.bw.back().spread, plain.gbs);
  }
  std::printf(
      "  (the bandwidth on offer drifts on a shared machine: each run below is also set against "
      "the copy timed between its own repetitions)\n");
  return roof;
}

// The kernels whose in-core ceilings are measured: the case study's, with two fields and in
// place (the tiled strips' kernel: per 4 vectors, 4 centres and 4 left neighbours loaded a column
// ahead, the kept row above and the row below, 2.5 loads a vector; 4 stores and the kept row,
// 1.25), the expanded form, the variable-alpha one (2D) and the 7-point one (3D). Loads per
// vector as the sweep runs them
// (sweep_rows): four rows at a time load 4 centres ahead, the two outer y-rows and 4 left
// neighbours per 4 vectors in 2D (2.5 a vector), and 8 z-neighbours more in 3D (4.5); the
// conservative form runs two rows at a time (per 2 vectors: 2 ahead, the two outer y-rows, 4
// x-face alphas and 3 y-face alphas: 5.5 a vector).
std::vector<Kernel> kernels() {
  return {
      {"2D 5-point, factored (case study)", {}, 2, 2, 2.5, 1, 6},
      {"2D 5-point, factored, in place", {}, 2, 2, 2.5, 1.25, 6, false, true},
      {"2D 5-point, expanded", {{"form", "\"expanded\"", "bench"}}, 2, 2, 2.5, 1, 7},
      {"2D variable alpha", {}, 2, 4, 5.5, 1, 14, true},
      {"3D 7-point, factored",
       {{"preset", "\"none\"", "bench"}, {"dim", "3", "bench"}, {"form", "\"factored\"", "bench"}},
       3,
       2,
       4.5,
       1,
       8},
  };
}

// The grid a kernel's in-core ceiling is measured on: fields in half the L2. 2D: a square n^2;
// 3D: rows of 256 cells (32 vectors of 8; rows of 4 vectors, at 32^3, timed their scalar ends
// and row changes) and a square n^2 of them.
struct InCoreGrid {
  index_t nx = 0, n = 0;
  [[nodiscard]] std::string setting(int dim) const {
    const std::string e = std::to_string(n);
    return dim == 2 ? e : "[" + std::to_string(nx) + ", " + e + ", " + e + "]";
  }
  [[nodiscard]] std::string label(int dim) const {
    const std::string e = std::to_string(n);
    return dim == 2 ? e + "^2" : std::to_string(nx) + "x" + e + "^2";
  }
};
InCoreGrid in_core_grid(const Kernel& k, const NodeSetup& s) {
  const double per_field = 0.5 * static_cast<double>(s.cc.l2) / (8.0 * k.fields);
  if (k.dim == 2) {
    const index_t n = std::max<index_t>(8, static_cast<index_t>(std::sqrt(per_field)) / 8 * 8);
    return {n, n};
  }
  const index_t nx = 256;
  return {nx, std::max<index_t>(4, static_cast<index_t>(std::sqrt(per_field / nx)))};
}

// Measures each kernel's in-core ceiling (Kernel), alone and in the simd backend: all
// repetitions interleaved, so that a noisy moment on a shared machine lowers one repetition of
// each rather than one kernel's ceiling (on the Intel VM, one at a time, the case-study kernel
// read 2992 MLUP/s in one run and 3498 in the next).
std::vector<Kernel> measure_in_core(const NodeSetup& s) {
  std::vector<Kernel> ks = kernels();
  const int rounds = s.reps + 2;
  std::printf(
      "\nIn-core ceilings (each kernel alone: its row loop over a grid in half the L2 cache, "
      "without the halo refill, sources and checks; 1 thread, best of %d interleaved; loads and "
      "stores per vector of %d cells and flops per cell counted from the code; beside it the simd "
      "backend on the same grid):\n",
      rounds, detail::kLanes);
  std::printf("  %-36s %10s %6s %6s %6s %10s %9s %10s\n", "kernel", "grid", "loads", "stores",
              "flops", "MLUP/s", "GFLOP/s", "simd MLUP/s");
  std::vector<std::unique_ptr<StencilRun>> runs;  // per kernel: alone, then the simd backend
  std::vector<std::int64_t> steps;
  for (Kernel& k : ks) {
    const InCoreGrid grid = in_core_grid(k, s);
    k.grid = grid.label(k.dim);
    std::vector<Override> o = k.settings;
    o.push_back({"n", grid.setting(k.dim), "bench"});
    o.push_back({"steps", "1", "bench"});
    if (k.variable)
      for (const Override& v : variable_alpha(grid.n))
        o.push_back(v);
    runs.push_back(std::make_unique<StencilRun>(o, k.in_place));
    steps.push_back(runs.back()->calibrate(s.quick ? 0.1 : 0.3));
    runs.push_back(std::make_unique<StencilRun>("simd", 1, o));
    steps.push_back(runs.back()->calibrate(s.quick ? 0.1 : 0.3));
  }
  std::vector<std::vector<double>> samples(runs.size());
  for (int r = 0; r < rounds; ++r)
    for (std::size_t i = 0; i < runs.size(); ++i)
      samples[i].push_back(runs[i]->seconds(steps[i]));
  for (std::size_t i = 0; i < ks.size(); ++i) {
    Kernel& k = ks[i];
    k.mlups = runs[2 * i]->timing(steps[2 * i], samples[2 * i]).mlups();
    k.backend_mlups = runs[2 * i + 1]->timing(steps[2 * i + 1], samples[2 * i + 1]).mlups();
    std::printf("  %-36s %10s %6.4g %6.4g %6.0f %10.1f %9.2f %10.1f\n", k.name.c_str(),
                k.grid.c_str(), k.loads, k.stores, k.flops, k.mlups, k.mlups * k.flops / 1e3,
                k.backend_mlups);
  }
  std::printf(
      "  (a row's \"in-core\" below is its MLUP/s over its kernel's ceiling times its threads)\n");
  std::fflush(stdout);
  return ks;
}

// The case study's kernel alone (no halo refill, sources or checks) on one core, with its
// fields in each level of the memory hierarchy: what each level feeds it (on the Intel VM the L2
// fed it at 0.90-0.93 of its L1 rate and the L3 at a third: docs/benchmarks.md, "Strips for a
// slow last level").
struct Level {
  std::string where;
  index_t nx = 0, ny = 0;
  double mlups = 0;
  /// The two fields' kilobytes, halo rows and columns included.
  [[nodiscard]] double kb() const { return 16.0 * static_cast<double>((nx + 2) * (ny + 2)) / 1e3; }
};

std::vector<Level> measure_levels(const NodeSetup& s) {
  // The L1 grid is as small as the probe goes (rows of 256 cells, two of them or more): about
  // 25 KB of a 32 KiB L1, 33 KB of a 48 KiB one. The L2 and last-level grids are the ones
  // llc_sweep_speed() compares (none in a last level under 8 L2s).
  const detail::ProbeSizes probed = detail::probe_sizes(s.cc);
  std::vector<std::pair<std::string, double>> sizes = {
      {"the L1", 0.5 * static_cast<double>(s.cc.l1d)}, {"half the L2", probed.l2}};
  if (probed.llc > 0) sizes.emplace_back("the last level", probed.llc);
  std::vector<detail::SweepProbe> probes;
  for (const auto& size : sizes)
    probes.emplace_back(size.second);
  for (int round = 0; round < s.reps + 3; ++round)  // interleaved: noise hits every level alike
    for (detail::SweepProbe& p : probes)
      p.time();
  std::vector<Level> levels;
  std::printf(
      "\nThe case-study kernel alone (its row loop, without the backend's halo refill, sources "
      "and checks), 1 core, best of %d interleaved:\n",
      s.reps + 3);
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const Grid& g = probes[i].grid();
    levels.push_back({sizes[i].first, g.n[0], g.n[1], probes[i].best() / 1e6});
    std::printf(
        "  fields in %-15s %5lld x %-5lld (%7.0f KB) %10.1f MLUP/s  %.2f of the rate from the "
        "L1\n",
        sizes[i].first.c_str(), static_cast<long long>(g.n[0]), static_cast<long long>(g.n[1]),
        levels.back().kb(), levels.back().mlups, levels.back().mlups / levels.front().mlups);
  }
  std::fflush(stdout);
  return levels;
}

// Every backend in cache and far out of it, at 1 and all threads (serial and simd at 1 only),
// each set against the copy timed between its own repetitions.
std::vector<Row> run_backends(const NodeSetup& s, Roofline& roof, const std::vector<Kernel>& ks) {
  std::vector<Row> rows;
  std::printf(
      "\nBackends on the case-study stencil, random initial field (roofline = MLUP/s x "
      "16 B / copy bandwidth at the same thread count, timed between the repetitions):\n");
  std::printf("  %-22s %-8s %7s %8s %10s %9s %9s %9s %8s %8s\n", "grid", "backend", "threads",
              "steps", "MLUP/s", "GB/s", "copy GB/s", "roofline", "in-core", "spread");
  struct Grid2 {
    std::string label;
    index_t n;
    bool variable;
  };
  for (const auto& [label, n, variable] :
       std::vector<Grid2>{{"in cache", s.in_cache, false},
                          {out_of_cache_label(s.out_cache, s.cc.llc), s.out_cache, false},
                          {"variable alpha", s.out_cache, true}}) {
    if (variable)
      std::printf(
          "  (variable alpha: a box of half the diffusivity, conservative form, harmonic face "
          "means; 32 B per update: u and the two face alphas read, u written)\n");
    const double mb = 8.0 * static_cast<double>(n * n) / 1e6;
    for (const std::string b : {"serial", "simd", "threads", "tiled", "auto"})
      for (int th : s.thread_counts) {
        if ((b == "serial" || b == "simd") && th != 1) continue;
        const Timing t =
            time_stencil(b, th, n, 0, s.reps, roof.at(th), s.quick ? 0.3 : 1.5, variable);
        const double ratio = t.gbs() / t.copy_gbs;
        const double incore = t.mlups() / (kernel_of(ks, variable).mlups * th);
        rows.push_back({label, b, th, n, t, ratio, incore});
        char grid[64];
        std::snprintf(grid, sizeof grid, "%s %lld^2 (%.0f MB)", label.c_str(),
                      static_cast<long long>(n), mb);
        std::printf("  %-22s %-8s %7d %8lld %10.1f %9.2f %9.2f %9.2f %8.2f %7.0f%%\n", grid,
                    (b == "auto" ? "auto:" + t.backend : b).c_str(), th,
                    static_cast<long long>(t.steps), t.mlups(), t.gbs(), t.copy_gbs, ratio, incore,
                    100 * t.spread);
        std::fflush(stdout);
      }
  }
  return rows;
}

// The backends auto chooses between at `threads` threads.
std::vector<std::string> candidates(int threads) {
  if (threads == 1) return {"simd", "tiled"};
  return {"threads", "tiled"};
}

// The case-study stencil on an n^dim grid (3D: the factored 7-point one).
std::vector<Override> grid_settings(int dim, index_t n) {
  const std::string e = std::to_string(n);
  if (dim == 2) return {{"n", e, "bench"}, {"steps", "1", "bench"}};
  return {{"preset", "\"none\"", "bench"},
          {"dim", "3", "bench"},
          {"form", "\"factored\"", "bench"},
          {"n", "[" + e + ", " + e + ", " + e + "]", "bench"},
          {"steps", "1", "bench"}};
}

// Temporal blocking in 3D (issue 20): the factored 7-point stencil on an n^3 grid out of cache
// (fields of 32 last-level caches, at least 400^3, within memory_cap; --quick 2 caches, 64^3 to
// 256^3), the single sweep (simd at 1 thread, threads at more) against tiled, the same whole
// blocks of steps, repetitions interleaved (each round starting with the next backend), the copy
// timed before each round. A roofline fraction of 2 means two updates per cell per trip to
// memory at the copy's rate.
std::vector<Row> run_blocking_3d(const NodeSetup& s, Roofline& roof, const Kernel& kernel) {
  const double cells = (s.quick ? 2.0 : 32.0) * static_cast<double>(s.cc.llc) / 16.0;
  index_t n = std::max<index_t>(s.quick ? 64 : 400, std::lround(std::cbrt(cells) / 8) * 8);
  if (s.quick) n = std::min<index_t>(n, 256);  // fields of 268 MB at most (see out_of_cache_edge)
  n = edge_within(s.array_cap, 3, n, 8);
  const int reps = std::max(s.reps, 2);
  const double mb = 16.0 * std::pow(static_cast<double>(n), 3) / 1e6;
  std::printf(
      "\nTemporal blocking in 3D: %s on %lld^3 (fields %.0f MB), random initial field, best of "
      "%d interleaved (roofline = MLUP/s x 16 B / the copy timed between the rounds):\n",
      kernel.name.c_str(), static_cast<long long>(n), mb, reps);
  std::printf("  %-8s %7s %8s %10s %9s %9s %9s %8s  %s\n", "backend", "threads", "steps", "MLUP/s",
              "GB/s", "copy GB/s", "roofline", "in-core", "plan");
  std::vector<Row> rows;
  for (int th : s.thread_counts) {
    std::vector<std::unique_ptr<StencilRun>> runs;
    std::int64_t steps = 0, pass = 1;
    for (const char* b : {th == 1 ? "simd" : "threads", "tiled"}) {
      runs.push_back(std::make_unique<StencilRun>(b, th, grid_settings(3, n)));
      steps = std::max(steps, runs.back()->calibrate(s.quick ? 0.3 : 1.5));
      pass = std::max(pass, runs.back()->steps_per_pass());
    }
    steps = (steps + pass - 1) / pass * pass;  // whole tiled blocks
    std::vector<std::vector<double>> samples(runs.size());
    double copy_gbs = 0;
    for (int k = 0; k < reps; ++k) {
      copy_gbs = std::max(copy_gbs, roof.at(th).measure(3).gbs);
      for (std::size_t i = 0; i < runs.size(); ++i) {
        const std::size_t c = (i + static_cast<std::size_t>(k)) % runs.size();
        samples[c].push_back(runs[c]->seconds(steps));
      }
    }
    for (std::size_t i = 0; i < runs.size(); ++i) {
      Timing t = runs[i]->timing(steps, samples[i]);
      t.copy_gbs = copy_gbs;
      rows.push_back({"3D 7-point", t.backend, th, n, t, t.gbs() / copy_gbs,
                      t.mlups() / (kernel.mlups * th), 3});
      std::printf("  %-8s %7d %8lld %10.1f %9.2f %9.2f %9.2f %8.2f  %s\n", t.backend.c_str(), th,
                  static_cast<long long>(steps), t.mlups(), t.gbs(), copy_gbs, rows.back().roofline,
                  rows.back().incore, runs[i]->plan().c_str());
      std::fflush(stdout);
    }
  }
  std::printf("  (issue 20's target: tiled at 2.0 or more of the roofline)\n");
  return rows;
}

// Every candidate on one grid, the same steps, repetitions interleaved (each round starting with
// the next candidate) so that a slow minute of a noisy machine hits all alike.
SweepRow time_sweep_row(int dim, index_t n, int threads, int reps, double target) {
  Grid g{dim, {n, n, dim == 3 ? n : 1}, {1, 1, 1}};
  SweepRow r{dim, n, threads, auto_backend_choice(g, threads).name, {}};
  // What auto picks is always timed, e.g. cuda on a machine with a GPU.
  std::vector<std::string> names = candidates(threads);
  if (std::find(names.begin(), names.end(), r.picked) == names.end()) names.push_back(r.picked);
  std::vector<std::unique_ptr<StencilRun>> runs;
  std::int64_t steps = 0;
  for (const std::string& b : names) {
    runs.push_back(std::make_unique<StencilRun>(b, threads, grid_settings(dim, n)));
    steps = std::max(steps, runs.back()->calibrate(target));
  }
  std::vector<std::vector<double>> samples(runs.size());
  for (int k = 0; k < reps; ++k)
    for (std::size_t i = 0; i < runs.size(); ++i) {
      const std::size_t c = (i + static_cast<std::size_t>(k)) % runs.size();
      samples[c].push_back(runs[c]->seconds(steps));
    }
  for (std::size_t i = 0; i < runs.size(); ++i)
    r.timings.push_back(runs[i]->timing(steps, samples[i]));
  return r;
}

// auto against the fastest backend at every size from in cache to far out of it, 2D and 3D:
// auto must never be more than 5% slower. The full run spans 256^2 to 8192^2 and 32^3 to 512^3;
// --quick a few sizes of each.
std::vector<SweepRow> run_auto_sweep(const NodeSetup& s) {
  std::vector<SweepRow> sweep;
  const int reps = std::max(s.reps, 2);
  std::printf(
      "\nauto against the fastest backend, in cache to out of cache (interleaved repetitions, "
      "best of %d; auto must not be more than 5%% slower):\n",
      reps);
  std::printf("  %3s %6s %9s %7s %-8s %-8s %10s %10s %8s\n", "dim", "n", "fields MB", "threads",
              "auto", "fastest", "auto MLUP", "best MLUP", "best/auto");
  const std::vector<std::pair<int, std::vector<index_t>>> grids = {
      {2, s.quick ? sweep_sizes(s.in_cache / 2, s.out_cache)
                  : sweep_sizes(256, edge_within(s.array_cap, 2, 8192, 8))},
      {3, s.quick ? std::vector<index_t>{32, 64}
                  : sweep_sizes(32, edge_within(s.array_cap, 3, 512, 8))}};
  for (const auto& [dim, sizes] : grids)
    for (int th : s.thread_counts)
      for (const index_t n : sizes) {
        const SweepRow r = time_sweep_row(dim, n, th, reps, s.quick ? 0.15 : 0.5);
        std::printf("  %3d %6lld %9.1f %7d %-8s %-8s %10.1f %10.1f %8.2f  %s\n", dim,
                    static_cast<long long>(n), r.fields_mb(), th, r.picked.c_str(),
                    r.best().backend.c_str(), r.chosen().mlups(), r.best().mlups(), r.ratio(),
                    r.ratio() >= 0.95 ? "ok" : "auto SLOWER than the fastest by more than 5%");
        std::fflush(stdout);
        sweep.push_back(r);
      }
  return sweep;
}

// The case study at its defaults, each backend against the serial reference and the roofline.
struct CaseStudy {
  index_t n = 0;
  std::int64_t steps = 0;
  double bound = 0;      // seconds at the copy bandwidth measured at the start, all threads
  double reference = 0;  // the serial backend's seconds
  std::vector<Row> rows;
};

// Runs the case study with each backend, the parallel ones at all threads.
CaseStudy run_case_study(const NodeSetup& s, Roofline& roof, const Kernel& kernel) {
  CaseStudy cs;
  cs.n = s.quick ? 1200 : 4800;
  cs.steps = s.quick ? 100 : 500;
  std::printf(
      "\nCase study %lld^2, %lld steps (roofline bound = cells x steps x 16 B / copy "
      "bandwidth; serial and simd once, the parallel backends best of %d):\n",
      static_cast<long long>(cs.n), static_cast<long long>(cs.steps), s.quick ? 1 : 3);
  const double work =
      static_cast<double>(cs.n * cs.n) * static_cast<double>(cs.steps) * kBytesPerUpdate;
  cs.bound = work / (roof.bw.back().gbs * 1e9);
  std::printf(
      "  roofline bound at %d threads: %.3f s at the copy bandwidth above; each row is set against "
      "its own, from the copy at %d threads timed between its repetitions\n",
      s.all, cs.bound, s.all);
  std::printf(
      "  in-core bound at %d threads: %.3f s (the case-study kernel's ceiling, the faster of its "
      "two forms, %s: %.1f MLUP/s per core, times %d)\n",
      s.all,
      static_cast<double>(cs.n * cs.n) * static_cast<double>(cs.steps) /
          (kernel.mlups * 1e6 * s.all),
      kernel.name.c_str(), kernel.mlups, s.all);
  for (const std::string b : {"serial", "simd", "threads", "tiled", "auto"}) {
    const int th = (b == "serial" || b == "simd") ? 1 : s.all;
    // The parallel backends best of 3: one run of a second or two is at the machine's mercy.
    const Timing t =
        time_stencil(b, th, cs.n, cs.steps, th > 1 && !s.quick ? 3 : 1, roof.at(s.all));
    if (b == "serial") cs.reference = t.seconds;
    const double its_bound = work / (t.copy_gbs * 1e9);
    const double incore = t.mlups() / (kernel.mlups * th);
    cs.rows.push_back({"case study", b, th, cs.n, t, its_bound / t.seconds, incore});
    std::printf(
        "  %-14s %2d threads  %8.3f s  %8.1f MLUP/s  %5.2fx the reference  %5.2fx the "
        "roofline bound (%.3f s at %.1f GB/s)  %.2f of the in-core ceiling\n",
        (b == "auto" ? "auto:" + t.backend : b).c_str(), th, t.seconds, t.mlups(),
        cs.reference / t.seconds, its_bound / t.seconds, its_bound, t.copy_gbs, incore);
    std::fflush(stdout);
  }
  return cs;
}

// Everything `calor bench node` measured, for the files it writes.
struct NodeResults {
  Roofline roof;
  std::vector<Kernel> kernels;  // their in-core ceilings
  std::vector<Level> levels;    // the case-study kernel alone, from each cache level
  std::vector<Row> rows;        // the backends in and out of cache
  std::vector<SweepRow> sweep;  // auto against the fastest backend
  CaseStudy study;
};

// The JSON records of `v`, one a line; a comma after each but the very last of the "runs" list.
void write_json_runs(std::ostream& js, const std::vector<Row>& v, bool last_list) {
  for (std::size_t i = 0; i < v.size(); ++i) {
    const Row& r = v[i];
    js << "    {\"grid\": " << json_str(r.label) << ", \"n\": " << r.n
       << ", \"backend\": " << json_str(r.backend) << ", \"ran\": " << json_str(r.t.backend)
       << ", \"threads\": " << r.threads << ", \"steps\": " << r.t.steps
       << ", \"seconds\": " << r.t.seconds << ", \"mlups\": " << r.t.mlups()
       << ", \"gbs\": " << r.t.gbs() << ", \"copy_gbs\": " << r.t.copy_gbs
       << ", \"roofline\": " << r.roofline << ", \"in_core\": " << r.incore
       << ", \"dim\": " << r.dim << "}" << (last_list && i + 1 == v.size() ? "\n" : ",\n");
  }
}

// The sweep's rows as the JSON member "auto_sweep", then a comma and a new line where `tail` is
// empty (more members follow), else a new line and `tail`.
void write_json_sweep(std::ostream& js, const std::vector<SweepRow>& sweep, const char* tail) {
  js << "  \"auto_sweep\": [\n";
  for (std::size_t i = 0; i < sweep.size(); ++i) {
    const SweepRow& r = sweep[i];
    js << "    {\"dim\": " << r.dim << ", \"n\": " << r.n << ", \"threads\": " << r.threads
       << ", \"auto_runs\": " << json_str(r.picked) << ", \"steps\": " << r.best().steps
       << ", \"seconds\": {";
    for (std::size_t k = 0; k < r.timings.size(); ++k)
      js << (k ? ", " : "") << json_str(r.timings[k].backend) << ": " << r.timings[k].seconds;
    js << "}, \"fastest_over_auto\": " << r.ratio() << "}"
       << (i + 1 == sweep.size() ? "\n" : ",\n");
  }
  js << "  ]" << (*tail != 0 ? "\n" : ",\n") << tail;
}

void write_json(std::ostream& js, const NodeSetup& s, const NodeResults& res) {
  js << "{\n  \"cpu\": " << json_str(cpu_model()) << ",\n  \"threads\": " << s.all
     << ",\n  \"l2_bytes\": " << s.cc.l2 << ",\n  \"llc_bytes\": " << s.cc.llc
     << ",\n  \"llc_sweep_speed\": " << s.llc_speed << ",\n  \"copy_bandwidth\": [";
  const std::vector<Bandwidth>& bw = res.roof.bw;
  for (std::size_t i = 0; i < bw.size(); ++i)
    js << (i ? ", " : "") << "{\"threads\": " << bw[i].threads << ", \"gbs\": " << bw[i].gbs
       << ", \"bytes\": " << bw[i].bytes << "}";
  js << "],\n  \"in_core\": [";
  for (std::size_t i = 0; i < res.kernels.size(); ++i) {
    const Kernel& k = res.kernels[i];
    js << (i ? ", " : "") << "{\"kernel\": " << json_str(k.name)
       << ", \"grid\": " << json_str(k.grid) << ", \"mlups\": " << k.mlups
       << ", \"simd_backend_mlups\": " << k.backend_mlups << ", \"loads\": " << k.loads
       << ", \"stores\": " << k.stores << ", \"flops\": " << k.flops << "}";
  }
  js << "],\n  \"kernel_alone\": [";
  for (std::size_t i = 0; i < res.levels.size(); ++i) {
    const Level& l = res.levels[i];
    js << (i ? ", " : "") << "{\"fields_in\": " << json_str(l.where) << ", \"nx\": " << l.nx
       << ", \"ny\": " << l.ny << ", \"kb\": " << l.kb() << ", \"mlups\": " << l.mlups << "}";
  }
  js << "],\n  \"runs\": [\n";
  write_json_runs(js, res.rows, false);
  write_json_runs(js, res.study.rows, true);
  js << "  ],\n";
  write_json_sweep(js, res.sweep, "");
  js << "  \"case_study_roofline_bound_seconds\": " << res.study.bound << "\n}\n";
}

// The sweep as a Markdown table.
void write_markdown_sweep(std::ostream& md, const std::vector<SweepRow>& sweep) {
  char buf[256];
  md << "\nauto against the fastest backend (its time over auto's; at least 0.95 wanted):\n\n"
        "| dim | n | fields MB | threads | auto runs | MLUP/s | fastest | MLUP/s | fastest/auto "
        "|\n|---|---|---|---|---|---|---|---|---|\n";
  for (const SweepRow& r : sweep) {
    std::snprintf(buf, sizeof buf, "| %d | %lld | %.1f | %d | %s | %.1f | %s | %.1f | %.2f |\n",
                  r.dim, static_cast<long long>(r.n), r.fields_mb(), r.threads, r.picked.c_str(),
                  r.chosen().mlups(), r.best().backend.c_str(), r.best().mlups(), r.ratio());
    md << buf;
  }
}

// The Markdown tables of the backends and of auto against the fastest backend.
void write_markdown_tables(std::ostream& md, const NodeResults& res) {
  char buf[512];
  md << "\n\nIn-core ceilings (each kernel alone, 1 thread, fields in half the L2 cache; beside "
        "it the simd backend, with its halo refill, on the same grid):\n\n| kernel | grid | "
        "loads/vector | stores/vector | flops/cell | MLUP/s | GFLOP/s | simd backend MLUP/s "
        "|\n|---|---|---|---|---|---|---|---|\n";
  for (const Kernel& k : res.kernels) {
    std::snprintf(buf, sizeof buf, "| %s | %s | %.4g | %.4g | %.0f | %.1f | %.2f | %.1f |\n",
                  k.name.c_str(), k.grid.c_str(), k.loads, k.stores, k.flops, k.mlups,
                  k.mlups * k.flops / 1e3, k.backend_mlups);
    md << buf;
  }
  md << "\nThe case-study kernel alone, 1 core:\n\n| fields in | grid | KB | MLUP/s | of the "
        "rate from the L1 |\n|---|---|---|---|---|\n";
  for (const Level& l : res.levels) {
    std::snprintf(buf, sizeof buf, "| %s | %lld × %lld | %.0f | %.1f | %.2f |\n", l.where.c_str(),
                  static_cast<long long>(l.nx), static_cast<long long>(l.ny), l.kb(), l.mlups,
                  l.mlups / res.levels.front().mlups);
    md << buf;
  }
  md << "\n| grid | backend | threads | MLUP/s | GB/s | copy GB/s beside it | fraction of "
        "roofline | fraction of in-core ceiling |\n|---|---|---|---|---|---|---|---|\n";
  for (const Row& r : res.rows) {
    std::snprintf(buf, sizeof buf, "| %s %lld%s | %s | %d | %.1f | %.2f | %.2f | %.2f | %.2f |\n",
                  r.label.c_str(), static_cast<long long>(r.n), r.dim == 3 ? "³" : "²",
                  (r.backend == "auto" ? "auto→" + r.t.backend : r.backend).c_str(), r.threads,
                  r.t.mlups(), r.t.gbs(), r.t.copy_gbs, r.roofline, r.incore);
    md << buf;
  }
  write_markdown_sweep(md, res.sweep);
}

void write_markdown(std::ostream& md, const NodeSetup& s, const NodeResults& res) {
  md << "Machine: " << cpu_model() << ", " << s.all << " threads, L2 " << (s.cc.l2 >> 10)
     << " KiB, LLC " << (s.cc.llc >> 20) << " MiB (a plain sweep runs "
     << std::round(100 * s.llc_speed) / 100
     << "x as fast from it as from the L2).\n\nCopy bandwidth at the start (streaming "
        "stores):";
  char gbs[64];
  for (const auto& b : res.roof.bw) {
    std::snprintf(gbs, sizeof gbs, " %d thread%s %.2f GB/s;", b.threads, b.threads == 1 ? "" : "s",
                  b.gbs);
    md << gbs;
  }
  write_markdown_tables(md, res);
  const CaseStudy& cs = res.study;
  char buf[512];
  std::snprintf(
      buf, sizeof buf,
      "\nCase study %lld², %lld steps; roofline bound %.3f s at %d threads at the first copy "
      "bandwidth; each row against the copy timed beside it.\n\n"
      "| backend | threads | seconds | MLUP/s | speedup vs reference | copy GB/s beside it | "
      "× roofline bound | fraction of in-core ceiling |\n|---|---|---|---|---|---|---|---|\n",
      static_cast<long long>(cs.n), static_cast<long long>(cs.steps), cs.bound, s.all);
  md << buf;
  for (const Row& r : cs.rows) {
    std::snprintf(buf, sizeof buf, "| %s | %d | %.3f | %.1f | %.2f | %.2f | %.2f | %.2f |\n",
                  (r.backend == "auto" ? "auto→" + r.t.backend : r.backend).c_str(), r.threads,
                  r.t.seconds, r.t.mlups(), cs.reference / r.t.seconds, r.t.copy_gbs, r.roofline,
                  r.incore);
    md << buf;
  }
}

}  // namespace

int bench_node_command(const BenchOptions& o) {
  const NodeSetup s = node_setup(o);
  std::printf(
      "calor bench node: %s, %d threads, L2 %zu KiB, last-level cache %zu MiB (a plain sweep "
      "runs %.2fx as fast from it as from the L2)\n",
      cpu_model().c_str(), s.all, s.cc.l2 >> 10, s.cc.llc >> 20, s.llc_speed);
  NodeResults res;
  if (o.auto_only) {
    res.sweep = run_auto_sweep(s);
    if (!o.out.empty())
      write_results(
          o.out, [&](std::ostream& js) { write_json_sweep(js << "{\n", res.sweep, "}\n"); },
          [&](std::ostream& md) { write_markdown_sweep(md, res.sweep); });
    return 0;
  }
  res.roof = measure_roofline(s);
  res.kernels = measure_in_core(s);
  res.levels = measure_levels(s);
  res.rows = run_backends(s, res.roof, res.kernels);
  const auto k3 = std::find_if(res.kernels.begin(), res.kernels.end(),
                               [](const Kernel& k) { return k.dim == 3; });
  for (Row& r : run_blocking_3d(s, res.roof, *k3))
    res.rows.push_back(std::move(r));
  res.sweep = run_auto_sweep(s);
  res.study = run_case_study(s, res.roof, kernel_of(res.kernels, false));

  if (!o.out.empty())
    write_results(
        o.out, [&](std::ostream& js) { write_json(js, s, res); },
        [&](std::ostream& md) { write_markdown(md, s, res); });
  return 0;
}

}  // namespace calor::bench
