// calor: the command line. Subcommands: run, info, render, bench (node, scaling, fft, compare).

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "bench.hpp"
#include "calor/comm.hpp"
#include "calor/config.hpp"
#include "calor/error.hpp"
#include "commands.hpp"

namespace {

std::string preset_list() {
  std::string s;
  for (const auto& p : calor::presets())
    s += "  " + p.name + ": " + p.summary + "\n";
  return s;
}

const char* kRunFooter = R"(
Examples:
  calor run                                  the case study at its defaults (N=4800, 500 steps)
  calor run --preset stencil --n 480 --steps 50 --json
  calor run --preset gaussian2d --n 256      prints the error against the exact solution
  calor run examples/stencil.toml --steps 100    a file, with a flag overriding it
  calor run --preset diffusion1d --set boundary.all=neumann
  calor run --preset gaussian3d --n 128 --method spectral   all steps by FFT
  calor run --output out/run.h5 --output-every 100 --checkpoint out/run.ckpt.h5

Settings come from the preset, then the TOML file, then the flags (last wins). Keys (set any
with --set KEY=VALUE, the value in TOML; a file can group the dotted ones in [tables]):
)";

// The "Keys:" list, from the reader's own table (calor::config_keys()): each key's name and
// help, then its type, default and an example, wrapped to 100 columns, [sections] apart.
std::string key_list() {
  constexpr std::size_t kWidth = 100, kColumn = 22;
  std::string s, line, section;
  const auto flush = [&] {
    s += line + "\n";
    line.assign(kColumn, ' ');
  };
  const auto words = [&](const std::string& text) {
    std::size_t i = 0;
    while (i < text.size()) {
      const std::size_t end = std::min(text.find(' ', i), text.size());
      const std::string word = text.substr(i, end - i);
      i = end + 1;
      if (word.empty()) continue;
      if (line.size() > kColumn) {  // after a word: go on, or wrap
        if (line.size() + 1 + word.size() > kWidth)
          flush();
        else
          line += ' ';
      }
      line += word;
    }
    flush();
  };
  for (const auto& k : calor::config_keys()) {
    const std::size_t dot = k.name.find('.');
    const std::string sec = dot == std::string::npos ? "" : k.name.substr(0, dot);
    if (sec != section) s += "\n  [" + sec + "]\n";
    section = sec;
    line = "  " + k.name;
    if (line.size() + 2 > kColumn) flush();
    line.resize(kColumn, ' ');
    words(k.help);
    words(k.type + (k.default_value.empty() ? "" : "; default: " + k.default_value) + "; e.g. " +
          k.example);
  }
  return s;
}

