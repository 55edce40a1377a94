// `calor bench node`: every backend against this machine's measured memory bandwidth.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "calor/backend.hpp"
#include "calor/bandwidth.hpp"
#include "calor/config.hpp"
#include "calor/error.hpp"
#include "calor/machine.hpp"
#include "calor/solver.hpp"
#include "commands.hpp"

namespace calor::app {

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
  [[nodiscard]] double mlups() const {
    return static_cast<double>(cells) * static_cast<double>(steps) / seconds / 1e6;
  }
  [[nodiscard]] double gbs() const { return mlups() * kBytesPerUpdate / 1e3; }
};

// Times `steps` steps of the case-study stencil on an n x n grid holding random values (so no
// data-dependent shortcut can help), best of `reps`; steps = 0 calibrates to about `target` s,
// at least 8 steps and one whole pass of the backend (a tiled block). One solver serves every
// repetition, its field refilled each time: allocating and first touching the fields again
// took most of the benchmark's time where they are gigabytes.
Timing time_stencil(const std::string& backend, int threads, index_t n, std::int64_t steps,
                    int reps, double target = 1.5) {
  const Config c = load_config("preset = \"stencil\"", "bench",
                               {{"n", std::to_string(n), "bench"}, {"steps", "1", "bench"}});
  Timing t;
  t.cells = n * n;
  Solver solver(c.problem, select_backend(backend, BackendOptions{threads, 0}, c.problem.grid));
  t.backend = solver.backend().name();
  auto run = [&](std::int64_t s) {
    std::mt19937_64 rng(42);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for_each_cell(c.problem.grid,
                  [&](index_t i, index_t j, index_t k) { solver.field()(i, j, k) = u(rng); });
    const auto t0 = std::chrono::steady_clock::now();
    solver.step(s);
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  if (steps == 0) {
    const double probe = run(4) / 4;
    const std::int64_t least = std::max<std::int64_t>(8, solver.steps_per_pass());
    steps = std::clamp<std::int64_t>(static_cast<std::int64_t>(target / probe), least, 100000);
  }
  t.steps = steps;
  double best = 1e30, worst = 0;
  for (int r = 0; r < reps; ++r) {
    const double s = run(steps);
    best = std::min(best, s);
    worst = std::max(worst, s);
  }
  t.seconds = best;
  t.spread = (worst - best) / best;
  return t;
}

struct Row {
  std::string label, backend;
  int threads;
  index_t n;
  Timing t;
  double roofline;  // (MLUP/s x 16 B) / copy bandwidth at the same thread count
};

// "8x LLC": how many last-level caches one field of an n x n grid fills, rounded (about 8; a
// quarter of that with --quick, whose grid is half as wide).
std::string out_of_cache_label(index_t n, std::size_t llc) {
  const double ratio = 8.0 * static_cast<double>(n * n) / static_cast<double>(llc);
  return std::to_string(static_cast<long long>(std::lround(ratio))) + "x LLC";
}

std::string json_str(const std::string& s) {
  return "\"" + s + "\"";
}

}  // namespace

