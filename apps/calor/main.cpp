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
#include "calor/version.hpp"
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

// A flag of `calor run` that becomes the override `key = value`, applied in the order given.
void add_value_flag(CLI::App& run, calor::app::RunCommand& ro, const std::string& flag,
                    const std::string& key, const std::string& help) {
  run.add_option_function<std::string>(
         flag,
         [&ro, key, flag](const std::string& v) {
           ro.overrides.push_back({key, v, flag});
         },
         help)
      ->trigger_on_parse();  // in the order given, each time given: the last one wins
}

// `calor run`: the problem's flags (each a `key = value` override, applied in the order given).
struct RunFlags {
  calor::app::RunCommand ro;
  bool no_progress = false;
  CLI::App* run = nullptr;
};

void add_problem_flags(CLI::App& app, RunFlags& f) {
  calor::app::RunCommand& ro = f.ro;
  CLI::App* run = app.add_subcommand("run",
                                     "Run a simulation and print its verification values, "
                                     "time and throughput");
  run->footer(std::string(kRunFooter) + key_list() + kPresetsHeading + preset_list());
  run->add_option("config", ro.config_path, "TOML file with the settings (optional)")
      ->check(CLI::ExistingFile);

  auto value_flag = [&](const std::string& flag, const std::string& key, const std::string& help) {
    add_value_flag(*run, ro, flag, key, help);
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
  value_flag("--threads", "threads",
             "Threads per process (0 = OMP_NUM_THREADS, else this process's cores; "
             "under MPI at most an even share of the node's)");
  value_flag("--tile-depth", "tile_depth", "tiled backend: steps per block (0 = automatic)");
  value_flag(
      "--tile-width", "tile_width",
      "tiled backend: columns (2D) or y-rows (3D) per strip (0 = automatic, from the cache sizes)");
  value_flag("--method", "method",
             "stencil (explicit FTCS, default) or spectral (FFT: periodic or zero-Dirichlet "
             "faces)");
  value_flag("--spectral-mode", "spectral.mode",
             "spectral: discrete (the stencil's answer, default) or continuous (the PDE's)");
  f.run = run;
}

// `calor run`: the flags of the output, the checkpoint and the run itself.
void add_run_flags(RunFlags& f) {
  calor::app::RunCommand& ro = f.ro;
  bool& no_progress = f.no_progress;
  CLI::App* run = f.run;
  auto value_flag = [&](const std::string& flag, const std::string& key, const std::string& help) {
    add_value_flag(*run, ro, flag, key, help);
  };
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
      ->type_name("KEY=VALUE")
      ->trigger_on_parse();
  run->add_flag("--json", ro.json, "Print the summary as one JSON object on stdout");
  run->add_flag("--no-progress", no_progress, "No progress bar or progress log on stderr");
  run->add_option("--save-npy", ro.save_npy, "Write the final interior field to this .npy file");
  value_flag("--output", "output.path",
             "HDF5 snapshot file; an XDMF file for ParaView is written beside it");
  value_flag("--output-every", "output.every",
             "Snapshot interval: steps (100) or time (30s, 5min)");
  value_flag("--png", "output.png", "PNG frame prefix: PREFIX_<step>.png (2D; 3D: middle z-slice)");
  value_flag("--png-every", "output.png_every", "PNG frame interval in steps");
  value_flag("--png-range", "output.png_range",
             "PNG colour range lo,hi for every frame (default: the first frame's)");
  run->add_flag_callback(
         "--png-log",
         [&] {
           ro.overrides.push_back({"output.png_log", "true", "--png-log"});
         },
         "PNG: a log10 colour scale")
      ->trigger_on_parse();
  value_flag("--checkpoint", "checkpoint.path",
             "Checkpoint file (kept safe: temp, fsync, rename, .prev)");
  value_flag("--checkpoint-every", "checkpoint.every",
             "Checkpoint interval: steps or time (10min)");
  value_flag("--check-every", "check_every",
             "NaN/Inf/blow-up check interval in steps (default 100)");
  run->add_option("--restart", ro.restart, "Continue from this checkpoint")
      ->check(CLI::ExistingFile);
  run->add_flag("--force", ro.force, "Restart although alpha, dt, sources or boundaries changed");
  run->add_flag("--overwrite", ro.overwrite,
                "Replace existing files at the output and checkpoint paths that calor did not "
                "write (otherwise refused before step 1)");
}

struct RenderFlags {
  calor::app::RenderOptions render_opt;
  CLI::App* render = nullptr;
};

void add_render(CLI::App& app, RenderFlags& f) {
  calor::app::RenderOptions& render_opt = f.render_opt;
  CLI::App* render =
      app.add_subcommand("render", "Turn a snapshot or checkpoint into a PNG heat map");
  render->add_option("file", render_opt.input, "HDF5 file written by --output or --checkpoint")
      ->required()
      ->check(CLI::ExistingFile);
  render->add_option("--dataset", render_opt.dataset,
                     "Snapshot step or dataset path (default: the last)");
  render->add_option("-o,--out", render_opt.output, "PNG to write (default: FILE.png)");
  render->add_option("--slice", render_opt.slice, "3D: the z index to show (default: the middle)");
  render->add_option("--range", render_opt.range, "Colour range lo,hi (default: the field's)")
      ->delimiter(',')
      ->expected(2);
  render->add_flag("--log", render_opt.log, "A log10 colour scale");
  render->footer(
      "\nExample:\n  calor run --preset gaussian3d --output g.h5 --output-every 50\n"
      "  calor render g.h5 --dataset 100 -o g100.png");
  f.render = render;
}

// What argv asks of `app` before CLI11 parses it: the command it selects ("calor run", "calor
// bench node"), and the first long option that command does not have, named with the nearest it
// has. (CLI11 alone read "--stepz 10" as the config file "10", and said that file was missing.)
struct Scan {
  std::string command = "calor";
  std::string error;
};

Scan scan_arguments(CLI::App& app, int argc, char** argv) {
  Scan scan;
  CLI::App* cmd = &app;
  bool value_next = false;  // the previous option takes a value
  bool values = false;      // ... or several (--set KEY=VALUE ...)
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--") break;
    if (value_next) {
      value_next = false;
      continue;
    }
    if (a.rfind("--", 0) == 0 && a.size() > 2) {
      values = false;
      const std::string name = a.substr(0, a.find('='));
      const CLI::Option* opt = nullptr;
      std::vector<std::string> names;
      for (const CLI::Option* o : cmd->get_options()) {
        for (const std::string& l : o->get_lnames())
          names.push_back("--" + l);
        if (o->check_name(name)) opt = o;
      }
      if (opt == nullptr) {
        const std::string best = calor::nearest_name(name, names);
        scan.error = "unknown option '" + name + "' for `" + scan.command + "`" +
                     (best.empty() ? "" : "; did you mean '" + best + "'?");
        return scan;
      }
      const bool takes_value = opt->get_type_size_max() > 0 && a.find('=') == std::string::npos;
      value_next = takes_value;
      values = takes_value && opt->get_items_expected_max() > 1;
      continue;
    }
    if (values || a.rfind('-', 0) == 0) continue;
    for (CLI::App* sub : cmd->get_subcommands([](CLI::App*) { return true; }))
      if (sub->check_name(a)) {
        cmd = sub;
        scan.command += " " + a;
        break;
      }
  }
  return scan;
}

