// The flags of `calor bench ...` and the dispatch to each benchmark.

#include <CLI/CLI.hpp>

#include "bench.hpp"

namespace calor::bench {

BenchCommands::BenchCommands(CLI::App& app) {
  auto* bench = app.add_subcommand("bench",
                                   "Measure performance against this machine's memory "
                                   "bandwidth");
  bench->require_subcommand(1);
  add_node_and_scaling(*bench);
  add_fft(*bench);
  add_compare(*bench);
  add_workers(*bench);
}

void BenchCommands::add_node_and_scaling(CLI::App& bench) {
  node_ = bench.add_subcommand(
      "node",
      "Copy bandwidth, then every backend in and out of cache at 1 and all threads, then "
      "the case study per backend");
  node_->add_flag("--quick", bench_opt_.quick, "Small sizes and one repetition (about a minute)");
  node_->add_option("--threads", bench_opt_.threads, "Threads for the parallel runs (0 = all)")
      ->check(CLI::Range(0, 4096));
  node_->add_option("--out", bench_opt_.out, "Write the results to OUT.json and OUT.md");
  node_->add_flag("--auto-only", bench_opt_.auto_only,
                  "Only the sweep of auto against the fastest backend (2D 256^2 to 8192^2, 3D "
                  "32^3 to 512^3; --quick: a few sizes)");
  node_->footer(
      "\nExample:\n  calor bench node --out results/node   (the out-of-cache grids are 8x the "
      "last-level cache, 32x in 3D, and no array takes more than a sixteenth of memory: 3-6 "
      "minutes on 2 cores with a 32 MiB last level, 20-25 with a 260 MiB one)");

  scaling_ = bench.add_subcommand(
      "scaling",
      "Strong and weak scaling over MPI ranks (time, speedup, efficiency in the "
      "comparison study's format) and the halo-overhead ratio; launches mpiexec");
  scaling_->add_flag("--quick", bench_opt_.quick, "Small sizes (under a minute)");
  scaling_->add_option("--ranks", bench_opt_.ranks, "Process counts, e.g. 1,2,4")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096));
  scaling_->add_option("--out", bench_opt_.out, "Write the results to OUT.json and OUT.md");
  scaling_->footer("\nExample:\n  calor bench scaling --ranks 1,2,4 --out results/scaling");
}

void BenchCommands::add_fft(CLI::App& bench) {
  fft_ = bench.add_subcommand(
      "fft",
      "FFTW speed under the spectral solver: r2c + c2r pairs on n^3 grids at each thread and "
      "MPI rank count, with pyFFTW and mpi4py-fft beside it, planning time, and the case study "
      "by the spectral method, beside the copy bandwidth; launches mpiexec");
  fft_->add_flag("--quick", fft_opt_.quick, "Sizes 32 to 128 and ESTIMATE planning only (seconds)");
  fft_->add_option("--sizes", fft_opt_.sizes, "Cube edges, e.g. 64,128 (default 64 ... 576)")
      ->delimiter(',')
      ->check(CLI::Range(2, 4096));
  fft_->add_option("--threads", fft_opt_.threads, "Thread counts, e.g. 1,2 (default 1 and all)")
      ->delimiter(',')
      ->check(CLI::Range(1, 4096));
  auto* fft_ranks =
      fft_->add_option("--ranks", fft_opt_.ranks,
                       "FFTW-MPI process counts, one thread each, e.g. 1,2,4 (the default)")
          ->delimiter(',')
          ->check(CLI::Range(1, 4096));
  fft_->add_flag("--no-mpi", fft_opt_.no_mpi, "No MPI runs (FFTW-MPI, mpi4py-fft)")
      ->excludes(fft_ranks);
  fft_->add_flag("--no-peers", fft_opt_.no_peers,
                 "No pyFFTW and mpi4py-fft runs (bench/fft/peers.py with the project's .venv)");
  fft_->add_option("--reps", fft_opt_.reps, "Timed pairs per size (default 5; --quick: 2)")
      ->check(CLI::Range(1, 1000));
  fft_->add_option("--wisdom", fft_opt_.wisdom, "FFTW wisdom file: read before, written after");
  fft_->add_option("--out", fft_opt_.out, "Write the results to OUT.json and OUT.md");
  fft_->footer(
      "\nFor each size: FFTW in this process at each thread count, FFTW-MPI slabs under mpiexec\n"
      "at each rank count, then the reference study's peers, pyFFTW and mpi4py-fft, from the\n"
      "project's .venv (a missing peer is skipped with the reason).\n"
      "\nExample:\n  calor bench fft --quick\n  calor bench fft --sizes 256,576 --ranks 1,2 "
      "--wisdom fft.wisdom --out results/fft");
}

