#include "calor/run.hpp"

#include <algorithm>
#include <chrono>
#include <numeric>
#include <optional>
#include <utility>

#include "calor/analytic.hpp"
#include "calor/error.hpp"
#include "calor/health.hpp"
#include "calor/image.hpp"
#include "calor/machine.hpp"
#include "calor/npy.hpp"
#include "calor/output.hpp"
#include "calor/signals.hpp"
#include "calor/solver.hpp"
#include "run/method.hpp"

namespace calor {

namespace {

using Clock = std::chrono::steady_clock;

// Steps per chunk of a long run, between callbacks (progress, signals, health checks): one pass
// of the backend at first (a whole tiled block, so that no block is cut short), doubled after a
// whole chunk that took under `grow_below` seconds, halved after one that took over
// `shrink_above`, never below one pass. Under MPI every rank must see the same times (the
// slowest rank's) and the same pass, so that all take the same chunks.
class ChunkSize {
 public:
  explicit ChunkSize(std::int64_t pass) : pass_(pass > 1 ? pass : 1), size_(pass_) {}
  [[nodiscard]] std::int64_t steps() const { return size_; }
  [[nodiscard]] std::int64_t pass() const { return pass_; }
  // After a chunk of `n` steps that took `seconds`.
  void after(std::int64_t n, double seconds, double grow_below, double shrink_above) {
    if (seconds < grow_below && n == size_)
      size_ *= 2;
    else if (seconds > shrink_above && size_ > pass_)
      size_ /= 2;
  }

