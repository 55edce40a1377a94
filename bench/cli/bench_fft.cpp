// `calor bench fft`: how fast FFTW transforms a 3D real field on this machine, the cost under the
// spectral solver. Times an in-place r2c + c2r pair on n^3 grids up to 576^3 (the reference
// study's size: 1.5 GB of doubles), with the planning time of FFTW_ESTIMATE and FFTW_MEASURE,
// beside the machine's measured copy bandwidth:
//   - FFTW in this process at 1 and all threads (the spectral solver's serial plans);
//   - FFTW-MPI at 1, 2 and 4 ranks, one thread each: the solver's slab plans, in a hidden
//     `calor bench fft-worker` under mpiexec (more ranks than cores are marked oversubscribed);
//   - the reference study's own FFT peers, pyFFTW (threads) and mpi4py-fft (ranks), through
//     bench/fft/peers.py with the project's Python; a missing one is skipped with the reason.
//
// Flop convention (printed with the results): a complex transform of N points counts
// 5 N log2(N) flops, a real one half that, so one r2c + c2r pair counts 5 N log2(N). (Not
// fftw_flops: with SIMD codelets it counts vector instructions, not flops.)

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "calor/config.hpp"
#include "calor/error.hpp"
#include "calor/machine.hpp"
#include "calor/spectral.hpp"

#if defined(CALOR_HAVE_FFTW)
#include <fftw3.h>
#endif

#include "bandwidth.hpp"
#include "bench.hpp"
#include "calor/comm.hpp"
#include "json.hpp"
#include "launch.hpp"
#include "spectral/plans.hpp"