const char* kPresetsHeading = R"(
Presets:
)";

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "calor: heat diffusion on structured grids (1D/2D/3D, explicit FTCS), from one core to "
      "many.\nRun `calor run` for the reference case study, `calor SUBCOMMAND --help` for more."};
  app.require_subcommand(1);
  app.footer(
      "\nExamples:\n  calor run                       the case study at its defaults\n"
      "  calor run --preset gaussian3d --n 64 --json\n  calor info                      "
      "backends and libraries compiled in");

  calor::app::RunCommand ro;
  auto* run = app.add_subcommand("run",
                                 "Run a simulation and print its verification values, "
                                 "time and throughput");
  run->footer(std::string(kRunFooter) + key_list() + kPresetsHeading + preset_list());
  run->add_option("config", ro.config_path, "TOML file with the settings (optional)")
      ->check(CLI::ExistingFile);

  // Each value flag becomes a `key = value` override, applied in the order given.
  auto value_flag = [&](const std::string& flag, const std::string& key, const std::string& help) {
    run->add_option_function<std::string>(
        flag,
        [&ro, key, flag](const std::string& v) {
          ro.overrides.push_back({key, v, flag});
        },
        help);
  };
  value_flag("--preset", "preset", "Ready-made problem (see below)");
  value_flag("--n", "n", "Grid size per axis: 480 or 480,320");
  value_flag("--steps", "steps", "Number of time steps");
  value_flag("--energy", "energy", "Case study: energy added per source per step");
  value_flag("--dim", "dim", "Dimension: 1, 2 or 3");
  value_flag("--dt", "dt", "Time step (default: half the stability limit)");
  value_flag("--alpha", "alpha", "Diffusivity");
  value_flag("--h", "h", "Grid spacing: 1.0 or 0.5,1.0");
  value_flag("--form", "form", "Stencil arithmetic: expanded or factored");
  value_flag("--backend", "backend", "Backend: auto or one listed by `calor info`");
  value_flag("--threads", "threads", "Threads per process (0 = OMP_NUM_THREADS or all cores)");
  value_flag("--tile-depth", "tile_depth", "tiled backend: steps per block (0 = automatic)");
  value_flag("--tile-width", "tile_width",
             "tiled backend, 2D: columns per strip (0 = automatic, from the L2 cache)");
  value_flag("--method", "method",
             "stencil (explicit FTCS, default) or spectral (FFT: periodic or zero-Dirichlet "
             "faces)");
  value_flag("--spectral-mode", "spectral.mode",
             "spectral: discrete (the stencil's answer, default) or continuous (the PDE's)");
  run->add_flag_callback(
      "--allow-unstable",
      [&] {
        ro.overrides.push_back({"allow_unstable", "true", "--allow-unstable"});
      },
      "Run even if r = alpha*dt*sum(1/h^2) exceeds 1/2");
  run->add_option_function<std::vector<std::string>>(
         "--set",
         [&](const std::vector<std::string>& kvs) {
           for (const auto& kv : kvs) {
             const auto eq = kv.find('=');
             if (eq == std::string::npos || eq == 0)
               throw CLI::ValidationError("--set", "expected KEY=VALUE, got '" + kv + "'");
             ro.overrides.push_back({kv.substr(0, eq), kv.substr(eq + 1), "--set"});
           }
         },
         "Any key: --set boundary.all=periodic --set initial.type=gaussian")
      ->type_name("KEY=VALUE");
  run->add_flag("--json", ro.json, "Print the summary as one JSON object on stdout");
  bool no_progress = false;
  run->add_flag("--no-progress", no_progress, "No progress bar or progress log on stderr");
  run->add_option("--save-npy", ro.save_npy, "Write the final interior field to this .npy file");
  value_flag("--output", "output.path",
             "HDF5 snapshot file; an XDMF file for ParaView is written beside it");
  value_flag("--output-every", "output.every",
             "Snapshot interval: steps (100) or time (30s, 5min)");
  value_flag("--png", "output.png", "PNG frame prefix: PREFIX_<step>.png (2D; 3D: middle z-slice)");
  value_flag("--png-every", "output.png_every", "PNG frame interval in steps");
  value_flag("--checkpoint", "checkpoint.path",
             "Checkpoint file (kept safe: temp, fsync, rename, .prev)");
  value_flag("--checkpoint-every", "checkpoint.every",
             "Checkpoint interval: steps or time (10min)");
  value_flag("--check-every", "check_every",
             "NaN/Inf/blow-up check interval in steps (default 100)");
  run->add_option("--restart", ro.restart, "Continue from this checkpoint")
      ->check(CLI::ExistingFile);
  run->add_flag("--force", ro.force, "Restart although alpha, dt, sources or boundaries changed");

  app.add_subcommand("info", "List the backends, threads and libraries compiled in");

  calor::app::RenderOptions render_opt;
  auto* render = app.add_subcommand("render", "Turn a snapshot or checkpoint into a PNG heat map");
  render->add_option("file", render_opt.input, "HDF5 file written by --output or --checkpoint")
      ->required()
      ->check(CLI::ExistingFile);
  render->add_option("--dataset", render_opt.dataset,
                     "Snapshot step or dataset path (default: the last)");
  render->add_option("-o,--out", render_opt.output, "PNG to write (default: FILE.png)");
  render->add_option("--slice", render_opt.slice, "3D: the z index to show (default: the middle)");
  render->footer(
      "\nExample:\n  calor run --preset gaussian3d --output g.h5 --output-every 50\n"
      "  calor render g.h5 --dataset 100 -o g100.png");

  calor::bench::BenchOptions bench_opt;
  auto* bench = app.add_subcommand("bench",
                                   "Measure performance against this machine's memory "
                                   "bandwidth");
  bench->require_subcommand(1);
  auto* node = bench->add_subcommand(
      "node",
      "Copy bandwidth, then every backend in and out of cache at 1 and all threads, then "
      "the case study per backend");
  node->add_flag("--quick", bench_opt.quick, "Small sizes and one repetition (about a minute)");
  node->add_option("--threads", bench_opt.threads, "Threads for the parallel runs (0 = all)")
      ->check(CLI::Range(0, 4096));
  node->add_option("--out", bench_opt.out, "Write the results to OUT.json and OUT.md");
  node->footer(
      "\nExample:\n  calor bench node --out results/node   (3-6 minutes on 2 cores: the "
      "out-of-cache grid is 8x the last-level cache)");

  auto* scaling = bench->add_subcommand(
      "scaling",
      "Strong and weak scaling over MPI ranks (time, speedup, efficiency in the "
      "comparison study's format) and the halo-overhead ratio; launches mpiexec");
  scaling->add_flag("--quick", bench_opt.quick, "Small sizes (under a minute)");
  scaling->add_option("--ranks", bench_opt.ranks, "Process counts, e.g. 1,2,4")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096));
  scaling->add_option("--out", bench_opt.out, "Write the results to OUT.json and OUT.md");
  scaling->footer("\nExample:\n  calor bench scaling --ranks 1,2,4 --out results/scaling");

  calor::bench::BenchFftOptions fft_opt;
  auto* fft = bench->add_subcommand(
      "fft",
      "FFTW speed under the spectral solver: r2c + c2r pairs on n^3 grids at each thread and "
      "MPI rank count, with pyFFTW and mpi4py-fft beside it, planning time, and the case study "
      "by the spectral method, beside the copy bandwidth; launches mpiexec");
  fft->add_flag("--quick", fft_opt.quick, "Sizes 32 to 128 and ESTIMATE planning only (seconds)");
  fft->add_option("--sizes", fft_opt.sizes, "Cube edges, e.g. 64,128 (default 64 ... 576)")
      ->delimiter(',')
      ->check(CLI::Range(2, 4096));
  fft->add_option("--threads", fft_opt.threads, "Thread counts, e.g. 1,2 (default 1 and all)")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096));
  auto* fft_ranks =
      fft->add_option("--ranks", fft_opt.ranks,
                      "FFTW-MPI process counts, one thread each, e.g. 1,2,4 (the default)")
          ->delimiter(',')
          ->check(CLI::Range(1, 4096));
  fft->add_flag("--no-mpi", fft_opt.no_mpi, "No MPI runs (FFTW-MPI, mpi4py-fft)")
      ->excludes(fft_ranks);
  fft->add_flag("--no-peers", fft_opt.no_peers,
                "No pyFFTW and mpi4py-fft runs (bench/fft/peers.py with the project's .venv)");
  fft->add_option("--reps", fft_opt.reps, "Timed pairs per size (default 5; --quick: 2)")
      ->check(CLI::Range(1, 1000));
  fft->add_option("--wisdom", fft_opt.wisdom, "FFTW wisdom file: read before, written after");
  fft->add_option("--out", fft_opt.out, "Write the results to OUT.json and OUT.md");
  fft->footer(
      "\nFor each size: FFTW in this process at each thread count, FFTW-MPI slabs under mpiexec\n"
      "at each rank count, then the reference study's peers, pyFFTW and mpi4py-fft, from the\n"
      "project's .venv (a missing peer is skipped with the reason).\n"
      "\nExample:\n  calor bench fft --quick\n  calor bench fft --sizes 256,576 --ranks 1,2 "
      "--wisdom fft.wisdom --out results/fft");

  calor::bench::CompareOptions compare_opt;
  auto* compare = bench->add_subcommand(
      "compare",
      "The comparison study side by side: Python, NumPy, Numba, Cython, F2Py, Fortran, Devito, "
      "pystencils and calor on the case study, serial and under MPI (bench/compare/compare.py "
      "with the project's .venv; its flags pass through)");
  compare->set_help_flag();  // --help reaches compare.py, which lists its own flags
  compare->allow_extras();
  compare->prefix_command();
  compare->footer(
      "\nExamples:\n  calor bench compare --help       the driver's flags\n"
      "  calor bench compare --quick      N=480, 50 steps (a few minutes)\n"
      "  calor bench compare --extrapolate-python --out out/compare   the full study");

  calor::bench::ScalingWorkerOptions worker_opt;
  auto* worker = bench->add_subcommand("scaling-worker", "(internal) one run of bench scaling");
  worker->group("");  // hidden from --help
  worker->add_option("--nx", worker_opt.nx)->check(CLI::Range(1LL, 1LL << 40));
  worker->add_option("--ny", worker_opt.ny)->check(CLI::Range(1LL, 1LL << 40));
  worker->add_option("--steps", worker_opt.steps)->check(CLI::Range(1LL, 1LL << 40));
  worker->add_option("--backend", worker_opt.backend);
  worker->add_option("--threads", worker_opt.threads)->check(CLI::Range(0, 4096));
  worker->add_option("--depth", worker_opt.depth)->check(CLI::Range(0, 1024));

  calor::bench::FftWorkerOptions fft_worker_opt;
  auto* fft_worker =
      bench->add_subcommand("fft-worker", "(internal) one FFTW-MPI run of bench fft");
  fft_worker->group("");  // hidden from --help
  fft_worker->add_option("--n", fft_worker_opt.n)->check(CLI::Range(2, 4096));
  fft_worker->add_option("--planner", fft_worker_opt.planner)
      ->check(CLI::IsMember({"estimate", "measure"}));
  fft_worker->add_option("--reps", fft_worker_opt.reps)->check(CLI::Range(1, 1000));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Under mpiexec every rank parses the same arguments; one message is enough.
    const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
    if (rank == nullptr || std::string(rank) == "0") return app.exit(e);
    return e.get_exit_code();
  }
  // Only the commands that compute in parallel join MPI: `bench scaling` and `bench fft` launch
  // mpiexec themselves, which an MPI process may not do.
  const calor::Comm procs =
      calor::Comm::world(run->parsed() || worker->parsed() || fft_worker->parsed());

  try {
    if (run->parsed()) {
      // Without a file, the case study is the default problem.
      if (ro.config_path.empty())
        ro.overrides.insert(ro.overrides.begin(), {"preset", "stencil", "default"});
      ro.progress = !no_progress;
      return calor::app::run_command(ro, procs);
    }
    if (node->parsed()) return calor::bench::bench_node_command(bench_opt);
    if (render->parsed()) return calor::app::render_command(render_opt);
    if (scaling->parsed()) return calor::bench::bench_scaling_command(bench_opt);
    if (fft->parsed()) return calor::bench::bench_fft_command(fft_opt);
    if (compare->parsed()) {
      compare_opt.args = compare->remaining();
      return calor::bench::bench_compare_command(compare_opt);
    }
    if (worker->parsed()) return calor::bench::bench_scaling_worker(worker_opt, procs);
    if (fft_worker->parsed()) return calor::bench::bench_fft_worker(fft_worker_opt, procs);
    return calor::app::info_command();
  } catch (const calor::Error& e) {
    std::fprintf(stderr, "calor: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "calor: internal error: %s\n", e.what());
    return 3;
  }
}
