#include "commands.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "calor/analytic.hpp"
#include "calor/backend.hpp"
#include "calor/error.hpp"
#include "calor/machine.hpp"
#include "calor/npy.hpp"
#include "calor/solver.hpp"
#include "json.hpp"
#include "processes.hpp"
#include "progress.hpp"

namespace calor::app {

namespace {

int threads_used = 1;

std::string grid_string(const Grid& g) {
  std::string s;
  for (int a = 0; a < g.dim; ++a)
    s += (a ? " x " : "") + std::to_string(g.n[a]);
  return s;
}

std::string boundary_string(const Boundaries& bc, int dim) {
  // One word when all faces agree, else the list of faces.
  bool same = true;
  for (int a = 0; a < dim; ++a)
    for (int s = 0; s < 2; ++s)
      same = same && describe(bc.face[a][s]) == describe(bc.face[0][0]);
  if (same) return describe(bc.face[0][0]);
  std::string r;
  for (int a = 0; a < dim; ++a)
    for (int s = 0; s < 2; ++s)
      r += (r.empty() ? "" : ", ") + face_name(a, s) + " " + describe(bc.face[a][s]);
  return r;
}

struct Summary {
  const Problem& p;
  std::string backend, backend_reason, processes;
  int threads;
  std::int64_t steps;
  Stats stats;
  double seconds;
  std::optional<double> error;

  [[nodiscard]] double mlups() const {
    return seconds > 0
               ? static_cast<double>(p.grid.cells()) * static_cast<double>(steps) / seconds / 1e6
               : 0.0;
  }
  [[nodiscard]] double gbs() const { return mlups() * kBytesPerUpdate / 1e3; }
};

void print_text(const Summary& s) {
  const Problem& p = s.p;
  std::printf("calor run: %s, %dD grid %s, boundary %s, %zu point source%s\n", p.name.c_str(),
              p.grid.dim, grid_string(p.grid).c_str(),
              boundary_string(p.boundaries, p.grid.dim).c_str(), p.sources.points.size(),
              p.sources.points.size() == 1 ? "" : "s");
  std::printf("  backend     %s (%s)\n", s.backend.c_str(), s.backend_reason.c_str());
  std::printf("  processes   %s, %d thread%s each\n", s.processes.c_str(), s.threads,
              s.threads == 1 ? "" : "s");
  std::printf("  steps       %lld   dt %g   alpha %g   r = %g (FTCS limit 0.5)\n",
              static_cast<long long>(s.steps), p.dt, p.alpha, p.stability_number());
  std::printf("  heat        %.4f\n", s.stats.heat);
  std::printf("  min         %.6e\n", s.stats.min);
  std::printf("  max         %.6e\n", s.stats.max);
  std::printf("  l2          %.6e\n", s.stats.l2);
  if (s.error) std::printf("  error       %.3e (RMS vs the exact solution)\n", *s.error);
  std::printf("  time        %.3f s\n", s.seconds);
  std::printf("  throughput  %.1f MLUP/s, %.2f GB/s effective (%d B per cell update)\n", s.mlups(),
              s.gbs(), kBytesPerUpdate);
}

void print_json(const Summary& s) {
  const Problem& p = s.p;
  std::string n = "[";
  for (int a = 0; a < p.grid.dim; ++a)
    n += (a ? ", " : "") + std::to_string(p.grid.n[a]);
  JsonObject j;
  j.add("case", p.name).add("dim", p.grid.dim).raw("n", n + "]").add("backend", s.backend);
  j.add("processes", s.processes).add("threads", s.threads);
  j.add("steps", static_cast<long long>(s.steps)).add("dt", p.dt).add("alpha", p.alpha);
  j.add("r", p.stability_number()).add("heat", s.stats.heat).add("min", s.stats.min);
  j.add("max", s.stats.max).add("l2", s.stats.l2).add("seconds", s.seconds);
  j.add("mlups", s.mlups()).add("gbs", s.gbs());
  if (s.error) j.add("error", *s.error);
  std::printf("%s\n", j.str().c_str());
}

}  // namespace

int run_command(const RunOptions& o, const Processes& procs) {
  // Set-up can fail on some ranks only (a file one node cannot read): every rank reports whether
  // it succeeded before any collective step, so that no rank waits for one that gave up.
  std::unique_ptr<Solver> solver;
  std::string reason;
  try {
    const Config c = o.config_path.empty() ? load_config("", "command line", o.overrides)
                                           : load_config_file(o.config_path, o.overrides);
    BackendOptions bo{c.run.threads, c.run.tile_depth};
    // Share each node's cores between the ranks on it unless told otherwise.
    if (bo.threads == 0 && procs.local_size() > 1)
      bo.threads = std::max(1, default_threads() / procs.local_size());
    auto domain = procs.domain(c.problem.grid, c.problem.boundaries);
    Grid block = c.problem.grid;
    for (int a = 0; a < 3; ++a)
      block.n[a] = domain->box().size(a);
    auto backend = select_backend(c.run.backend, bo, block, &reason);
    solver = std::make_unique<Solver>(c.problem, std::move(backend), domain);
    threads_used = bo.threads > 0 ? bo.threads : default_threads();
  } catch (const Error& e) {
    if (!procs.agree(false, e.what())) return 1;
  }
  if (!procs.agree(true, "")) return 1;

  const Problem& p = solver->problem();
  ProgressReporter progress(o.progress && procs.root() ? ProgressReporter::automatic()
                                                       : ProgressReporter::Mode::none);
  solver->domain().barrier();
  double seconds = 0;
  try {
    seconds = solver->run([&](const Progress& pr) { progress(pr); }, progress.interval());
    solver->domain().barrier();
    seconds = solver->domain().max_over_ranks(seconds);
  } catch (const std::exception& e) {
    procs.abort(e.what(), 1);
  }
  progress.finish();

  const bool need_global = !o.save_npy.empty() || has_analytic_solution(p);
  const std::vector<double> global = need_global ? solver->gather() : std::vector<double>{};
  const Stats stats = solver->stats();
  if (!procs.root()) return 0;
  if (!o.save_npy.empty()) {
    std::vector<std::int64_t> shape;
    for (int a = p.grid.dim - 1; a >= 0; --a)
      shape.push_back(p.grid.n[a]);
    save_npy(o.save_npy, shape, global.data());
  }
  const Summary s{p,
                  std::string(solver->backend().name()),
                  reason,
                  solver->domain().describe(),
                  threads_used,
                  solver->step_count(),
                  stats,
                  seconds,
                  has_analytic_solution(p) ? analytic_error(p, global, solver->time())
                                           : std::optional<double>{}};
  if (o.json)
    print_json(s);
  else
    print_text(s);
  return 0;
}

}  // namespace calor::app