namespace calor::bench {

#if defined(CALOR_HAVE_FFTW)

namespace {

struct FftRow {
  std::string library;  // FFTW, FFTW-MPI, pyFFTW, mpi4py-fft
  int n = 0, ranks = 1, threads = 1;
  std::string planner;
  double plan_s = 0, best_s = 0, worst_s = 0, roundtrip = 0;
  [[nodiscard]] double points() const { return std::pow(static_cast<double>(n), 3); }
  // 5 N log2 N per pair: half of a complex transform's 5 N log2 N, twice.
  [[nodiscard]] double flops() const { return 5.0 * points() * std::log2(points()); }
  [[nodiscard]] double gflops() const { return flops() / best_s / 1e9; }
};

struct Planner {
  std::string name;
  FftPlanning planning;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// A deterministic, non-trivial real field: no data-dependent shortcut can help FFTW. `row` is
// the global row index z n + y, `i` the x index (bench/fft/peers.py fills the same values).
double field_value(std::ptrdiff_t row, int i) {
  return std::sin(0.001 * static_cast<double>(row) + 0.37 * i) + 0.5;
}

// The periodic n^3 grid: the r2c/c2r pair of the spectral solver (x is the half-complex axis).
Grid cube(int n) {
  Grid g;
  g.dim = 3;
  g.n = {n, n, n};
  return g;
}
constexpr std::array<detail::FftKind, 3> kR2c = {detail::FftKind::dft_half, detail::FftKind::dft,
                                                 detail::FftKind::dft};

struct PairTimes {
  double best = 1e30, worst = 0, roundtrip = 0;
};

// Times the in-place r2c + c2r pair of `p` on the n^3 grid: the whole grid, or under MPI this
// rank's slab of z planes. One warm-up pair gives the round trip's error, then `reps` timed pairs
// from a common start (a barrier); each counts the slowest rank's time.
PairTimes time_pair(detail::FftPlans& p, int n, int reps, const Comm& procs) {
  const detail::FftAxis& z = p.real_axes.front();  // outermost first
  const std::ptrdiff_t rows = z.count * n, first = z.start * n, pitch = p.real_pitch;
  double* a = p.buffer;
#pragma omp parallel for schedule(static)
  for (std::ptrdiff_t r = 0; r < rows; ++r)
    for (int i = 0; i < n; ++i)
      a[r * pitch + i] = field_value(first + r, i);
  p.forward();
  p.backward();
  const double scale = 1.0 / std::pow(static_cast<double>(n), 3);
  PairTimes t;
  for (std::ptrdiff_t r = 0; r < rows; r += 97)
    for (int i = 0; i < n; ++i)
      t.roundtrip =
          std::max(t.roundtrip, std::fabs(a[r * pitch + i] * scale - field_value(first + r, i)));
  t.roundtrip = procs.max(t.roundtrip);
  for (int k = 0; k < reps; ++k) {
    // Back to the field's scale between pairs (untimed): many pairs would overflow otherwise.
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t r = 0; r < rows; ++r)
      for (int i = 0; i < n; ++i)
        a[r * pitch + i] *= scale;
    procs.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    p.forward();
    p.backward();
    const double s = procs.max(seconds_since(t0));
    t.best = std::min(t.best, s);
    t.worst = std::max(t.worst, s);
  }
  return t;
}

// FFTW in this process: the spectral solver's serial in-place r2c/c2r plans.
FftRow serial_row(int n, int threads, const Planner& pl, int reps, const Comm& one) {
  auto plans = detail::make_serial_fft_plans(cube(n), kR2c, threads, pl.planning);
  const PairTimes t = time_pair(*plans, n, reps, one);
  return {"FFTW", n, 1, threads, pl.name, plans->planning_seconds, t.best, t.worst, t.roundtrip};
}

// FFTW-MPI: one `calor bench fft-worker` under mpiexec, one thread per rank.
FftRow mpi_row(int n, int ranks, const Planner& pl, int reps) {
  const WorkerResult w = launch_worker(ranks,
                                       "fft-worker --n " + std::to_string(n) + " --planner " +
                                           pl.name + " --reps " + std::to_string(reps),
                                       "-x OMP_NUM_THREADS=1");
  const double plan = w.number("plan"), best = w.number("best"), worst = w.number("worst"),
               roundtrip = w.number("roundtrip");
  return {"FFTW-MPI", n, ranks, 1, pl.name, plan, best, worst, roundtrip};
}

std::string join(const std::vector<int>& v) {
  std::string s;
  for (int x : v)
    s += (s.empty() ? "" : ",") + std::to_string(x);
  return s;
}

// The reference study's FFT peers, by bench/fft/peers.py with the project's Python, one call per
// size. Never fails the bench: a missing Python, script or package skips that peer, with one
// line saying why; a failed measurement is reported and the rest goes on.
class Peers {
 public:
  Peers(bool enabled, bool mpi, const std::vector<Planner>& planners,
        const std::vector<int>& threads, const std::vector<int>& ranks, int reps) {
    if (!enabled) return;
    python_ = project_python();
    script_ = source_dir() + "/bench/fft/peers.py";
    if (::access(script_.c_str(), R_OK) != 0) {
      note("pyFFTW and mpi4py-fft skipped: no " + script_ +
           " (set CALOR_SOURCE_DIR to the calor source tree)");
      return;
    }
    if (::access(python_.c_str(), X_OK) != 0) {
      note("pyFFTW and mpi4py-fft skipped: no Python environment at " + python_ +
           " (create it with `scripts/setup.sh --python`, or set CALOR_PYTHON)");
      return;
    }
    active_ = {"pyfftw"};
    if (mpi)
      active_.push_back("mpi4py-fft");
    else
      note("mpi4py-fft skipped: --no-mpi");
    std::string names;
    for (const Planner& p : planners)
      names += (names.empty() ? "" : ",") + p.name;
    args_ = " --reps " + std::to_string(reps) + " --planners " + names + " --threads " +
            join(threads) + (mpi ? " --ranks " + join(ranks) : "");
  }

