// `calor bench scaling`: strong and weak scaling over MPI ranks, in the comparison study's
// format, and the halo-overhead ratio. The command launches `mpiexec -n P calor bench
// scaling-worker ...` for each P and collects one result line from each.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
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

}  // namespace

int bench_scaling_worker(const ScalingWorkerOptions& o, const Comm& procs) {
  // The decomposed problem, timed after one warm-up block of steps.
  const Config c = study_config(o.nx, o.ny, o.steps);
  auto domain = procs.domain(c.problem.grid, c.problem.boundaries);
  Grid block = c.problem.grid;
  for (int a = 0; a < 3; ++a)
    block.n[a] = domain->box().size(a);
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
  const int cores = machine_cores();
  std::vector<int> ranks = o.ranks.empty() ? std::vector<int>{1, 2, 4} : o.ranks;
  const index_t n = o.quick ? 1200 : 4800;
  const std::int64_t steps = o.quick ? 40 : 500;
  const index_t weak_block = o.quick ? 800 : 2400;
  const std::vector<std::string> backends = {"simd", "tiled"};
  const Bandwidth bw =
      measure_copy_bandwidth(std::max<std::size_t>(4 * caches().llc, 64u << 20), cores, 3);
  std::printf(
      "calor bench scaling: %d cores; copy bandwidth %.2f GB/s at %d threads; one thread "
      "per rank\n",
      cores, bw.gbs, cores);
  auto mark = [&](int p) { return p > cores ? " (oversubscribed)" : ""; };

  JsonObject root;
  root.add("cores", cores).add("copy_gbs", bw.gbs);
  std::ostringstream md;
  std::string json_runs = "[";
  auto table = [&](const std::string& title, const std::vector<std::vector<Result>>& rows,
                   bool weak) {
    std::printf("\n%s\n", title.c_str());
    md << "\n**" << title << "**\n\n";
    for (const char* what : {"time (s)", "speedup", "efficiency"}) {
      std::printf("  %-10s %-10s", what, "backend");
      md << "| " << what << " | ";
      for (int p : ranks) {
        std::printf(" %10d%s", p, p > cores ? "*" : " ");
        md << p << (p > cores ? "*" : "") << " | ";
      }
      std::printf("\n");
      md << "\n|---|";
      for (std::size_t i = 0; i < ranks.size(); ++i)
        md << "---|";
      md << "\n";
      for (std::size_t b = 0; b < backends.size(); ++b) {
        std::printf("  %-10s %-10s", "", backends[b].c_str());
        md << "| " << backends[b] << " | ";
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
    if (ranks.back() > cores) {
      std::printf("  * more ranks than the %d cores: oversubscribed, time-shared\n", cores);
      md << "\n\\* more ranks than the " << cores << " cores: oversubscribed, time-shared.\n";
    }
  };

  std::vector<std::vector<Result>> strong(backends.size()), weak(backends.size());
  for (std::size_t b = 0; b < backends.size(); ++b)
    for (int p : ranks) {
      char args[256];
      std::snprintf(args, sizeof args, "--nx %lld --ny %lld --steps %lld --backend %s",
                    static_cast<long long>(n), static_cast<long long>(n),
                    static_cast<long long>(steps), backends[b].c_str());
      strong[b].push_back(launch(p, args));
      const Result& r = strong[b].back();
      std::printf("  strong %-6s P=%d%s: %.3f s (%s), halo overhead %.3f\n", backends[b].c_str(), p,
                  mark(p), r.seconds, r.layout.c_str(), r.seconds / r.local);
      std::fflush(stdout);
      json_runs +=
          (json_runs.size() > 1 ? ", " : "") + JsonObject()
                                                   .add("kind", "strong")
                                                   .add("backend", backends[b])
                                                   .add("ranks", p)
                                                   .add("oversubscribed", p > cores)
                                                   .add("n", static_cast<long long>(n))
                                                   .add("steps", static_cast<long long>(steps))
                                                   .add("seconds", r.seconds)
                                                   .add("local_seconds", r.local)
                                                   .str();
    }
  for (std::size_t b = 0; b < backends.size(); ++b)
    for (int p : ranks) {
      // A fixed block per rank: the global grid grows along y.
      char args[256];
      std::snprintf(args, sizeof args, "--nx %lld --ny %lld --steps %lld --backend %s",
                    static_cast<long long>(weak_block), static_cast<long long>(weak_block * p),
                    static_cast<long long>(steps), backends[b].c_str());
      weak[b].push_back(launch(p, args));
      json_runs += ", " + JsonObject()
                              .add("kind", "weak")
                              .add("backend", backends[b])
                              .add("ranks", p)
                              .add("oversubscribed", p > cores)
                              .add("block", static_cast<long long>(weak_block))
                              .add("steps", static_cast<long long>(steps))
                              .add("seconds", weak[b].back().seconds)
                              .add("local_seconds", weak[b].back().local)
                              .str();
    }
  char title[256];
  std::snprintf(title, sizeof title, "Strong scaling: %lld^2, %lld steps",
                static_cast<long long>(n), static_cast<long long>(steps));
  table(title, strong, false);
  std::snprintf(title, sizeof title, "Weak scaling: %lld^2 per rank, %lld steps",
                static_cast<long long>(weak_block), static_cast<long long>(steps));
  table(title, weak, true);

  // Halo overhead: time per step with exchange / the same local work without, at 2 ranks.
  const index_t hb = o.quick ? 1024 : 4096;
  const std::int64_t hsteps = o.quick ? 20 : 100;
  char args[256];
  std::snprintf(args, sizeof args, "--nx %lld --ny %lld --steps %lld --backend simd",
                static_cast<long long>(hb), static_cast<long long>(2 * hb),
                static_cast<long long>(hsteps));
  // With the exchange overlapped (the default), then blocking (CALOR_OVERLAP=0), same run.
  const Result h = launch(2, args);
  const Result hb_blocking = launch(2, args, "-x CALOR_OVERLAP=0");
  std::printf(
      "\nHalo overhead at 2 ranks, %lld^2 per rank, %lld steps (simd), time with exchange / the "
      "same local work without:\n  overlapped %.3f s / %.3f s: ratio %.3f\n  blocking   %.3f s "
      "/ %.3f s: ratio %.3f\n",
      static_cast<long long>(hb), static_cast<long long>(hsteps), h.seconds, h.local,
      h.seconds / h.local, hb_blocking.seconds, hb_blocking.local,
      hb_blocking.seconds / hb_blocking.local);
  md << "\nHalo overhead at 2 ranks, " << hb << "² per rank: ratio " << h.seconds / h.local
     << " overlapped (" << h.seconds << " s with exchange, " << h.local << " s without), "
     << hb_blocking.seconds / hb_blocking.local << " blocking.\n";
  root.raw("runs", json_runs + "]")
      .add("halo_overhead_ratio", h.seconds / h.local)
      .add("halo_overhead_ratio_blocking", hb_blocking.seconds / hb_blocking.local);

  if (!o.out.empty()) {
    std::ofstream js(o.out + ".json"), mdf(o.out + ".md");
    if (!js || !mdf)
      throw Error("cannot write " + o.out + ".json / .md: check the directory exists");
    js << root.str() << "\n";
    mdf << "Copy bandwidth " << bw.gbs << " GB/s at " << cores << " threads; one thread per rank.\n"
        << md.str();
    std::printf("\nwrote %s.json and %s.md\n", o.out.c_str(), o.out.c_str());
  }
  return 0;
}

}  // namespace calor::bench
