#include "commands.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "calor/analytic.hpp"
#include "calor/backend.hpp"
#include "calor/error.hpp"
#include "calor/health.hpp"
#include "calor/image.hpp"
#include "calor/io.hpp"
#include "calor/machine.hpp"
#include "calor/npy.hpp"
#include "calor/solver.hpp"
#include "calor/spectral.hpp"
#include "json.hpp"
#include "processes.hpp"
#include "progress.hpp"
#include "signals.hpp"

namespace calor::app {

namespace {

int threads_used = 1;

// out.h5 -> out.xmf
std::string xdmf_path(const std::string& h5) {
  const auto dot = h5.rfind('.');
  const auto slash = h5.rfind('/');
  const bool ext = dot != std::string::npos && (slash == std::string::npos || dot > slash);
  return (ext ? h5.substr(0, dot) : h5) + ".xmf";
}

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
  std::string backend, backend_reason, backend_plan, processes;
  int threads;
  std::int64_t steps;  // the step reached
  std::int64_t ran;    // steps taken by this run (fewer after a restart)
  Stats stats;
  double seconds;
  std::optional<double> error;

  [[nodiscard]] double mlups() const {
    return seconds > 0
               ? static_cast<double>(p.grid.cells()) * static_cast<double>(ran) / seconds / 1e6
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
  if (!s.backend_plan.empty()) std::printf("  tiling      %s\n", s.backend_plan.c_str());
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
  if (!s.backend_plan.empty()) j.add("tiling", s.backend_plan);
  j.add("processes", s.processes).add("threads", s.threads);
  j.add("steps", static_cast<long long>(s.steps)).add("dt", p.dt).add("alpha", p.alpha);
  j.add("r", p.stability_number()).add("heat", s.stats.heat).add("min", s.stats.min);
  j.add("max", s.stats.max).add("l2", s.stats.l2).add("seconds", s.seconds);
  j.add("mlups", s.mlups()).add("gbs", s.gbs());
  if (s.error) j.add("error", *s.error);
  std::printf("%s\n", j.str().c_str());
}

// The whole interior, in NumPy order (z, y, x).
void save_field_npy(const std::string& path, const Grid& g, const std::vector<double>& global) {
  std::vector<std::int64_t> shape;
  for (int a = g.dim - 1; a >= 0; --a)
    shape.push_back(g.n[a]);
  save_npy(path, shape, global.data());
}

void print_summary(const Summary& s, bool json) {
  if (json)
    print_json(s);
  else
    print_text(s);
}

// method = "spectral": the whole run is one transform, one multiplication per mode and one
// inverse transform, whatever the number of steps (periodic or zero-Dirichlet faces; see
// calor/spectral.hpp).
int run_spectral(const Config& c, const RunOptions& o, const Processes& procs) {
  const RunSettings& run = c.run;
  if (!run.output.empty() || !run.checkpoint.empty() || !run.png.empty() || !o.restart.empty())
    throw Error(
        "method = \"spectral\" jumps straight to the last step, so it writes no snapshots, "
        "PNG frames or checkpoints and cannot restart; drop --output/--png/--checkpoint/"
        "--restart, or use method = \"stencil\" (--method stencil); --save-npy writes the result");
  SpectralOptions so;
  so.mode = spectral_mode_from_string(run.spectral_mode);
  so.threads = run.threads;
  if (so.threads == 0 && procs.local_size() > 1)
    so.threads = std::max(1, default_threads() / procs.local_size());
  so.planning = run.fft_planning == "measure"   ? FftPlanning::measure
                : run.fft_planning == "patient" ? FftPlanning::patient
                                                : FftPlanning::estimate;
  std::optional<SpectralSolver> solver;
  const auto start = std::chrono::steady_clock::now();
#if defined(CALOR_HAVE_FFTW_MPI)
  if (procs.size() > 1) {
    if (!run.fft_wisdom.empty()) import_fft_wisdom(run.fft_wisdom, MPI_COMM_WORLD);
    solver.emplace(c.problem, so, MPI_COMM_WORLD);
  }
#endif
  if (!solver) {
    if (procs.size() > 1)
      throw Error(
          "this calor was built without FFTW's MPI library: run the spectral method on "
          "one process, or install libfftw3-mpi-dev and rebuild");
    if (!run.fft_wisdom.empty()) import_fft_wisdom(run.fft_wisdom);
    solver.emplace(c.problem, so);
  }
  solver->solve();
  const std::vector<double> global = solver->gather();  // collective
  const Stats stats = solver->stats();
  const double seconds =
      procs.max(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
#if defined(CALOR_HAVE_FFTW_MPI)
  if (!run.fft_wisdom.empty() && procs.size() > 1)
    export_fft_wisdom(run.fft_wisdom, MPI_COMM_WORLD);
#endif
  if (!procs.root()) return 0;
  if (!run.fft_wisdom.empty() && procs.size() == 1) export_fft_wisdom(run.fft_wisdom);
  const Problem& p = c.problem;
  if (!o.save_npy.empty()) save_field_npy(o.save_npy, p.grid, global);
  const Summary s{p,
                  "spectral",
                  std::string(to_string(so.mode)) + " mode: " + solver->describe(),
                  "",
                  procs.size() == 1 ? "1 process" : std::to_string(procs.size()) + " ranks",
                  solver->options().threads > 0 ? solver->options().threads : default_threads(),
                  solver->step_count(),
                  solver->step_count(),
                  stats,
                  seconds,
                  has_analytic_solution(p) ? analytic_error(p, global, solver->time())
                                           : std::optional<double>{}};
  print_summary(s, o.json);
  return 0;
}

}  // namespace

int run_command(const RunOptions& o, const Processes& procs) {
  // Set-up can fail on some ranks only (a file one node cannot read): every rank reports whether
  // it succeeded before any collective step, so that no rank waits for one that gave up.
  std::unique_ptr<Solver> solver;
  std::string reason;
  RunSettings run;
  const RunOptions& settings = o;
  try {
    const Config c = o.config_path.empty() ? load_config("", "command line", o.overrides)
                                           : load_config_file(o.config_path, o.overrides);
    run = c.run;
    if (run.method == "spectral") return run_spectral(c, o, procs);
    BackendOptions bo{c.run.threads, c.run.tile_depth, c.run.tile_width};
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
  const Domain& dom = solver->domain();
  std::int64_t first_step = 0;  // > 0 after a restart

  // Restart: the checkpoint's field and step replace the initial condition.
  if (!settings.restart.empty()) {
    try {
      restore_checkpoint(*solver, settings.restart, settings.force);
    } catch (const Error& e) {
      // Every rank reads the same file and fails alike.
      procs.agree(false, e.what());
      return 1;
    }
    first_step = solver->step_count();
    if (procs.root() && o.progress)
      std::fprintf(stderr, "calor: restarted from %s at step %lld\n", settings.restart.c_str(),
                   static_cast<long long>(first_step));
  }

  ProgressReporter progress(o.progress && procs.root() ? ProgressReporter::automatic()
                                                       : ProgressReporter::Mode::none);
  std::optional<SnapshotWriter> snapshots;
  if (!run.output.empty()) snapshots.emplace(run.output, xdmf_path(run.output));
  // Chunks stop at every step-based event.
  std::int64_t stride = 0;
  for (std::int64_t e :
       {run.output_every.steps, run.checkpoint_every.steps, run.check_every, run.png_every})
    if (e > 0) stride = stride == 0 ? e : std::gcd(stride, e);
  double last_output = 0, last_checkpoint = 0;
  auto due = [&](const Every& every, std::int64_t step, double now, double& last) {
    const bool by_steps = every.steps > 0 && step % every.steps == 0;
    const bool by_time = every.seconds > 0 && now - last >= every.seconds;
    if (by_steps || by_time) last = now;
    return by_steps || by_time;
  };
  install_stop_signals();
  bool failed = false, interrupted = false;
  std::string checkpoint_written;
  auto after_chunk = [&](const Progress& pr) {
    progress(pr);
    const double now = dom.max_over_ranks(pr.seconds);  // time-based events: one decision
    const bool last = pr.step == pr.total;
    const bool stop = dom.max_over_ranks(stop_requested() ? 1.0 : 0.0) > 0;
    if ((run.check_every > 0 && pr.step % run.check_every == 0) || last || stop) {
      const std::string problem = check_field(*solver);
      if (!procs.agree(problem.empty(), problem)) {
        failed = true;
        return false;
      }
    }
    if (snapshots && (due(run.output_every, pr.step, now, last_output) || last))
      snapshots->write(*solver);
    if (!run.png.empty() && run.png_every > 0 && pr.step % run.png_every == 0)
      write_png_frame(*solver, run.png);
    if (!run.checkpoint.empty() &&
        (due(run.checkpoint_every, pr.step, now, last_checkpoint) || last)) {
      write_checkpoint(*solver, run.checkpoint);
      checkpoint_written = run.checkpoint;
    }
    if (stop) {
      // Interrupted: save the state (unless just saved) so that the job can be resubmitted.
      const std::string path = run.checkpoint.empty() ? "calor_checkpoint.h5" : run.checkpoint;
      if (checkpoint_written != path || !due(Every{1, 0}, pr.step, now, last_checkpoint))
        write_checkpoint(*solver, path);
      checkpoint_written = path;
      interrupted = true;
      return false;
    }
    return true;
  };
  dom.barrier();
  double seconds = 0;
  try {
    seconds = solver->run(after_chunk, progress.interval(), stride);
    dom.barrier();
    seconds = dom.max_over_ranks(seconds);
  } catch (const std::exception& e) {
    // An I/O failure is collective (every rank fails alike) but other errors may not be.
    procs.abort(e.what(), 1);
  }
  progress.finish();
  if (failed) return 1;
  if (interrupted) {
    if (procs.root())
      std::fprintf(stderr,
                   "calor: interrupted at step %lld of %lld; state saved to %s. Resubmit with "
                   "--restart %s (exit status %d)\n",
                   static_cast<long long>(solver->step_count()), static_cast<long long>(p.steps),
                   checkpoint_written.c_str(), checkpoint_written.c_str(), kExitInterrupted);
    return kExitInterrupted;
  }

  const bool need_global = !o.save_npy.empty() || has_analytic_solution(p);
  const std::vector<double> global = need_global ? solver->gather() : std::vector<double>{};
  const Stats stats = solver->stats();
  if (!procs.root()) return 0;
  if (!o.save_npy.empty()) save_field_npy(o.save_npy, p.grid, global);
  const Summary s{p,
                  std::string(solver->backend().name()),
                  reason,
                  solver->backend().plan(),
                  solver->domain().describe(),
                  threads_used,
                  solver->step_count(),
                  solver->step_count() - first_step,
                  stats,
                  seconds,
                  has_analytic_solution(p) ? analytic_error(p, global, solver->time())
                                           : std::optional<double>{}};
  print_summary(s, o.json);
  return 0;
}

int render_command(const RenderOptions& o) {
  std::vector<std::int64_t> shape;
  std::string name;
  const auto field = read_dataset(o.input, o.dataset, shape, &name);
  std::int64_t nx = 0, ny = 0;
  const auto plane = image_plane(field, shape, o.slice, nx, ny);
  std::string out = o.output;
  if (out.empty()) {
    const auto dot = o.input.rfind('.');
    out = (dot == std::string::npos ? o.input : o.input.substr(0, dot)) + ".png";
  }
  write_heatmap_png(out, plane, nx, ny, o.input + ":" + name);
  std::printf("wrote %s (%s, %lld x %lld)\n", out.c_str(), name.c_str(), static_cast<long long>(nx),
              static_cast<long long>(ny));
  return 0;
}

}  // namespace calor::app
