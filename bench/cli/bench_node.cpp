// `calor bench node`: every backend against this machine's measured memory bandwidth.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "bandwidth.hpp"
#include "bench.hpp"
#include "calor/backend.hpp"
#include "calor/config.hpp"
#include "calor/error.hpp"
#include "calor/machine.hpp"
#include "calor/solver.hpp"

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
  [[nodiscard]] double gbs() const { return mlups() * kBytesPerUpdate / 1e3; }
};

// One solver of the case-study stencil on an n x n grid holding random values (so no
// data-dependent shortcut can help). One solver serves every repetition, its field refilled each
// time: allocating and first touching the fields again took most of the benchmark's time where
// they are gigabytes.
class StencilRun {
 public:
  StencilRun(const std::string& backend, int threads, index_t n)
      : config_(load_config("preset = \"stencil\"", "bench",
                            {{"n", std::to_string(n), "bench"}, {"steps", "1", "bench"}})),
        solver_(config_.problem,
                select_backend(backend, BackendOptions{threads, 0}, config_.problem.grid)),
        cells_(n * n) {}

  /// Backend that runs ("auto" resolved).
  [[nodiscard]] std::string ran() const { return std::string(solver_.backend().name()); }

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
    return t;
  }

 private:
  Config config_;
  Solver solver_;
  index_t cells_;
};