  // Runs the peers still available at size n; calls `row` for each measurement as it comes.
  void run(int n, const std::function<void(const FftRow&)>& row) {
    if (active_.empty()) return;
    std::string peers;
    for (const std::string& p : active_)
      peers += (peers.empty() ? "" : ",") + p;
    const std::string cmd = shell_quote(python_) + " " + shell_quote(script_) + " --sizes " +
                            std::to_string(n) + args_ + " --peers " + peers;
    std::string last;
    bool any = false;
    const int status = run_lines(cmd, [&](const std::string& line) {
      const auto f = read_flat_json(line);
      if (f.count("peer") == 0) {
        if (!line.empty()) last = line;
        return;
      }
      any = true;
      const std::string& peer = f.at("peer");
      if (f.count("skipped") != 0) {
        note(peer + " skipped: " + f.at("skipped"));
        drop(peer);
      } else if (f.count("error") != 0) {
        note(peer + " failed at n=" + std::to_string(n) + get(f, "ranks", " ranks=") +
             get(f, "threads", " threads=") + get(f, "planner", " planner=") + ": " +
             f.at("error"));
      } else {
        const FftRow r{peer,
                       n,
                       count(f, "ranks"),
                       count(f, "threads"),
                       get(f, "planner", ""),
                       number(f, "plan_seconds"),
                       number(f, "pair_seconds"),
                       number(f, "worst_seconds"),
                       number(f, "roundtrip_error")};
        if (r.best_s > 0 && r.ranks > 0 && r.threads > 0)
          row(r);
        else
          note(peer + " gave a record without a time at n=" + std::to_string(n) + ": " + line);
      }
    });
    if (status != 0 && !any) {  // peers.py itself failed (no numpy?): do not try every size
      note("pyFFTW and mpi4py-fft skipped: bench/fft/peers.py failed (exit status " +
           std::to_string(status) + "): " + last);
      active_.clear();
    }
  }

  [[nodiscard]] const std::vector<std::string>& notes() const { return notes_; }

 private:
  void note(const std::string& s) {
    std::printf("  %s\n", s.c_str());
    std::fflush(stdout);
    notes_.push_back(s);
  }
  void drop(const std::string& peer) {
    std::string id;
    for (char c : peer)
      id += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    active_.erase(std::remove(active_.begin(), active_.end(), id), active_.end());
  }
  static std::string get(const std::map<std::string, std::string>& f, const std::string& key,
                         const std::string& prefix) {
    const auto it = f.find(key);
    return it == f.end() ? "" : prefix + it->second;
  }
  // The field as a number; NaN if it is missing or not a number.
  static double number(const std::map<std::string, std::string>& f, const std::string& key) {
    const auto it = f.find(key);
    if (it == f.end()) return std::nan("");
    char* end = nullptr;
    const double v = std::strtod(it->second.c_str(), &end);
    return end != it->second.c_str() && *end == '\0' ? v : std::nan("");
  }
  // The field as a count of ranks or threads; 0 if it is not one.
  static int count(const std::map<std::string, std::string>& f, const std::string& key) {
    const double v = number(f, key);
    return v >= 1 && v <= 1 << 20 ? static_cast<int>(v) : 0;
  }

