#include "commands.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "calor/backend.hpp"
#include "calor/error.hpp"
#include "calor/image.hpp"
#include "calor/machine.hpp"
#include "calor/output.hpp"
#include "calor/run.hpp"
#include "calor/signals.hpp"
#include "calor/version.hpp"
#include "json.hpp"
#include "progress.hpp"

namespace calor::app {

namespace {

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

// What the run summary shows: the run's own account, gathered once (collective).
struct Summary {
  const Problem& p;
  std::string backend, backend_reason, backend_plan, processes;
  int threads;
  std::int64_t steps;  // the step reached
  RunReport report;
  Stats stats;
  std::optional<double> error;

  [[nodiscard]] double mlups() const { return report.mlups(p.grid); }
  [[nodiscard]] double gbs() const { return mlups() * bytes_per_update(p) / 1e3; }
  [[nodiscard]] double seconds() const { return report.seconds; }
};

// What the run is, printed before it starts (so before the progress bar).
void print_header(const Run& run) {
  const Problem& p = run.problem();
  std::printf("calor run: %s, %dD grid %s, boundary %s, %zu point source%s\n", p.name.c_str(),
              p.grid.dim, grid_string(p.grid).c_str(),
              boundary_string(p.boundaries, p.grid.dim).c_str(), p.sources.points.size(),
              p.sources.points.size() == 1 ? "" : "s");
  std::printf("  backend     %s (%s)\n", run.engine().c_str(), run.engine_reason().c_str());
  std::printf("  processes   %s, %d thread%s each\n", run.processes().c_str(), run.threads(),
              run.threads() == 1 ? "" : "s");
  std::printf("  steps       %lld   dt %g   alpha %g   r = %g (FTCS limit 0.5)\n",
              static_cast<long long>(p.steps), p.dt, p.max_alpha(), p.stability_number());
  if (!p.diffusivity.empty())
    std::printf("  alpha       %s, %s face means (r from the largest)\n",
                describe(p.diffusivity, p.alpha).c_str(),
                p.mean == FaceMean::harmonic ? "harmonic" : "arithmetic");
  if (!p.sources.field.empty())
    std::printf("  heating     %s\n", describe(p.sources.field, 0.0).c_str());
  if (p.time_dependent())
    std::printf(
        "  tables      boundary values or source energies follow time tables: one step "
        "per pass\n");
  std::fflush(stdout);
}

// What the run found and what it cost, printed after it (the tiled backend cuts the grid at
// its first step).
void print_results(const Summary& s) {
  if (!s.backend_plan.empty()) std::printf("  tiling      %s\n", s.backend_plan.c_str());
  std::printf("  heat        %.4f\n", s.stats.heat);
  std::printf("  min         %.6e\n", s.stats.min);
  std::printf("  max         %.6e\n", s.stats.max);
  std::printf("  l2          %.6e\n", s.stats.l2);
  if (s.error) std::printf("  error       %.3e (RMS vs the exact solution)\n", *s.error);
  if (s.report.files_written > 0)
    std::printf("  time        %.3f s (compute %.3f s, output %.3f s for %d file%s)\n", s.seconds(),
                s.seconds() - s.report.io_seconds, s.report.io_seconds, s.report.files_written,
                s.report.files_written == 1 ? "" : "s");
  else
    std::printf("  time        %.3f s\n", s.seconds());
  std::printf("  throughput  %.1f MLUP/s, %.2f GB/s effective (%d B per cell update)\n", s.mlups(),
              s.gbs(), bytes_per_update(s.p));
}

void print_json(const Summary& s) {
  const Problem& p = s.p;
  std::string n = "[";
  for (int a = 0; a < p.grid.dim; ++a)
    n += (a ? ", " : "") + std::to_string(p.grid.n[a]);
  bench::JsonObject j;
  j.add("case", p.name).add("dim", p.grid.dim).raw("n", n + "]").add("backend", s.backend);
  if (!s.backend_plan.empty()) j.add("tiling", s.backend_plan);
  j.add("processes", s.processes).add("threads", s.threads);
  j.add("steps", static_cast<long long>(s.steps)).add("dt", p.dt).add("alpha", p.alpha);
  j.add("r", p.stability_number()).add("heat", s.stats.heat).add("min", s.stats.min);
  j.add("max", s.stats.max).add("l2", s.stats.l2).add("seconds", s.seconds());
  j.add("mlups", s.mlups()).add("gbs", s.gbs());
  j.add("io_seconds", s.report.io_seconds).add("files_written", s.report.files_written);
  if (s.error) j.add("error", *s.error);
  j.add("version", kVersion);
  std::printf("%s\n", j.str().c_str());
}

// The run summary of `run` after `report` (collective: statistics and the exact solution's
// error are computed over every rank).
Summary summarise(const Run& run, const RunReport& report) {
  return Summary{run.problem(),   run.engine(),        run.engine_reason(), run.plan(),
                 run.processes(), run.threads(),       run.step(),          report,
                 run.stats(),     run.analytic_error()};
}

int report_interrupted(const Run& run, const RunReport& report) {
  if (run.comm().root())
    std::fprintf(stderr,
                 "calor: interrupted at step %lld of %lld; state saved to %s. Resume with: "
                 "calor run --restart %s (exit status %d)\n",
                 static_cast<long long>(report.step), static_cast<long long>(run.problem().steps),
                 report.checkpoint.c_str(), report.checkpoint.c_str(), kExitInterrupted);
  return kExitInterrupted;
}

void print_error(const Error& e, const Comm& comm) {
  if (e.rank() >= 0 && e.ranks() > 1) {
    if (comm.root())
      std::fprintf(stderr, "calor: error (rank %d of %d): %s\n", e.rank(), e.ranks(), e.what());
  } else {
    std::fprintf(stderr, "calor: error: %s\n", e.what());
  }
}

// The run's configuration: the file (if any) and the flags. A restart without a file takes the
// problem from the checkpoint; flags on top of it may change how far and how to run and what to
// write, while a changed physics setting is refused by the restart's own comparison, naming it
// (allowed with --force, except the grid).
Config load_run_config(const RunCommand& o) {
  if (!o.config_path.empty()) return load_config_file(o.config_path, o.overrides);
  if (o.restart.empty()) {
    std::vector<Override> all{{"preset", "stencil", "default"}};  // the case study
    all.insert(all.end(), o.overrides.begin(), o.overrides.end());
    return load_config("", "command line", all);
  }
  const CheckpointInfo info = read_checkpoint_info(o.restart, /*verify_seal=*/false);
  if (info.config.empty())
    throw Error("checkpoint '" + o.restart +
                "' does not hold its problem (more point sources than fit in its header): give "
                "the configuration file with --restart");
  return load_config(info.config, "checkpoint '" + o.restart + "'", o.overrides);
}

// More threads on this node than its ranks may run on, or more in a rank than its own cores
// (the launcher bound it to them): each thread then waits for the others at every
// synchronisation, and the run is slower than with fewer.
void warn_oversubscribed(const Run& run, const Comm& comm) {
  const int threads = run.threads(), ranks = comm.local_size();
  const int own = available_cores(), node = comm.node_cores();
  if (!oversubscribed(threads, ranks, own, node)) return;
  const int fit = threads_per_rank(own, node, ranks);
  const std::string fix =
      threads > fit
          ? "use --threads " + std::to_string(fit) + (ranks > 1 ? " (or fewer ranks)" : "")
          : "use at most " + std::to_string(std::max(1, node / threads)) + " ranks on this node";
  const auto count = [](int n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  const bool node_full = static_cast<long long>(threads) * ranks > node;
  const std::string who = ranks == 1 ? count(threads, "thread") + " in a process that may run on " +
                                           count(own, "core") + " (its affinity mask)"
                          : node_full ? count(threads, "thread") + " x " + count(ranks, "rank") +
                                            " on this node, whose ranks may run on " +
                                            count(node, "core") + " between them"
                                      : count(threads, "thread") + " in a rank bound to " +
                                            count(own, "core") + " (its affinity mask)";
  const std::string more =
      ranks == 1 || node_full
          ? ""
          : ", or give each rank more cores (Open MPI: mpiexec --map-by slot:PE=" +
                std::to_string(threads) + ")";
  std::fprintf(stderr,
               "calor: warning: %s: they oversubscribe them and the run will be slower; %s%s\n",
               who.c_str(), fix.c_str(), more.c_str());
}

}  // namespace

int run_command(const RunCommand& o, const Comm& comm) {
  // From the start: a batch system's signal during set-up (reading the configuration or the
  // checkpoint) stops the run at its first chunk with a checkpoint, instead of killing it.
  install_stop_signals();
  ProgressReporter progress(o.progress && comm.root() ? ProgressReporter::automatic()
                                                      : ProgressReporter::Mode::none);
  RunOptions ro;
  ro.restart = o.restart;
  ro.force = o.force;
  ro.save_npy = o.save_npy;
  ro.handle_signals = true;
  ro.overwrite = o.overwrite;
  ro.chunk_seconds = progress.interval();
  ro.progress = [&](const RunProgress& p) { progress(p); };
  std::unique_ptr<Run> run;
  try {
    // Every rank reads the configuration; a restart's checkpoint may be unreadable on some
    // ranks only, so the ranks agree before any collective step.
    std::optional<Config> config;
    std::string error;
    if (!o.restart.empty() && o.config_path.empty()) {
      // The problem comes from the checkpoint: one rank checks its seal first, for all.
      try {
        if (comm.root()) verify_checkpoint(o.restart);
      } catch (const Error& e) {
        error = e.what();
      }
      comm.agree_or_throw(error);
    }
    try {
      config = load_run_config(o);
    } catch (const Error& e) {
      error = e.what();
    }
    comm.agree_or_throw(error);
    run = make_run(*config, comm, ro);
  } catch (const Error& e) {
    print_error(e, comm);  // the configuration or an input file: bad input
    return kExitUsage;
  }
  if (comm.root())
    for (const std::string& dir : run->created_directories())
      std::fprintf(stderr, "calor: created the directory %s for the outputs\n", dir.c_str());
  if (comm.root() && run->first_step() > 0)
    std::fprintf(stderr, "calor: restarted from %s at step %lld\n", o.restart.c_str(),
                 static_cast<long long>(run->first_step()));
  if (!o.restart.empty() && run->first_step() >= run->problem().steps) {
    if (comm.root())
      std::fprintf(stderr,
                   "calor: nothing left to do: the checkpoint is at step %lld and steps = %lld; "
                   "give --steps with a larger number to go on\n",
                   static_cast<long long>(run->first_step()),
                   static_cast<long long>(run->problem().steps));
    return 0;
  }
  if (comm.root()) warn_oversubscribed(*run, comm);
  if (comm.root() && !o.json) print_header(*run);
  comm.barrier();
  RunReport report;
  try {
    report = run->run();
  } catch (const Error& e) {
    // Health checks and outputs fail on every rank alike (Comm::agree_or_throw).
    progress.finish();
    print_error(e, comm);
    return kExitFailed;
  } catch (const std::exception& e) {
    comm.abort(e.what(), kExitFailed);
  }
  progress.finish();
  if (report.end == RunEnd::interrupted) return report_interrupted(*run, report);
  const Summary s = summarise(*run, report);
  if (comm.root()) {
    if (o.json)
      print_json(s);
    else
      print_results(s);
  }
  return 0;
}

int render_command(const RenderOptions& o) {
  std::vector<std::int64_t> shape;
  std::string name;
  const auto field = read_dataset(o.input, o.dataset, shape, &name);
  std::int64_t nx = 0, ny = 0;
  const auto plane = image_plane(field, shape, o.slice, nx, ny);
  // The heat map shrinks a grid at most 16 times: a longer side would make an image wider than
  // libpng writes (a million pixels).
  constexpr std::int64_t most = 10'000'000;
  if (ny > 1 && (nx > most || ny > most))
    throw Error("'" + o.input + "': " + name + " is " + std::to_string(nx) + " x " +
                std::to_string(ny) + " cells; calor render draws at most " + std::to_string(most) +
                " cells along a side");
  std::string out = o.output;
  if (out.empty()) {
    const auto dot = o.input.rfind('.');
    out = (dot == std::string::npos ? o.input : o.input.substr(0, dot)) + ".png";
  }
  ColourRange range{0, 0, o.log};
  if (!o.range.empty()) {
    range.lo = o.range[0];
    range.hi = o.range[1];
    if (!(range.lo < range.hi) || (o.log && range.lo <= 0))
      throw Error("--range " + std::to_string(range.lo) + "," + std::to_string(range.hi) +
                  " is not a range: give lo,hi with lo < hi" +
                  (o.log ? " and lo > 0 (--log)" : ""));
  }
  // The caption: the snapshot's step where the dataset is one.
  const std::string prefix = "/snapshots/";
  const std::string caption =
      name.rfind(prefix, 0) == 0
          ? "step " + std::to_string(std::atoll(name.c_str() + prefix.size()))
          : "";
  write_heatmap_png(out, plane, nx, ny, caption, range);
  std::printf("wrote %s (%s, %lld x %lld)\n", out.c_str(), name.c_str(), static_cast<long long>(nx),
              static_cast<long long>(ny));
  return 0;
}

}  // namespace calor::app