// Times `steps` steps (0: calibrated to about `target` s), best of `reps`, with the copy
// bandwidth timed (best of 3) before each repetition, so that the ratio of the two compares
// runs of the same minutes.
Timing time_stencil(const std::string& backend, int threads, index_t n, std::int64_t steps,
                    int reps, CopyKernel& copy, double target = 1.5) {
  StencilRun run(backend, threads, n);
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

// auto and threads on one grid, their repetitions interleaved (auto first in even ones, threads
// first in odd ones) so that a slow minute of a noisy machine hits both alike; the same steps.
std::pair<Timing, Timing> time_auto_vs_threads(int threads, index_t n, int reps, double target) {
  StencilRun a("auto", threads, n), b("threads", threads, n);
  const std::int64_t steps = std::max(a.calibrate(target), b.calibrate(target));
  std::vector<double> sa, sb;
  for (int r = 0; r < reps; ++r) {
    if (r % 2 == 0) sa.push_back(a.seconds(steps));
    sb.push_back(b.seconds(steps));
    if (r % 2 == 1) sa.push_back(a.seconds(steps));
  }
  return {a.timing(steps, sa), b.timing(steps, sb)};
}

struct Row {
  std::string label, backend;
  int threads;
  index_t n;
  Timing t;
  double roofline;  // (MLUP/s x 16 B) / copy bandwidth at the same thread count
};

// One size of the auto-against-threads sweep.
struct SweepRow {
  index_t n;
  int threads;
  std::string picked;  // what auto runs on this grid
  Timing autot, threadst;
  [[nodiscard]] bool timed() const { return picked != "threads"; }
  /// auto's speed over threads' (1 where auto runs threads itself).
  [[nodiscard]] double ratio() const { return timed() ? threadst.seconds / autot.seconds : 1.0; }
};

// Sizes from `lo` to `hi` (included), a factor of about sqrt(2) apart, multiples of 8.
std::vector<index_t> sweep_sizes(index_t lo, index_t hi) {
  std::vector<index_t> v;
  for (double n = static_cast<double>(lo); n < static_cast<double>(hi) / 1.2; n *= std::sqrt(2.0))
    v.push_back(static_cast<index_t>(std::lround(n / 8)) * 8);
  v.push_back(hi);
  return v;
}

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
  std::vector<std::unique_ptr<CopyKernel>> copies;  // kept to time the copy beside every run
  std::printf("\nMemory bandwidth (copy, %zu MiB per array, 16 B per element, best of %d):\n",
              bytes >> 20, reps + 2);
  for (int th : thread_counts) {
    copies.push_back(std::make_unique<CopyKernel>(bytes, th));
    bw.push_back(copies.back()->measure(reps + 2, true));
    const Bandwidth plain = copies.back()->measure(reps + 2, false);
    std::printf(
        "  %d thread%s: %.2f GB/s with streaming stores (spread %.0f%%), %.2f GB/s with "
        "ordinary stores\n",
        th, th == 1 ? " " : "s", bw.back().gbs, 100 * bw.back().spread, plain.gbs);
  }
  std::printf(
      "  (the bandwidth on offer drifts on a shared machine: each run below is also set against "
      "the copy timed between its own repetitions)\n");
  auto copy_at = [&](int th) -> CopyKernel& { return th == 1 ? *copies.front() : *copies.back(); };

  // 2. Every backend in cache and far out of it, at 1 and all threads.
  const index_t in_cache = o.quick ? 256 : 512;
  index_t out_cache =
      static_cast<index_t>(std::ceil(std::sqrt(8.0 * static_cast<double>(cc.llc) / 8.0)));
  out_cache = (out_cache + 63) / 64 * 64;
  if (o.quick) out_cache = std::max<index_t>(out_cache / 2, 1024);
  std::vector<Row> rows;
  std::printf(
      "\nBackends on the case-study stencil, random initial field (roofline = MLUP/s x "
      "16 B / copy bandwidth at the same thread count, timed between the repetitions):\n");
  std::printf("  %-22s %-8s %7s %8s %10s %9s %9s %9s %8s\n", "grid", "backend", "threads", "steps",
              "MLUP/s", "GB/s", "copy GB/s", "roofline", "spread");
  for (const auto& [label, n] : std::vector<std::pair<std::string, index_t>>{
           {"in cache", in_cache}, {out_of_cache_label(out_cache, cc.llc), out_cache}}) {
    const double mb = 8.0 * static_cast<double>(n * n) / 1e6;
    for (const std::string b : {"serial", "simd", "threads", "tiled", "auto"})
      for (int th : thread_counts) {
        if ((b == "serial" || b == "simd") && th != 1) continue;
        const Timing t = time_stencil(b, th, n, 0, reps, copy_at(th), o.quick ? 0.3 : 1.5);
        const double roof = t.gbs() / t.copy_gbs;
        rows.push_back({label, b, th, n, t, roof});
        char grid[64];
        std::snprintf(grid, sizeof grid, "%s %lld^2 (%.0f MB)", label.c_str(),
                      static_cast<long long>(n), mb);
        std::printf("  %-22s %-8s %7d %8lld %10.1f %9.2f %9.2f %9.2f %7.0f%%\n", grid,
                    (b == "auto" ? "auto:" + t.backend : b).c_str(), th,
                    static_cast<long long>(t.steps), t.mlups(), t.gbs(), t.copy_gbs, roof,
                    100 * t.spread);
        std::fflush(stdout);
      }
  }

  // 3. auto against threads at every size from in cache to far out of it: auto must never be
  // more than 5% slower. Where auto runs threads itself there is nothing to compare.
  std::vector<SweepRow> sweep;
  const int sweep_reps = std::max(reps, 2);
  std::printf(
      "\nauto against threads from in cache to out of cache (interleaved repetitions, best of "
      "%d; auto must not be more than 5%% slower):\n",
      sweep_reps);
  std::printf("  %7s %9s %7s %-14s %10s %10s %8s\n", "n", "MB", "threads", "auto runs", "threads",
              "auto", "auto/thr");
  for (int th : thread_counts)
    for (const index_t n : sweep_sizes(in_cache / 2, out_cache)) {
      SweepRow r{n, th, auto_backend_choice(Grid{2, {n, n, 1}, {1, 1, 1}}, th).name, {}, {}};
      const double mb = 2 * 8.0 * static_cast<double>(n * n) / 1e6;
      if (!r.timed()) {
        std::printf("  %7lld %9.1f %7d %-14s %10s %10s %8s  (auto runs threads itself)\n",
                    static_cast<long long>(n), mb, th, r.picked.c_str(), "", "", "1");
      } else {
        std::tie(r.autot, r.threadst) =
            time_auto_vs_threads(th, n, sweep_reps, o.quick ? 0.2 : 0.5);
        std::printf("  %7lld %9.1f %7d %-14s %10.1f %10.1f %8.2f  %s\n", static_cast<long long>(n),
                    mb, th, r.picked.c_str(), r.threadst.mlups(), r.autot.mlups(), r.ratio(),
                    r.ratio() >= 0.95 ? "ok" : "auto SLOWER than threads by more than 5%");
      }
      sweep.push_back(r);
      std::fflush(stdout);
    }

  // 4. The case study at its defaults, each backend at all threads, against the reference.
  const index_t study_n = o.quick ? 1200 : 4800;
  const std::int64_t study_steps = o.quick ? 100 : 500;
  std::printf(
      "\nCase study %lld^2, %lld steps (roofline bound = cells x steps x 16 B / copy "
      "bandwidth; serial and simd once, the parallel backends best of %d):\n",
      static_cast<long long>(study_n), static_cast<long long>(study_steps), o.quick ? 1 : 3);
  const double work =
      static_cast<double>(study_n * study_n) * static_cast<double>(study_steps) * kBytesPerUpdate;
  const double bound = work / (bw.back().gbs * 1e9);
  std::printf(
      "  roofline bound at %d threads: %.3f s at the copy bandwidth above; each row is set against "
      "its own, from the copy at %d threads timed between its repetitions\n",
      all, bound, all);
  std::vector<Row> study;
  double reference = 0;
  for (const std::string b : {"serial", "simd", "threads", "tiled", "auto"}) {
    const int th = (b == "serial" || b == "simd") ? 1 : all;
    // The parallel backends best of 3: one run of a second or two is at the machine's mercy.
    const Timing t =
        time_stencil(b, th, study_n, study_steps, th > 1 && !o.quick ? 3 : 1, copy_at(all));
    if (b == "serial") reference = t.seconds;
    const double its_bound = work / (t.copy_gbs * 1e9);
    study.push_back({"case study", b, th, study_n, t, its_bound / t.seconds});
    std::printf(
        "  %-14s %2d threads  %8.3f s  %8.1f MLUP/s  %5.2fx the reference  %5.2fx the "
        "roofline bound (%.3f s at %.1f GB/s)\n",
        (b == "auto" ? "auto:" + t.backend : b).c_str(), th, t.seconds, t.mlups(),
        reference / t.seconds, its_bound / t.seconds, its_bound, t.copy_gbs);
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
           << ", \"gbs\": " << r.t.gbs() << ", \"copy_gbs\": " << r.t.copy_gbs
           << ", \"roofline\": " << r.roofline << "}"
           << (last_list && i + 1 == v.size() ? "\n" : ",\n");
      }
    };
    emit(rows, false);
    emit(study, true);
    js << "  ],\n  \"auto_vs_threads\": [\n";
    for (std::size_t i = 0; i < sweep.size(); ++i) {
      const SweepRow& r = sweep[i];
      js << "    {\"n\": " << r.n << ", \"threads\": " << r.threads
         << ", \"auto_runs\": " << json_str(r.picked);
      if (r.timed())
        js << ", \"steps\": " << r.autot.steps << ", \"auto_seconds\": " << r.autot.seconds
           << ", \"threads_seconds\": " << r.threadst.seconds;
      js << ", \"auto_over_threads\": " << r.ratio() << "}"
         << (i + 1 == sweep.size() ? "\n" : ",\n");
    }
    js << "  ],\n  \"case_study_roofline_bound_seconds\": " << bound << "\n}\n";

    md << "Machine: " << cpu_model() << ", " << all << " threads, L2 " << (cc.l2 >> 10)
       << " KiB, LLC " << (cc.llc >> 20)
       << " MiB.\n\nCopy bandwidth at the start (streaming "
          "stores):";
    char gbs[64];
    for (const auto& b : bw) {
      std::snprintf(gbs, sizeof gbs, " %d thread%s %.2f GB/s;", b.threads,
                    b.threads == 1 ? "" : "s", b.gbs);
      md << gbs;
    }
    md << "\n\n| grid | backend | threads | MLUP/s | GB/s | copy GB/s beside it | fraction of "
          "roofline |\n|---|---|---|---|---|---|---|\n";
    char buf[512];
    for (const Row& r : rows) {
      std::snprintf(buf, sizeof buf, "| %s %lld² | %s | %d | %.1f | %.2f | %.2f | %.2f |\n",
                    r.label.c_str(), static_cast<long long>(r.n),
                    (r.backend == "auto" ? "auto→" + r.t.backend : r.backend).c_str(), r.threads,
                    r.t.mlups(), r.t.gbs(), r.t.copy_gbs, r.roofline);
      md << buf;
    }
    md << "\nauto against threads (speed of auto over threads; at least 0.95 wanted):\n\n"
          "| n | fields MB | threads | auto runs | threads MLUP/s | auto MLUP/s | auto/threads "
          "|\n|---|---|---|---|---|---|---|\n";
    for (const SweepRow& r : sweep) {
      if (r.timed())
        std::snprintf(buf, sizeof buf, "| %lld | %.1f | %d | %s | %.1f | %.1f | %.2f |\n",
                      static_cast<long long>(r.n), 16e-6 * static_cast<double>(r.n * r.n),
                      r.threads, r.picked.c_str(), r.threadst.mlups(), r.autot.mlups(), r.ratio());
      else
        std::snprintf(buf, sizeof buf, "| %lld | %.1f | %d | threads | (the same) | | 1 |\n",
                      static_cast<long long>(r.n), 16e-6 * static_cast<double>(r.n * r.n),
                      r.threads);
      md << buf;
    }
    std::snprintf(
        buf, sizeof buf,
        "\nCase study %lld², %lld steps; roofline bound %.3f s at %d threads at the first copy "
        "bandwidth; each row against the copy timed beside it.\n\n"
        "| backend | threads | seconds | MLUP/s | speedup vs reference | copy GB/s beside it | "
        "× roofline bound |\n|---|---|---|---|---|---|---|\n",
        static_cast<long long>(study_n), static_cast<long long>(study_steps), bound, all);
    md << buf;
    for (const Row& r : study) {
      std::snprintf(buf, sizeof buf, "| %s | %d | %.3f | %.1f | %.2f | %.2f | %.2f |\n",
                    (r.backend == "auto" ? "auto→" + r.t.backend : r.backend).c_str(), r.threads,
                    r.t.seconds, r.t.mlups(), reference / r.t.seconds, r.t.copy_gbs, r.roofline);
      md << buf;
    }
    std::printf("\nwrote %s.json and %s.md\n", o.out.c_str(), o.out.c_str());
  }
  return 0;
}

}  // namespace calor::bench
