// `calor bench fft`: how fast FFTW transforms a 3D real field on this machine, the cost under the
// spectral solver. Times an in-place r2c + c2r pair on n^3 grids up to 576^3 (the reference
// study's size: 1.5 GB of doubles), at 1 and all threads, with the planning time of
// FFTW_ESTIMATE and FFTW_MEASURE, beside the machine's measured copy bandwidth.
//
// Flop convention (printed with the results): a complex transform of N points counts
// 5 N log2(N) flops, a real one half that, so one r2c + c2r pair counts 5 N log2(N). (Not
// fftw_flops: with SIMD codelets it counts vector instructions, not flops.)
//
// MPI rank runs and the pyFFTW / mpi4py-fft peers are not measured here.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "calor/bandwidth.hpp"
#include "calor/config.hpp"
#include "calor/error.hpp"
#include "calor/machine.hpp"
#include "calor/spectral.hpp"

#if defined(CALOR_HAVE_FFTW)
#include <fftw3.h>
#endif

#include "commands.hpp"

namespace calor::app {

#if defined(CALOR_HAVE_FFTW)

namespace {

struct FftRow {
  int n = 0, threads = 0;
  std::string planner;
  double plan_s = 0, best_s = 0, worst_s = 0, roundtrip = 0;
  [[nodiscard]] double points() const { return std::pow(static_cast<double>(n), 3); }
  // 5 N log2 N per pair: half of a complex transform's 5 N log2 N, twice.
  [[nodiscard]] double flops() const { return 5.0 * points() * std::log2(points()); }
  [[nodiscard]] double gflops() const { return flops() / best_s / 1e9; }
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A deterministic, non-trivial real field: no data-dependent shortcut can help FFTW.
void fill(double* a, int n, std::ptrdiff_t pitch) {
  const std::ptrdiff_t rows = static_cast<std::ptrdiff_t>(n) * n;
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t r = 0; r < rows; ++r)
    for (int i = 0; i < n; ++i)
      a[r * pitch + i] = std::sin(0.001 * static_cast<double>(r) + 0.37 * i) + 0.5;
}

FftRow time_pair(int n, int threads, unsigned flags, const std::string& planner, int reps) {
  FftRow row;
  row.n = n;
  row.threads = threads;
  row.planner = planner;
  const std::ptrdiff_t pitch = 2 * (n / 2 + 1);
  const auto values = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(n) * n * pitch);
  double* a = fftw_alloc_real(values);
  if (a == nullptr)
    throw Error("cannot allocate " + std::to_string(values * 8 >> 20) + " MiB for a " +
                std::to_string(n) + "^3 transform: use smaller --sizes");
  auto* c = reinterpret_cast<fftw_complex*>(a);
  fftw_plan fwd = nullptr, bwd = nullptr;
  {
    auto lock = detail::lock_fftw_planner();
    fftw_plan_with_nthreads(threads);
    const auto t0 = std::chrono::steady_clock::now();
    fwd = fftw_plan_dft_r2c_3d(n, n, n, a, c, flags);
    bwd = fftw_plan_dft_c2r_3d(n, n, n, c, a, flags);
    row.plan_s = seconds_since(t0);
  }
  if (fwd == nullptr || bwd == nullptr)
    throw Error("FFTW could not plan a " + std::to_string(n) + "^3 transform");
  fill(a, n, pitch);  // after planning: FFTW_MEASURE overwrites the array
  fftw_execute(fwd);  // warm-up, and the round trip's accuracy
  fftw_execute(bwd);
  const double scale = 1.0 / row.points();
  double err = 0;
  for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(n) * n; r += 97)
    for (int i = 0; i < n; ++i)
      err = std::max(err, std::fabs(a[r * pitch + i] * scale -
                                    (std::sin(0.001 * static_cast<double>(r) + 0.37 * i) + 0.5)));
  row.roundtrip = err;