  std::string python_, script_, args_;
  std::vector<std::string> active_, notes_;
};

// What this run of `calor bench fft` measures: the sizes, thread and rank counts, planners and
// repetitions, from the options or their defaults.
struct FftSetup {
  std::vector<int> sizes, threads, ranks;
  int cores = 1;
  int reps = 1;
  bool quick = false;
  std::vector<Planner> planners;
};

FftSetup fft_setup(const BenchFftOptions& o) {
  FftSetup s;
  s.sizes = o.sizes;
  if (s.sizes.empty())
    s.sizes = o.quick ? std::vector<int>{32, 64, 128} : std::vector<int>{64, 128, 256, 384, 576};
  s.threads = o.threads;
  if (s.threads.empty()) {
    s.threads = {1};
    if (default_threads() > 1) s.threads.push_back(default_threads());
  }
  s.ranks = o.ranks.empty() ? std::vector<int>{1, 2, 4} : o.ranks;
  if (o.no_mpi) s.ranks.clear();
  s.cores = machine_cores();
  s.reps = o.reps > 0 ? o.reps : (o.quick ? 2 : 5);
  s.quick = o.quick;
  s.planners = {{"estimate", FftPlanning::estimate}};
  if (!o.quick) s.planners.push_back({"measure", FftPlanning::measure});
  return s;
}

// The roofline beside the figures: copy bandwidth far beyond the last-level cache, at each
// thread count.
std::vector<Bandwidth> measure_roofline(const FftSetup& s) {
  const std::size_t bytes = std::max<std::size_t>(8 * caches().llc, 256u << 20);
  std::vector<Bandwidth> bw;
  std::printf("\nMemory bandwidth (copy, %zu MiB per array, 16 B per element):\n", bytes >> 20);
  for (int th : s.threads) {
    bw.push_back(measure_copy_bandwidth(bytes, th, s.quick ? 3 : 5, true));
    std::printf("  %d thread%s: %.2f GB/s (spread %.0f%%)\n", th, th == 1 ? " " : "s",
                bw.back().gbs, 100 * bw.back().spread);
  }
  return bw;
}

void print_legend() {
  std::printf(
      "\nFlops: 5 N log2(N) per complex transform of N points, half that per real transform, so "
      "5 N log2(N) per r2c + c2r pair (N = n^3).\n"
      "FFTW: this process; FFTW-MPI: slab plans under mpiexec, one thread per rank (the "
      "spectral solver's plans); pyFFTW, mpi4py-fft: the reference study's peers "
      "(bench/fft/peers.py).\n");
}

bool any_oversubscribed(const std::vector<FftRow>& rows, int cores) {
  return std::any_of(rows.begin(), rows.end(), [&](const FftRow& r) { return r.ranks > cores; });
}

// The transform table: at each size, FFTW in this process at every thread count, FFTW-MPI at
// every rank count, then the peers; each row printed as it comes.
std::vector<FftRow> run_transforms(const FftSetup& s, Peers& peers) {
  std::printf("  %6s %8s %-10s %5s %7s %9s %10s %10s %9s %8s %10s\n", "n", "MB", "library", "ranks",
              "threads", "planner", "plan s", "pair s", "GFLOP/s", "spread", "roundtrip");
  std::fflush(stdout);
  std::vector<FftRow> rows;
  auto report = [&](const FftRow& r) {
    rows.push_back(r);
    const std::string p = std::to_string(r.ranks) + (r.ranks > s.cores ? "*" : "");
    std::printf("  %6d %8.1f %-10s %5s %7d %9s %10.3f %10.4f %9.2f %7.0f%% %10.1e\n", r.n,
                8.0 * r.points() / 1e6, r.library.c_str(), p.c_str(), r.threads, r.planner.c_str(),
                r.plan_s, r.best_s, r.gflops(), 100 * (r.worst_s - r.best_s) / r.best_s,
                r.roundtrip);
    std::fflush(stdout);
  };
  const Comm one;
  for (int n : s.sizes) {
    if (n < 2) throw Error("bench fft: sizes must be at least 2, got " + std::to_string(n));
    for (const Planner& pl : s.planners)
      for (int th : s.threads)
        report(serial_row(n, th, pl, s.reps, one));
    for (const Planner& pl : s.planners)
      for (int p : s.ranks)
        report(mpi_row(n, p, pl, s.reps));
    peers.run(n, report);
  }
  if (any_oversubscribed(rows, s.cores))
    std::printf("  * more ranks than the %d cores: oversubscribed, time-shared\n", s.cores);
  return rows;
}

struct StudyRow {
  int threads;
  double setup_s, solve_s, heat;
};

// The case study by the spectral method at each thread count.
struct SpectralStudy {
  index_t n = 0;
  std::vector<StudyRow> runs;
};

// The case study by the spectral method: one inverse DST-I pair of 2D lines, the sources
// transformed in closed form (calor/spectral.hpp).
SpectralStudy run_spectral_study(const FftSetup& s) {
  SpectralStudy study;
  study.n = s.quick ? 1200 : 4800;
  const Config c =
      load_config("preset = \"stencil\"", "bench", {{"n", std::to_string(study.n), "bench"}});
  std::printf("\nCase study %lld^2 x %lld steps by the spectral method (discrete mode):\n",
              static_cast<long long>(study.n), static_cast<long long>(c.problem.steps));
  for (int th : s.threads) {
    const auto t0 = std::chrono::steady_clock::now();
    SpectralSolver sp(c.problem, SpectralMode::discrete, th);
    const double setup = seconds_since(t0);
    const auto t1 = std::chrono::steady_clock::now();
    sp.solve();
    const double solve = seconds_since(t1);
    study.runs.push_back({th, setup, solve, sp.stats().heat});
    std::printf("  %d thread%s: set-up %.3f s, solve %.3f s, total %.3f s, heat %.4f (%s)\n", th,
                th == 1 ? " " : "s", setup, solve, setup + solve, study.runs.back().heat,
                sp.describe().c_str());
    std::fflush(stdout);
  }
  return study;
}

// Everything `calor bench fft` measured, for the files it writes.
struct FftResults {
  std::vector<Bandwidth> bw;
  std::vector<FftRow> rows;
  std::vector<std::string> peer_notes;
  SpectralStudy study;
};

// The transform rows as a JSON list, one record a line.
std::string json_runs(const std::vector<FftRow>& rows, int cores) {
  std::string list = "[";
  for (const FftRow& r : rows)
    list += std::string(list.size() > 1 ? ",\n    " : "\n    ") +
            JsonObject()
                .add("library", r.library)
                .add("n", r.n)
                .add("ranks", r.ranks)
                .add("threads", r.threads)
                .add("oversubscribed", r.ranks > cores)
                .add("planner", r.planner)
                .add("plan_seconds", r.plan_s)
                .add("pair_seconds", r.best_s)
                .add("worst_seconds", r.worst_s)
                .add("gflops", r.gflops())
                .add("roundtrip_error", r.roundtrip)
                .str();
  return list + "]";
}

void write_json(std::ostream& js, const FftSetup& s, const FftResults& res) {
  JsonObject root;
  root.add("fftw", fftw_version)
      .add("flop_convention",
           "5 N log2 N per complex transform of N points, half per real transform: 5 N log2 N "
           "per r2c+c2r pair")
      .add("cores", s.cores);
  std::string list = "[";
  for (const Bandwidth& b : res.bw)
    list += (list.size() > 1 ? ", " : "") +
            JsonObject().add("threads", b.threads).add("gbs", b.gbs).str();
  root.raw("copy_bandwidth", list + "]");
  root.raw("runs", json_runs(res.rows, s.cores));
  list = "[";
  for (const std::string& note : res.peer_notes)
    list += (list.size() > 1 ? ", " : "") + JsonObject::quote(note);
  root.raw("peer_notes", list + "]");
  list = "[";
  for (const StudyRow& r : res.study.runs)
    list += (list.size() > 1 ? ", " : "") + JsonObject()
                                                .add("threads", r.threads)
                                                .add("setup_seconds", r.setup_s)
                                                .add("solve_seconds", r.solve_s)
                                                .add("heat", r.heat)
                                                .str();
  root.raw(
      "case_study",
      JsonObject().add("n", static_cast<long long>(res.study.n)).raw("runs", list + "]").str());
  js << root.str() << "\n";
}

void write_markdown(std::ostream& md, const FftSetup& s, const FftResults& res) {
  md << "FFTW " << fftw_version << ", in-place 3D r2c + c2r, best of " << s.reps
     << ". GFLOP/s counts 5 N log2 N per pair (a complex transform's 5 N log2 N, halved for "
        "real data, twice). FFTW: in this process; FFTW-MPI: slab plans under mpiexec, one "
        "thread per rank; pyFFTW and mpi4py-fft: the reference study's peers "
        "(bench/fft/peers.py).\n\nCopy bandwidth:";
  for (const auto& b : res.bw)
    md << " " << b.threads << " thread(s) " << b.gbs << " GB/s;";
  md << "\n\n| n³ | library | ranks | threads | planner | planning s | pair s | GFLOP/s "
        "|\n|---|---|---|---|---|---|---|---|\n";
  char buf[256];
  for (const FftRow& r : res.rows) {
    std::snprintf(buf, sizeof buf, "| %d³ | %s | %d%s | %d | %s | %.3f | %.4f | %.2f |\n", r.n,
                  r.library.c_str(), r.ranks, r.ranks > s.cores ? "\\*" : "", r.threads,
                  r.planner.c_str(), r.plan_s, r.best_s, r.gflops());
    md << buf;
  }
  if (any_oversubscribed(res.rows, s.cores))
    md << "\n\\* more ranks than the " << s.cores << " cores: oversubscribed, time-shared.\n";
  for (const std::string& note : res.peer_notes)
    md << "\n" << note << "\n";
  md << "\nCase study " << res.study.n << "² by the spectral method:";
  for (const StudyRow& r : res.study.runs)
    md << " " << r.threads << " thread(s) " << r.setup_s + r.solve_s << " s;";
  md << "\n";
}

}  // namespace

int bench_fft_worker(const FftWorkerOptions& o, const Comm& procs) {
#if defined(CALOR_HAVE_FFTW_MPI)
  if (!Comm::launched_by_mpi())
    throw Error("bench fft-worker runs under mpiexec (`calor bench fft` starts it)");
  const FftPlanning planning =
      o.planner == "measure" ? FftPlanning::measure : FftPlanning::estimate;
  auto plans = detail::make_mpi_fft_plans(cube(o.n), kR2c, 1, planning, procs);
  const double plan = procs.max(plans->planning_seconds);
  const PairTimes t = time_pair(*plans, o.n, o.reps, procs);
  if (procs.root())
    std::printf("RESULT ranks=%d plan=%.9g best=%.9g worst=%.9g roundtrip=%.3e\n", procs.size(),
                plan, t.best, t.worst, t.roundtrip);
  return 0;
#else
  (void)o;
  (void)procs;
  throw Error("this calor was built without FFTW-MPI: install libfftw3-mpi-dev and rebuild");
#endif
}

int bench_fft_command(const BenchFftOptions& o) {
  FftSetup s = fft_setup(o);
  std::printf("calor bench fft: %s, in-place 3D r2c + c2r pairs, best of %d\n", fftw_version,
              s.reps);
  if (!o.wisdom.empty())
    std::printf("  wisdom %s: %s\n", o.wisdom.c_str(),
                import_fft_wisdom(o.wisdom) ? "imported" : "none yet (will be written)");

  FftResults res;
  res.bw = measure_roofline(s);
  print_legend();
  Peers peers(!o.no_peers, !s.ranks.empty(), s.planners, s.threads, s.ranks, s.reps);
#if !defined(CALOR_HAVE_FFTW_MPI)
  if (!s.ranks.empty()) {
    std::printf("  FFTW-MPI skipped: this calor was built without FFTW-MPI (libfftw3-mpi-dev)\n");
    s.ranks.clear();
  }
#endif
  res.rows = run_transforms(s, peers);
  res.study = run_spectral_study(s);
  res.peer_notes = peers.notes();

  if (!o.wisdom.empty()) {
    export_fft_wisdom(o.wisdom);
    std::printf("\nwrote FFTW wisdom to %s (FFTW_MEASURE plans are then instant)\n",
                o.wisdom.c_str());
  }

  if (!o.out.empty())
    write_results(
        o.out, [&](std::ostream& js) { write_json(js, s, res); },
        [&](std::ostream& md) { write_markdown(md, s, res); });
  return 0;
}

#else

int bench_fft_command(const BenchFftOptions&) {
  throw Error("this calor was built without FFTW: install libfftw3-dev and rebuild");
}

int bench_fft_worker(const FftWorkerOptions&, const Comm&) {
  throw Error("this calor was built without FFTW: install libfftw3-dev and rebuild");
}

#endif

}  // namespace calor::bench