int bench_node_command(const BenchOptions& o) {
  const int all = o.threads > 0 ? o.threads : default_threads();
  const Caches& cc = caches();
  const int reps = o.quick ? 1 : 5;
  std::printf("calor bench node: %s, %d threads, L2 %zu KiB, last-level cache %zu MiB\n",
              cpu_model().c_str(), all, cc.l2 >> 10, cc.llc >> 20);

  // 1. The roofline: copy bandwidth with arrays well beyond the last-level cache.
  const std::size_t bytes = std::max<std::size_t>(o.quick ? 4 * cc.llc : 8 * cc.llc, 64u << 20);
  std::vector<int> thread_counts = {1};
  if (all > 1) thread_counts.push_back(all);
  std::vector<Bandwidth> bw;
  std::printf("\nMemory bandwidth (copy, %zu MiB per array, 16 B per element, best of %d):\n",
              bytes >> 20, reps + 2);
  for (int th : thread_counts) {
    bw.push_back(measure_copy_bandwidth(bytes, th, reps + 2, true));
    const Bandwidth plain = measure_copy_bandwidth(bytes, th, reps + 2, false);
    std::printf(
        "  %d thread%s: %.2f GB/s with streaming stores (spread %.0f%%), %.2f GB/s with "
        "ordinary stores\n",
        th, th == 1 ? " " : "s", bw.back().gbs, 100 * bw.back().spread, plain.gbs);
  }
  auto copy_gbs = [&](int th) { return th == 1 ? bw.front().gbs : bw.back().gbs; };

  // 2. Every backend in cache and far out of it, at 1 and all threads.
  const index_t in_cache = o.quick ? 256 : 512;
  index_t out_cache =
      static_cast<index_t>(std::ceil(std::sqrt(8.0 * static_cast<double>(cc.llc) / 8.0)));
  out_cache = (out_cache + 63) / 64 * 64;
  if (o.quick) out_cache = std::max<index_t>(out_cache / 2, 1024);
  std::vector<Row> rows;
  std::printf(
      "\nBackends on the case-study stencil, random initial field (roofline = MLUP/s x "
      "16 B / copy bandwidth at the same thread count):\n");
  std::printf("  %-22s %-8s %7s %8s %10s %9s %9s %8s\n", "grid", "backend", "threads", "steps",
              "MLUP/s", "GB/s", "roofline", "spread");
  for (const auto& [label, n] : std::vector<std::pair<std::string, index_t>>{
           {"in cache", in_cache}, {out_of_cache_label(out_cache, cc.llc), out_cache}}) {
    const double mb = 8.0 * static_cast<double>(n * n) / 1e6;
    for (const std::string b : {"serial", "simd", "threads", "tiled", "auto"})
      for (int th : thread_counts) {
        if ((b == "serial" || b == "simd") && th != 1) continue;
        const Timing t = time_stencil(b, th, n, 0, reps, o.quick ? 0.3 : 1.5);
        const double roof = t.gbs() / copy_gbs(th);
        rows.push_back({label, b, th, n, t, roof});
        char grid[64];
        std::snprintf(grid, sizeof grid, "%s %lld^2 (%.0f MB)", label.c_str(),
                      static_cast<long long>(n), mb);
        std::printf("  %-22s %-8s %7d %8lld %10.1f %9.2f %9.2f %7.0f%%\n", grid,
                    (b == "auto" ? "auto:" + t.backend : b).c_str(), th,
                    static_cast<long long>(t.steps), t.mlups(), t.gbs(), roof, 100 * t.spread);
        std::fflush(stdout);
      }
  }

  // 3. The case study at its defaults, each backend at all threads, against the reference.
  const index_t study_n = o.quick ? 1200 : 4800;
  const std::int64_t study_steps = o.quick ? 100 : 500;
  std::printf(
      "\nCase study %lld^2, %lld steps (roofline bound = cells x steps x 16 B / copy "
      "bandwidth):\n",
      static_cast<long long>(study_n), static_cast<long long>(study_steps));
  const double bound = static_cast<double>(study_n * study_n) * static_cast<double>(study_steps) *
                       kBytesPerUpdate / (copy_gbs(all) * 1e9);
  std::printf("  roofline bound at %d threads: %.3f s\n", all, bound);
  std::vector<Row> study;
  double reference = 0;
  for (const std::string b : {"serial", "simd", "threads", "tiled", "auto"}) {
    const int th = (b == "serial" || b == "simd") ? 1 : all;
    const Timing t = time_stencil(b, th, study_n, study_steps, 1);
    if (b == "serial") reference = t.seconds;
    study.push_back({"case study", b, th, study_n, t, bound / t.seconds});
    std::printf(
        "  %-14s %2d threads  %8.3f s  %8.1f MLUP/s  %5.2fx the reference  %5.2fx the "
        "roofline bound\n",
        (b == "auto" ? "auto:" + t.backend : b).c_str(), th, t.seconds, t.mlups(),
        reference / t.seconds, bound / t.seconds);
    std::fflush(stdout);
  }

  if (!o.out.empty()) {
    std::ofstream js(o.out + ".json"), md(o.out + ".md");
    if (!js || !md)
      throw Error("cannot write " + o.out + ".json / .md: check the directory exists");
    js << "{\n  \"cpu\": " << json_str(cpu_model()) << ",\n  \"threads\": " << all
       << ",\n  \"l2_bytes\": " << cc.l2 << ",\n  \"llc_bytes\": " << cc.llc
       << ",\n  \"copy_bandwidth\": [";
    for (std::size_t i = 0; i < bw.size(); ++i)
      js << (i ? ", " : "") << "{\"threads\": " << bw[i].threads << ", \"gbs\": " << bw[i].gbs
         << ", \"bytes\": " << bw[i].bytes << "}";
    js << "],\n  \"runs\": [\n";
    auto emit = [&](const std::vector<Row>& v, bool last_list) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        const Row& r = v[i];
        js << "    {\"grid\": " << json_str(r.label) << ", \"n\": " << r.n
           << ", \"backend\": " << json_str(r.backend) << ", \"ran\": " << json_str(r.t.backend)
           << ", \"threads\": " << r.threads << ", \"steps\": " << r.t.steps
           << ", \"seconds\": " << r.t.seconds << ", \"mlups\": " << r.t.mlups()
           << ", \"gbs\": " << r.t.gbs() << ", \"roofline\": " << r.roofline << "}"
           << (last_list && i + 1 == v.size() ? "\n" : ",\n");
      }
    };
    emit(rows, false);
    emit(study, true);
    js << "  ],\n  \"case_study_roofline_bound_seconds\": " << bound << "\n}\n";

    md << "Machine: " << cpu_model() << ", " << all << " threads, L2 " << (cc.l2 >> 10)
       << " KiB, LLC " << (cc.llc >> 20) << " MiB.\n\nCopy bandwidth (streaming stores):";
    for (const auto& b : bw)
      md << " " << b.threads << " thread(s) " << b.gbs << " GB/s;";
    md << "\n\n| grid | backend | threads | MLUP/s | GB/s | fraction of roofline |\n"
          "|---|---|---|---|---|---|\n";
    char buf[256];
    for (const Row& r : rows) {
      std::snprintf(buf, sizeof buf, "| %s %lld² | %s | %d | %.1f | %.2f | %.2f |\n",
                    r.label.c_str(), static_cast<long long>(r.n),
                    (r.backend == "auto" ? "auto→" + r.t.backend : r.backend).c_str(), r.threads,
                    r.t.mlups(), r.t.gbs(), r.roofline);
      md << buf;
    }
    std::snprintf(
        buf, sizeof buf,
        "\nCase study %lld², %lld steps; roofline bound %.3f s at %d threads.\n\n"
        "| backend | threads | seconds | MLUP/s | speedup vs reference | × roofline bound |\n"
        "|---|---|---|---|---|---|\n",
        static_cast<long long>(study_n), static_cast<long long>(study_steps), bound, all);
    md << buf;
    for (const Row& r : study) {
      std::snprintf(buf, sizeof buf, "| %s | %d | %.3f | %.1f | %.2f | %.2f |\n",
                    (r.backend == "auto" ? "auto→" + r.t.backend : r.backend).c_str(), r.threads,
                    r.t.seconds, r.t.mlups(), reference / r.t.seconds, r.roofline);
      md << buf;
    }
    std::printf("\nwrote %s.json and %s.md\n", o.out.c_str(), o.out.c_str());
  }
  return 0;
}

}  // namespace calor::app