void BenchCommands::add_compare(CLI::App& bench) {
  compare_ = bench.add_subcommand(
      "compare",
      "The comparison study side by side: Python, NumPy, Numba, Cython, F2Py, Fortran, Devito, "
      "pystencils and calor on the case study, serial and under MPI (bench/compare/compare.py "
      "with the project's .venv; its flags pass through)");
  compare_->set_help_flag();  // --help reaches compare.py, which lists its own flags
  compare_->allow_extras();
  compare_->prefix_command();
  compare_->footer(
      "\nExamples:\n  calor bench compare --help       the driver's flags\n"
      "  calor bench compare --quick      N=480, 50 steps (a few minutes)\n"
      "  calor bench compare --extrapolate-python --out out/compare   the full study");
}

// Hidden: one measurement each, started under mpiexec by `bench scaling` and `bench fft`.
void BenchCommands::add_workers(CLI::App& bench) {
  worker_ = bench.add_subcommand("scaling-worker", "(internal) one run of bench scaling");
  worker_->group("");  // hidden from --help
  worker_->add_option("--nx", worker_opt_.nx)->check(CLI::Range(1LL, 1LL << 40));
  worker_->add_option("--ny", worker_opt_.ny)->check(CLI::Range(1LL, 1LL << 40));
  worker_->add_option("--steps", worker_opt_.steps)->check(CLI::Range(1LL, 1LL << 40));
  worker_->add_option("--backend", worker_opt_.backend);
  worker_->add_option("--threads", worker_opt_.threads)->check(CLI::Range(0, 4096));
  worker_->add_option("--depth", worker_opt_.depth)->check(CLI::Range(0, 1024));

  fft_worker_ = bench.add_subcommand("fft-worker", "(internal) one FFTW-MPI run of bench fft");
  fft_worker_->group("");  // hidden from --help
  fft_worker_->add_option("--n", fft_worker_opt_.n)->check(CLI::Range(2, 4096));
  fft_worker_->add_option("--planner", fft_worker_opt_.planner)
      ->check(CLI::IsMember({"estimate", "measure"}));
  fft_worker_->add_option("--reps", fft_worker_opt_.reps)->check(CLI::Range(1, 1000));
}

bool BenchCommands::parsed() const {
  for (const CLI::App* c : {node_, scaling_, fft_, compare_, worker_, fft_worker_})
    if (c->parsed()) return true;
  return false;
}

bool BenchCommands::joins_mpi() const {
  return worker_->parsed() || fft_worker_->parsed();
}

int BenchCommands::run(const Comm& comm) {
  if (node_->parsed()) return bench_node_command(bench_opt_);
  if (scaling_->parsed()) return bench_scaling_command(bench_opt_);
  if (fft_->parsed()) return bench_fft_command(fft_opt_);
  if (compare_->parsed()) {
    compare_opt_.args = compare_->remaining();
    return bench_compare_command(compare_opt_);
  }
  if (worker_->parsed()) return bench_scaling_worker(worker_opt_, comm);
  return bench_fft_worker(fft_worker_opt_, comm);
}

}  // namespace calor::bench