  row.best_s = 1e30;
  for (int k = 0; k < reps; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    fftw_execute(fwd);
    fftw_execute(bwd);
    const double s = seconds_since(t0);
    row.best_s = std::min(row.best_s, s);
    row.worst_s = std::max(row.worst_s, s);
  }
  {
    auto lock = detail::lock_fftw_planner();
    fftw_destroy_plan(fwd);
    fftw_destroy_plan(bwd);
  }
  fftw_free(a);
  return row;
}

std::string quoted(const std::string& s) {
  return "\"" + s + "\"";
}

}  // namespace

int bench_fft_command(const BenchFftOptions& o) {
  std::vector<int> sizes = o.sizes;
  if (sizes.empty())
    sizes = o.quick ? std::vector<int>{32, 64, 128} : std::vector<int>{64, 128, 256, 384, 576};
  std::vector<int> threads = o.threads;
  if (threads.empty()) {
    threads = {1};
    if (default_threads() > 1) threads.push_back(default_threads());
  }
  const int reps = o.reps > 0 ? o.reps : (o.quick ? 2 : 5);
  std::vector<std::pair<std::string, unsigned>> planners = {{"estimate", FFTW_ESTIMATE}};
  if (!o.quick) planners.push_back({"measure", FFTW_MEASURE});

  std::printf("calor bench fft: %s, in-place 3D r2c + c2r pairs, best of %d\n", fftw_version, reps);
  if (!o.wisdom.empty())
    std::printf("  wisdom %s: %s\n", o.wisdom.c_str(),
                import_fft_wisdom(o.wisdom) ? "imported" : "none yet (will be written)");

  // The roofline beside the figures: copy bandwidth far beyond the last-level cache.
  const std::size_t bytes = std::max<std::size_t>(8 * caches().llc, 256u << 20);
  std::vector<Bandwidth> bw;
  std::printf("\nMemory bandwidth (copy, %zu MiB per array, 16 B per element):\n", bytes >> 20);
  for (int th : threads) {
    bw.push_back(measure_copy_bandwidth(bytes, th, o.quick ? 3 : 5, true));
    std::printf("  %d thread%s: %.2f GB/s (spread %.0f%%)\n", th, th == 1 ? " " : "s",
                bw.back().gbs, 100 * bw.back().spread);
  }

  std::printf(
      "\nFlops: 5 N log2(N) per complex transform of N points, half that per real transform, so "
      "5 N log2(N) per r2c + c2r pair (N = n^3).\n");
  std::printf("  %6s %8s %7s %9s %10s %10s %9s %8s %10s\n", "n", "MB", "threads", "planner",
              "plan s", "pair s", "GFLOP/s", "spread", "roundtrip");
  std::vector<FftRow> rows;
  for (int n : sizes) {
    if (n < 2) throw Error("bench fft: sizes must be at least 2, got " + std::to_string(n));
    for (const auto& [name, flags] : planners)
      for (int th : threads) {
        const FftRow r = time_pair(n, th, flags, name, reps);
        rows.push_back(r);
        const double mb = 8.0 * r.points() / 1e6;
        std::printf("  %6d %8.1f %7d %9s %10.3f %10.4f %9.2f %7.0f%% %10.1e\n", n, mb, th,
                    name.c_str(), r.plan_s, r.best_s, r.gflops(),
                    100 * (r.worst_s - r.best_s) / r.best_s, r.roundtrip);
        std::fflush(stdout);
      }
  }
  // The case study by the spectral method: one inverse DST-I pair of 2D lines, the sources
  // transformed in closed form (calor/spectral.hpp).
  const index_t study_n = o.quick ? 1200 : 4800;
  const Config study =
      load_config("preset = \"stencil\"", "bench", {{"n", std::to_string(study_n), "bench"}});
  std::printf("\nCase study %lld^2 x %lld steps by the spectral method (discrete mode):\n",
              static_cast<long long>(study_n), static_cast<long long>(study.problem.steps));
  struct StudyRow {
    int threads;
    double setup_s, solve_s, heat;
  };
  std::vector<StudyRow> studies;
  for (int th : threads) {
    const auto t0 = std::chrono::steady_clock::now();
    SpectralSolver sp(study.problem, SpectralMode::discrete, th);
    const double setup = seconds_since(t0);
    const auto t1 = std::chrono::steady_clock::now();
    sp.solve();
    const double solve = seconds_since(t1);
    studies.push_back({th, setup, solve, sp.stats().heat});
    std::printf("  %d thread%s: set-up %.3f s, solve %.3f s, total %.3f s, heat %.4f (%s)\n", th,
                th == 1 ? " " : "s", setup, solve, setup + solve, studies.back().heat,
                sp.describe().c_str());
    std::fflush(stdout);
  }

  if (!o.wisdom.empty()) {
    export_fft_wisdom(o.wisdom);
    std::printf("\nwrote FFTW wisdom to %s (FFTW_MEASURE plans are then instant)\n",
                o.wisdom.c_str());
  }

  if (!o.out.empty()) {
    std::ofstream js(o.out + ".json"), md(o.out + ".md");
    if (!js || !md)
      throw Error("cannot write " + o.out + ".json / .md: check the directory exists");
    js << "{\n  \"fftw\": " << quoted(fftw_version)
       << ",\n  \"flop_convention\": \"5 N log2 N per complex transform of N points, half per "
          "real transform: 5 N log2 N per r2c+c2r pair\",\n  \"copy_bandwidth\": [";
    for (std::size_t i = 0; i < bw.size(); ++i)
      js << (i ? ", " : "") << "{\"threads\": " << bw[i].threads << ", \"gbs\": " << bw[i].gbs
         << "}";
    js << "],\n  \"runs\": [\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const FftRow& r = rows[i];
      js << "    {\"n\": " << r.n << ", \"threads\": " << r.threads
         << ", \"planner\": " << quoted(r.planner) << ", \"plan_seconds\": " << r.plan_s
         << ", \"pair_seconds\": " << r.best_s << ", \"gflops\": " << r.gflops()
         << ", \"roundtrip_error\": " << r.roundtrip << "}" << (i + 1 < rows.size() ? ",\n" : "\n");
    }
    js << "  ],\n  \"case_study\": {\"n\": " << study_n << ", \"runs\": [";
    for (std::size_t i = 0; i < studies.size(); ++i)
      js << (i ? ", " : "") << "{\"threads\": " << studies[i].threads
         << ", \"setup_seconds\": " << studies[i].setup_s
         << ", \"solve_seconds\": " << studies[i].solve_s << ", \"heat\": " << studies[i].heat
         << "}";
    js << "]}\n}\n";
    md << "FFTW " << fftw_version << ", in-place 3D r2c + c2r, best of " << reps
       << ". GFLOP/s counts 5 N log2 N per pair (a complex transform's 5 N log2 N, halved for "
          "real data, twice).\n\nCopy bandwidth:";
    for (const auto& b : bw)
      md << " " << b.threads << " thread(s) " << b.gbs << " GB/s;";
    md << "\n\n| n³ | threads | planner | planning s | pair s | GFLOP/s "
          "|\n|---|---|---|---|---|---|\n";
    char buf[200];
    for (const FftRow& r : rows) {
      std::snprintf(buf, sizeof buf, "| %d³ | %d | %s | %.3f | %.4f | %.2f |\n", r.n, r.threads,
                    r.planner.c_str(), r.plan_s, r.best_s, r.gflops());
      md << buf;
    }
    md << "\nCase study " << study_n << "² by the spectral method:";
    for (const StudyRow& r : studies)
      md << " " << r.threads << " thread(s) " << r.setup_s + r.solve_s << " s;";
    md << "\n";
    std::printf("\nwrote %s.json and %s.md\n", o.out.c_str(), o.out.c_str());
  }
  return 0;
}

#else

int bench_fft_command(const BenchFftOptions&) {
  throw Error("this calor was built without FFTW: install libfftw3-dev and rebuild");
}

#endif

}  // namespace calor::app