 private:
  std::int64_t pass_, size_;
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

double RunReport::mlups(const Grid& g) const {
  return seconds > 0 ? static_cast<double>(g.cells()) * static_cast<double>(ran) / seconds / 1e6
                     : 0.0;
}

// When each thing happens: the outputs and monitors with their intervals, and when each last
// happened (wall time since the run was made, the same on every rank).
struct Run::Schedule {
  struct Timed {
    Every every;
    double last = 0;
    /// Due at `step` (a multiple of every.steps) or `now` seconds (every.seconds since last).
    bool due(std::int64_t step, double now) {
      const bool by_steps = every.steps > 0 && step % every.steps == 0;
      const bool by_time = every.seconds > 0 && now - last >= every.seconds;
      if (by_steps || by_time) last = now;
      return by_steps || by_time;
    }
  };
  struct ScheduledOutput {
    std::unique_ptr<Output> output;
    Timed when;
    bool at_end = true;  // also at the problem's last step
  };
  std::vector<ScheduledOutput> outputs;
  std::vector<std::pair<Monitor, Timed>> monitors;
  std::int64_t check_every = 0;
  Output* checkpoint = nullptr;  // the configured checkpoint output, if any
  std::optional<ChunkSize> chunk;
  Clock::time_point start = Clock::now();
};

Run::Run(const Config& config, const Comm& comm, RunOptions options)
    : config_(config),
      comm_(comm),
      options_(std::move(options)),
      schedule_(std::make_unique<Schedule>()) {
  // Set-up can fail on some ranks only (a file one node cannot read): every rank says whether
  // it succeeded before any collective step, so that no rank waits for one that gave up.
  std::string error;
  try {
    check_machine_settings();
    // One rank checks the paths (and creates the directories) for all: the files are shared
    // (MPI-IO writes them collectively), and the check may read existing files.
    if (comm_.root()) created_dirs_ = check_output_paths(planned_files(), options_.overwrite);
  } catch (const Error& e) {
    error = e.what();
  }
  comm_.agree_or_throw(error);
  try {
    const RunSettings& rs = config_.run;
    const int threads = comm_.threads(rs.threads);
    comm_.check_thread_level(threads);
    method_ = rs.method == MethodKind::spectral ? make_spectral_method(config_, comm_, threads)
                                                : make_stencil_method(config_, comm_, threads);
    Schedule& s = *schedule_;
    s.check_every = rs.check_every;
    if (!rs.output.empty())
      s.outputs.push_back({make_snapshot_output(rs.output), {rs.output_every}, true});
    if (!rs.png.empty())
      s.outputs.push_back({make_png_output(rs.png, ColourRange{rs.png_lo, rs.png_hi, rs.png_log}),
                           {Every{rs.png_every, 0}},
                           true});
    if (!rs.checkpoint.empty()) {
      s.outputs.push_back({make_checkpoint_output(rs.checkpoint), {rs.checkpoint_every}, true});
      s.checkpoint = s.outputs.back().output.get();
    }
  } catch (const Error& e) {
    error = e.what();
  } catch (const std::bad_alloc&) {
    error = "out of memory allocating the fields of " +
            std::to_string(config_.problem.grid.cells()) +
            " cells: use a smaller grid or more ranks";
  }
  comm_.agree_or_throw(error);
  if (!options_.restart.empty()) restart(options_.restart, options_.force);
  if (options_.handle_signals) install_stop_signals();
}

Run::~Run() = default;

std::vector<PlannedFile> Run::planned_files() const {
  using Kind = PlannedFile::Kind;
  const RunSettings& rs = config_.run;
  std::vector<PlannedFile> files;
  if (!rs.output.empty()) {
    files.push_back({rs.output, "output.path", Kind::snapshots});
    files.push_back({xdmf_path(rs.output), "output.path's XDMF file", Kind::xdmf});
    files.push_back({rs.output + ".tmp", "the snapshot file being written", Kind::partial});
  }
  if (!rs.png.empty()) files.push_back({png_frame_path(rs.png, 0), "output.png", Kind::png});
  const std::string checkpoint = !rs.checkpoint.empty() ? rs.checkpoint
                                 : (options_.handle_signals || options_.stop_requested)
                                     ? options_.stop_checkpoint
                                     : std::string();
  if (!checkpoint.empty()) {
    files.push_back({checkpoint, "checkpoint.path", Kind::checkpoint});
    files.push_back({checkpoint + ".prev", "the previous checkpoint", Kind::checkpoint});
    files.push_back({checkpoint + ".tmp", "the checkpoint being written", Kind::other});
  }
  if (!options_.save_npy.empty()) files.push_back({options_.save_npy, "--save-npy", Kind::npy});
  return files;
}

void Run::restart(const std::string& path, bool force) {
  // Three phases, each ending in an agreement: one rank checks the seal (it reads the whole
  // file; every rank doing so multiplied the reads by the rank count), every rank checks the
  // header alone (a rank that cannot read the file must not leave the others waiting in the
  // collective read), then all read their blocks together.
  std::string error;
  try {
    if (comm_.root()) verify_checkpoint(path);
  } catch (const Error& e) {
    error = e.what();
  }
  comm_.agree_or_throw(error);
  CheckpointInfo info;
  try {
    info = check_checkpoint(path, problem(), force, /*verify_seal=*/false);
  } catch (const Error& e) {
    error = e.what();
  }
  comm_.agree_or_throw(error);
  Restored r;
  try {
    r = read_checkpoint_field(path, method_->state(), info);
  } catch (const Error& e) {
    error = e.what();
  }
  comm_.agree_or_throw(error);
  method_->load(r.block, r.step);
  first_step_ = r.step;
}

std::int64_t Run::step() const {
  return method_->step();
}
State Run::state() const {
  return method_->state();
}
Stats Run::stats() const {
  return method_->stats();
}
std::vector<double> Run::gather() const {
  return method_->gather();
}
std::string Run::method() const {
  return std::string(to_string(config_.run.method));
}
std::string Run::engine() const {
  return method_->engine();
}
std::string Run::engine_reason() const {
  return method_->reason();
}
std::string Run::plan() const {
  return method_->plan();
}
std::string Run::processes() const {
  return method_->processes();
}
int Run::threads() const {
  return method_->threads();
}
std::int64_t Run::steps_per_pass() const {
  return method_->steps_per_pass();
}
Field* Run::field() {
  return method_->field();
}
Field* Run::device_field() {
  return method_->device_field();
}

std::optional<double> Run::analytic_error() const {
  if (!has_analytic_solution(problem())) return std::nullopt;
  const std::vector<double> global = gather();
  if (!comm_.root()) return std::nullopt;
  return calor::analytic_error(problem(), global, time());
}

void Run::set_values(const std::function<void(Problem&)>& set) {
  Problem p = config_.problem;
  set(p);
  method_->set_values(p);
  config_.problem.boundaries = p.boundaries;
  config_.problem.sources.points = p.sources.points;
}

void Run::set_block(const std::vector<double>& dense) {
  method_->load(dense, step());
}

std::vector<std::string> Run::outputs() const {
  std::vector<std::string> v;
  for (const auto& o : schedule_->outputs)
    v.push_back(o.output->describe());
  return v;
}

void Run::add_monitor(Monitor m) {
  const Schedule::Timed when{m.every};
  schedule_->monitors.emplace_back(std::move(m), when);
}

// Chunks end at every step-based event: the greatest common divisor of their intervals. Not the
// health check's: for it a chunk ends at the first whole pass at or after each multiple of
// check_every (see advance), so that it never cuts a tiled block short: a short block costs a
// whole pass over memory for a few steps.
std::int64_t Run::stride() const {
  std::int64_t stride = 0;
  auto add = [&](std::int64_t e) {
    if (e > 0) stride = stride == 0 ? e : std::gcd(stride, e);
  };
  for (const auto& o : schedule_->outputs)
    add(o.when.every.steps);
  for (const auto& m : schedule_->monitors)
    add(m.first.every.steps);
  return stride;
}

RunReport Run::run() {
  RunReport r = advance(std::max<std::int64_t>(0, problem().steps - step()));
  if (r.end == RunEnd::reached && !options_.save_npy.empty()) {
    const std::vector<double> global = gather();  // collective
    if (comm_.root()) {
      std::vector<std::int64_t> shape;
      for (int a = problem().grid.dim - 1; a >= 0; --a)
        shape.push_back(problem().grid.n[a]);
      save_npy(options_.save_npy, shape, global.data());
    }
  }
  return r;
}

RunReport Run::advance(std::int64_t steps) {
  if (steps < 0) throw Error("cannot step backwards: steps = " + std::to_string(steps));
  RunReport report;
  const std::int64_t first = step(), target = first + steps;
  const auto t0 = Clock::now();
  // Chunks of whole passes (a tiled block is never cut short), sized from the slowest rank's
  // time so that every rank takes the same chunks.
  if (!schedule_->chunk && steps > 0) schedule_->chunk.emplace(method_->steps_per_pass());
  const std::int64_t every = stride();
  const double interval = options_.chunk_seconds;
  while (step() < target) {
    std::int64_t n = std::min(schedule_->chunk->steps(), target - step());
    if (every > 0) n = std::min(n, every - step() % every);
    if (const std::int64_t check = schedule_->check_every; check > 0) {
      const std::int64_t pass = schedule_->chunk->pass(), to_check = check - step() % check;
      n = std::min(n, (to_check + pass - 1) / pass * pass);
    }
    const auto c0 = Clock::now();
    method_->advance(n);
    schedule_->chunk->after(n, comm_.max(seconds_since(c0)), 0.25 * interval, interval);
    if (!after_chunk(RunProgress{step(), target, seconds_since(t0), first, time()}, n, report))
      break;
  }
  report.step = step();
  report.ran = step() - first;
  report.seconds = comm_.max(seconds_since(t0));
  return report;
}

// Between two chunks (the one just run took `chunk` steps): progress, health, outputs, monitors
// and stop requests. Returns false to end the run.
bool Run::after_chunk(const RunProgress& p, std::int64_t chunk, RunReport& report) {
  if (options_.progress) options_.progress(p);
  Schedule& s = *schedule_;
  const double now = comm_.max(seconds_since(s.start));  // time-based events: one decision
  const bool last = p.step == problem().steps;
  const bool asked = (options_.handle_signals && stop_requested()) ||
                     (options_.stop_requested && options_.stop_requested());
  const bool stop = comm_.max(asked ? 1.0 : 0.0) > 0;
  // The state is made only when something reads it: on a device that is a copy of the field.
  std::optional<State> viewed;
  const auto state = [&]() -> const State& {
    if (!viewed) viewed = method_->state();
    return *viewed;
  };
  std::vector<Schedule::ScheduledOutput*> due;
  for (auto& o : s.outputs)
    if (o.when.due(p.step, now) || (last && o.at_end)) due.push_back(&o);
  // Every written state has just been checked: no checkpoint of a blown-up field.
  const bool check_due =
      s.check_every > 0 && p.step / s.check_every > (p.step - chunk) / s.check_every;
  if (check_due || last || stop || !due.empty()) comm_.agree_or_throw(method_->check_health());
  bool written_checkpoint = false;
  if (!due.empty()) {    // the same on every rank: steps and `now` are agreed
    std::string failed;  // an output that fails on some ranks fails on all
    const auto w0 = Clock::now();
    for (Schedule::ScheduledOutput* o : due)
      try {
        o->output->write(state());
        ++report.files_written;
        written_checkpoint = written_checkpoint || o->output.get() == s.checkpoint;
      } catch (const Error& e) {
        failed = e.what();
        break;
      }
    report.io_seconds += seconds_since(w0);
    comm_.agree_or_throw(failed);
  }
  bool go_on = true;
  for (auto& [monitor, when] : s.monitors)
    if (when.due(p.step, now) && !monitor.call(state())) go_on = false;
  if (stop) {
    // Interrupted: save the state (unless just saved) so that the job can be resubmitted.
    if (s.checkpoint != nullptr) {
      if (!written_checkpoint) s.checkpoint->write(state());
      report.checkpoint = s.checkpoint->last_path();
    } else if (!options_.stop_checkpoint.empty()) {
      write_checkpoint(state(), options_.stop_checkpoint);
      report.checkpoint = options_.stop_checkpoint;
    }
    report.end = RunEnd::interrupted;
    return false;
  }
  // Only runs with monitors pay for agreeing on them.
  if (!s.monitors.empty() && comm_.max(go_on ? 0.0 : 1.0) > 0) {
    report.end = RunEnd::stopped;
    return false;
  }
  return true;
}

std::unique_ptr<Run> make_run(const Config& config, const Comm& comm, RunOptions options) {
  return std::make_unique<Run>(config, comm, std::move(options));
}

}  // namespace calor
