// `calor bench scaling`: strong and weak scaling over MPI ranks, in the comparison study's
// format, and the halo-overhead ratio. The command launches `mpiexec -n P calor bench
// scaling-worker ...` for each P and collects one result line from each.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "bandwidth.hpp"
#include "bench.hpp"
#include "calor/backend.hpp"
#include "calor/comm.hpp"
#include "calor/config.hpp"
#include "calor/error.hpp"
#include "calor/machine.hpp"
#include "calor/solver.hpp"
#include "json.hpp"
#include "launch.hpp"

namespace calor::bench {

namespace {

double time_steps(Solver& s, std::int64_t steps) {
  s.domain().barrier();
  const auto t0 = std::chrono::steady_clock::now();
  s.step(steps);
  s.domain().barrier();
  const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s.domain().max_over_ranks(t);
}

Config study_config(index_t nx, index_t ny, std::int64_t steps) {
  return load_config("preset = \"stencil\"", "bench",
                     {{"n", "[" + std::to_string(nx) + ", " + std::to_string(ny) + "]", "bench"},
                      {"steps", std::to_string(steps), "bench"}});
}

struct Result {
  int ranks = 1;
  double seconds = 0, local = 0;  // decomposed run, and the same local work without exchange
  std::string layout;
};

// One run of the worker under mpiexec.
Result launch(int ranks, const std::string& args, const std::string& mpiexec_options = "") {
  const WorkerResult w = launch_worker(ranks, "scaling-worker " + args, mpiexec_options);
  return {static_cast<int>(w.number("ranks")), w.number("seconds"), w.number("local"),
          w.text("layout")};
}

// What this run of `calor bench scaling` measures, and the machine it runs on.
struct ScalingSetup {
  int cores = 1;
  std::vector<int> ranks;  // process counts
  index_t n = 0;           // strong scaling: the global grid's edge
  std::int64_t steps = 0;
  index_t weak_block = 0;  // weak scaling: each rank's block edge
  std::vector<std::string> backends;
};

ScalingSetup scaling_setup(const BenchOptions& o) {
  ScalingSetup s;
  s.cores = machine_cores();
  s.ranks = o.ranks.empty() ? std::vector<int>{1, 2, 4} : o.ranks;
  s.n = o.quick ? 1200 : 4800;
  s.steps = o.quick ? 40 : 500;
  s.weak_block = o.quick ? 800 : 2400;
  s.backends = {"simd", "tiled"};
  return s;
}

// The worker's command line for an nx x ny grid.
std::string worker_args(index_t nx, index_t ny, std::int64_t steps, const std::string& backend) {
  char args[256];
  std::snprintf(args, sizeof args, "--nx %lld --ny %lld --steps %lld --backend %s",
                static_cast<long long>(nx), static_cast<long long>(ny),
                static_cast<long long>(steps), backend.c_str());
  return args;
}

// Results by backend, then by process count (in the order of ScalingSetup::ranks).
using Series = std::vector<std::vector<Result>>;

// Strong scaling: the same global grid at every process count, each run printed as it comes
// and appended to the JSON list `json_runs`.
Series run_strong(const ScalingSetup& s, std::string& json_runs) {
  Series strong(s.backends.size());
  for (std::size_t b = 0; b < s.backends.size(); ++b)
    for (int p : s.ranks) {
      strong[b].push_back(launch(p, worker_args(s.n, s.n, s.steps, s.backends[b])));
      const Result& r = strong[b].back();
      std::printf("  strong %-6s P=%d%s: %.3f s (%s), halo overhead %.3f\n", s.backends[b].c_str(),
                  p, p > s.cores ? " (oversubscribed)" : "", r.seconds, r.layout.c_str(),
                  r.seconds / r.local);
      std::fflush(stdout);
      json_runs +=
          (json_runs.size() > 1 ? ", " : "") + JsonObject()
                                                   .add("kind", "strong")
                                                   .add("backend", s.backends[b])
                                                   .add("ranks", p)
                                                   .add("oversubscribed", p > s.cores)
                                                   .add("n", static_cast<long long>(s.n))
                                                   .add("steps", static_cast<long long>(s.steps))
                                                   .add("seconds", r.seconds)
                                                   .add("local_seconds", r.local)
                                                   .str();
    }
  return strong;
}

// Weak scaling: a fixed block per rank, the global grid growing along y; each run appended to
// the JSON list `json_runs` (after the strong ones).
Series run_weak(const ScalingSetup& s, std::string& json_runs) {
  Series weak(s.backends.size());
  for (std::size_t b = 0; b < s.backends.size(); ++b)
    for (int p : s.ranks) {
      weak[b].push_back(
          launch(p, worker_args(s.weak_block, s.weak_block * p, s.steps, s.backends[b])));
      json_runs += ", " + JsonObject()
                              .add("kind", "weak")
                              .add("backend", s.backends[b])
                              .add("ranks", p)
                              .add("oversubscribed", p > s.cores)
                              .add("block", static_cast<long long>(s.weak_block))
                              .add("steps", static_cast<long long>(s.steps))
                              .add("seconds", weak[b].back().seconds)
                              .add("local_seconds", weak[b].back().local)
                              .str();
    }
  return weak;
}

// One part of a scaling table, on stdout and in Markdown: `what` (time, speedup or efficiency)
// for each backend at each process count. Weak scaling's speedup counts the work growing with P.
void print_scaling_part(const ScalingSetup& s, const char* what, const Series& rows, bool weak,
                        std::ostream& md) {
  std::printf("  %-10s %-10s", what, "backend");
  md << "| " << what << " | ";
  for (int p : s.ranks) {
    std::printf(" %10d%s", p, p > s.cores ? "*" : " ");
    md << p << (p > s.cores ? "*" : "") << " | ";
  }
  std::printf("\n");
  md << "\n|---|";
  for (std::size_t i = 0; i < s.ranks.size(); ++i)
    md << "---|";
  md << "\n";
  for (std::size_t b = 0; b < s.backends.size(); ++b) {
    std::printf("  %-10s %-10s", "", s.backends[b].c_str());
    md << "| " << s.backends[b] << " | ";
    const double t1 = rows[b].front().seconds;
    for (const Result& r : rows[b]) {
      const double speedup = weak ? t1 / r.seconds * r.ranks : t1 / r.seconds;
      const double value = std::string(what) == "time (s)"  ? r.seconds
                           : std::string(what) == "speedup" ? speedup
                                                            : speedup / r.ranks;
      std::printf(" %11.3f", value);
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.3f", value);
      md << buf << " | ";
    }
    std::printf("\n");
    md << "\n";
  }
}

// A scaling table in the comparison study's format (time, speedup, efficiency), on stdout and
// in Markdown.
void print_scaling_table(const ScalingSetup& s, const std::string& title, const Series& rows,
                         bool weak, std::ostream& md) {
  std::printf("\n%s\n", title.c_str());
  md << "\n**" << title << "**\n\n";
  for (const char* what : {"time (s)", "speedup", "efficiency"})
    print_scaling_part(s, what, rows, weak, md);
  if (s.ranks.back() > s.cores) {
    std::printf("  * more ranks than the %d cores: oversubscribed, time-shared\n", s.cores);
    md << "\n\\* more ranks than the " << s.cores << " cores: oversubscribed, time-shared.\n";
  }
}

// Halo overhead at 2 ranks: time per step with exchange / the same local work without, with
// the exchange overlapped (the default), then blocking (CALOR_OVERLAP=0), on the same run.
struct HaloOverhead {
  index_t block = 0;  // each rank's block edge
  std::int64_t steps = 0;
  Result overlapped, blocking;
  [[nodiscard]] double ratio() const { return overlapped.seconds / overlapped.local; }
  [[nodiscard]] double ratio_blocking() const { return blocking.seconds / blocking.local; }
};

HaloOverhead measure_halo_overhead(bool quick) {
  HaloOverhead h;
  h.block = quick ? 1024 : 4096;
  h.steps = quick ? 20 : 100;
  const std::string args = worker_args(h.block, 2 * h.block, h.steps, "simd");
  h.overlapped = launch(2, args);
  h.blocking = launch(2, args, "-x CALOR_OVERLAP=0");
  std::printf(
      "\nHalo overhead at 2 ranks, %lld^2 per rank, %lld steps (simd), time with exchange / the "
      "same local work without:\n  overlapped %.3f s / %.3f s: ratio %.3f\n  blocking   %.3f s "
      "/ %.3f s: ratio %.3f\n",
      static_cast<long long>(h.block), static_cast<long long>(h.steps), h.overlapped.seconds,
      h.overlapped.local, h.ratio(), h.blocking.seconds, h.blocking.local, h.ratio_blocking());
  return h;
}

}  // namespace

int bench_scaling_worker(const ScalingWorkerOptions& o, const Comm& procs) {
  // The decomposed problem, timed after one warm-up block of steps.
  const Config c = study_config(o.nx, o.ny, o.steps);
  auto domain = procs.domain(c.problem.grid, c.problem.boundaries);
  const Grid block = domain->box().grid_in(c.problem.grid);
  const BackendOptions bo{o.threads, o.depth};
  Solver s(c.problem, select_backend(o.backend, bo, block), domain);
  s.step(std::min<std::int64_t>(o.steps, 8));
  const double seconds = time_steps(s, o.steps);
  // The same local block as its own problem: identical work per rank, no exchange.
  const Config lc = study_config(block.n[0], block.n[1], o.steps);
  Solver local(lc.problem, select_backend(o.backend, bo, block),
               std::make_shared<WholeDomain>(lc.problem.grid));
  local.step(std::min<std::int64_t>(o.steps, 8));
  double t = 0;
  {
    procs.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    local.step(o.steps);
    procs.barrier();
    t = procs.max(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (procs.root())
    std::printf("RESULT ranks=%d seconds=%.6f local=%.6f layout=%s\n", procs.size(), seconds, t,
                s.domain().describe().c_str());
  return 0;
}

int bench_scaling_command(const BenchOptions& o) {
  const ScalingSetup s = scaling_setup(o);
  const Bandwidth bw =
      measure_copy_bandwidth(std::max<std::size_t>(4 * caches().llc, 64u << 20), s.cores, 3);
  std::printf(
      "calor bench scaling: %d cores; copy bandwidth %.2f GB/s at %d threads; one thread "
      "per rank\n",
      s.cores, bw.gbs, s.cores);

  std::string json_runs = "[";
  const Series strong = run_strong(s, json_runs);
  const Series weak = run_weak(s, json_runs);
  std::ostringstream md;
  char title[256];
  std::snprintf(title, sizeof title, "Strong scaling: %lld^2, %lld steps",
                static_cast<long long>(s.n), static_cast<long long>(s.steps));
  print_scaling_table(s, title, strong, false, md);
  std::snprintf(title, sizeof title, "Weak scaling: %lld^2 per rank, %lld steps",
                static_cast<long long>(s.weak_block), static_cast<long long>(s.steps));
  print_scaling_table(s, title, weak, true, md);

  const HaloOverhead h = measure_halo_overhead(o.quick);
  md << "\nHalo overhead at 2 ranks, " << h.block << "² per rank: ratio " << h.ratio()
     << " overlapped (" << h.overlapped.seconds << " s with exchange, " << h.overlapped.local
     << " s without), " << h.ratio_blocking() << " blocking.\n";
  JsonObject root;
  root.add("cores", s.cores).add("copy_gbs", bw.gbs);
  root.raw("runs", json_runs + "]")
      .add("halo_overhead_ratio", h.ratio())
      .add("halo_overhead_ratio_blocking", h.ratio_blocking());

  if (!o.out.empty())
    write_results(
        o.out, [&](std::ostream& js) { js << root.str() << "\n"; },
        [&](std::ostream& mdf) {
          mdf << "Copy bandwidth " << bw.gbs << " GB/s at " << s.cores
              << " threads; one thread per rank.\n"
              << md.str();
        });
  return 0;
}

}  // namespace calor::bench