// A usage error, on rank 0 only under mpiexec (every rank parses the same arguments).
int usage_error(const std::string& what, const std::string& command) {
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  if (rank == nullptr || std::string(rank) == "0")
    std::fprintf(stderr, "calor: error: %s\nRun `%s --help` for the options.\n", what.c_str(),
                 command.c_str());
  return calor::app::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "calor: heat diffusion on structured grids (1D/2D/3D, explicit FTCS), from one core to "
      "many.\nRun `calor run` for the reference case study, `calor SUBCOMMAND --help` for more."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "calor " + std::string(calor::kVersion));
  app.footer(
      "\nExamples:\n  calor run                       the case study at its defaults\n"
      "  calor run --preset gaussian3d --n 64 --json\n  calor info                      "
      "backends and libraries compiled in\n"
      "\nExit status: 0 done; 1 a run failed (blow-up, I/O); 2 bad usage or input (a flag, a "
      "setting, a file); 75 stopped by SIGINT/SIGTERM/SIGUSR1 after saving a checkpoint "
      "(requeue with --restart).");
  RunFlags run;
  add_problem_flags(app, run);
  add_run_flags(run);
  app.add_subcommand("info", "List the backends, threads and libraries compiled in");
  std::string shell;
  CLI::App* completion = app.add_subcommand(
      "completion", "Print a shell completion script: calor completion bash > ~/.calor-complete");
  completion->add_option("shell", shell, "bash or zsh")->required();
  CLI::App* man = app.add_subcommand("man", "Print the manual page (roff): calor man | man -l -");
  calor::app::SweepOptions sweep;
  CLI::App* sweep_cmd = calor::app::add_sweep_command(app, sweep);
  RenderFlags render;
  add_render(app, render);
  calor::bench::BenchCommands bench(app);

  const Scan scan = scan_arguments(app, argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) {  // --help
      const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
      return rank == nullptr || std::string(rank) == "0" ? app.exit(e) : 0;
    }
    return usage_error(scan.error.empty() ? e.what() : scan.error, scan.command);
  }
  // Only the commands that compute in parallel join MPI: `bench scaling` and `bench fft` launch
  // mpiexec themselves, which an MPI process may not do.
  const calor::Comm procs = calor::Comm::world(run.run->parsed() || bench.joins_mpi());

  try {
    if (run.run->parsed()) {
      run.ro.progress = !run.no_progress;
      return calor::app::run_command(run.ro, procs);
    }
    if (render.render->parsed()) return calor::app::render_command(render.render_opt);
    if (completion->parsed()) return calor::app::completion_command(app, shell);
    if (man->parsed()) return calor::app::man_command(app);
    if (sweep_cmd->parsed()) return calor::app::sweep_command(sweep);
    if (bench.parsed()) return bench.run(procs);
    return calor::app::info_command();
  } catch (const calor::Error& e) {
    // render's input file, info's environment (CALOR_LLC), a benchmark's settings.
    std::fprintf(stderr, "calor: error: %s\n", e.what());
    return calor::app::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "calor: internal error (please report it): %s\n", e.what());
    return 3;
  }
}
