// calor._calor: the engine seen from Python. Problem is a checked configuration (the same
// load_config as the command line, so the same messages); Simulation owns a Solver and hands
// its current field to NumPy and DLPack without copying. The Python package (python/calor/)
// adds keyword arguments, progress bars and named results on top.

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "calor/backend.hpp"
#include "calor/comm.hpp"
#include "calor/config.hpp"
#include "calor/device.hpp"
#include "calor/error.hpp"
#include "calor/health.hpp"
#include "calor/machine.hpp"
#include "calor/npy.hpp"
#include "calor/output.hpp"
#include "calor/run.hpp"
#include "calor/version.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Steps are taken in chunks lasting about this long (up to twice as long): Ctrl-C and
/// progress callbacks are handled between chunks, so an interrupt lands within about a second,
/// at a whole step. Shorter chunks would cut the tiled backend's temporal blocks (32 steps deep
/// on the case study) and cost it several percent.
constexpr double kChunkSeconds = 0.5;

/// One `key = value` setting from Python: (key, TOML value, origin for messages).
using OverrideTuple = std::tuple<std::string, std::string, std::string>;

/// A checked configuration: what to solve and how.
struct PyProblem {
  calor::Config config;
};

std::string shape_string(const std::vector<std::size_t>& s);
std::vector<std::size_t> nb_shape(const calor::Grid& g);

/// A float64 C-order array on the CPU (calor.Problem converts what it is given to one).
using CellArray = nb::ndarray<const double, nb::c_contig, nb::device::cpu>;

/// The values of a cell-field array, copied once (the engine lays them out with halos), and its
/// shape appended to `shapes` for the check against the grid.
std::shared_ptr<const std::vector<double>> cell_array(
    const std::optional<CellArray>& a, const char* key,
    std::vector<std::pair<std::string, std::vector<std::size_t>>>& shapes) {
  if (!a) return nullptr;
  std::vector<std::size_t> shape;
  for (std::size_t d = 0; d < a->ndim(); ++d)
    shape.push_back(a->shape(d));
  shapes.emplace_back(key, shape);
  return std::make_shared<const std::vector<double>>(a->data(), a->data() + a->size());
}

PyProblem load_problem(const std::string& toml, const std::string& source,
                       const std::vector<OverrideTuple>& overrides,
                       const std::optional<CellArray>& diffusivity = std::nullopt,
                       const std::optional<CellArray>& heating = std::nullopt) {
  std::vector<calor::Override> ov;
  ov.reserve(overrides.size());
  for (const auto& [key, value, origin] : overrides)
    ov.push_back(calor::Override{key, value, origin});
  std::vector<std::pair<std::string, std::vector<std::size_t>>> shapes;
  calor::CellArrays arrays;
  arrays.diffusivity = cell_array(diffusivity, "diffusivity", shapes);
  arrays.heating = cell_array(heating, "sources.field", shapes);
  PyProblem p{calor::load_config(toml, source, ov, arrays)};
  const calor::Grid& g = p.config.problem.grid;
  const std::vector<std::size_t> want = nb_shape(g);
  for (const auto& [key, shape] : shapes)
    if (shape != want)
      throw calor::Error(key + " has shape " + shape_string(shape) + ", but the grid needs " +
                         shape_string(want) + " (NumPy order: z, y, x)");
  return p;
}

nb::tuple per_axis(const calor::Grid& g, auto&& value) {
  nb::list l;
  for (int a = 0; a < g.dim; ++a)
    l.append(value(a));
  return nb::tuple(l);
}

/// Interior cells per axis in NumPy order, slowest first (calor::numpy_shape), typed as
/// nanobind's shapes are.
std::vector<std::size_t> nb_shape(const calor::Grid& g) {
  const std::vector<std::int64_t> s = calor::numpy_shape(g);
  return {s.begin(), s.end()};
}

std::string shape_string(const std::vector<std::size_t>& s) {
  return calor::shape_text({s.begin(), s.end()});
}

/// NumPy's name for a DLPack dtype, for messages.
std::string dtype_name(const nb::dlpack::dtype& t) {
  using Code = nb::dlpack::dtype_code;
  std::string kind;
  switch (static_cast<Code>(t.code)) {
    case Code::Int:
      kind = "int";
      break;
    case Code::UInt:
      kind = "uint";
      break;
    case Code::Float:
      kind = "float";
      break;
    case Code::Complex:
      kind = "complex";
      break;
    case Code::Bool:
      return "bool";
    default:
      kind = "type" + std::to_string(t.code) + "_";
  }
  return kind + std::to_string(t.bits) + (t.lanes != 1 ? "x" + std::to_string(t.lanes) : "");
}

/// Keeps a Run's memory alive for as long as a NumPy or DLPack view of it exists, without
/// keeping the Python Simulation object alive: a view that outlives its Simulation (until
/// interpreter exit, say) is then no leaked nanobind instance.
nb::capsule run_owner(const std::shared_ptr<calor::Run>& run) {
  return nb::capsule(new std::shared_ptr<calor::Run>(run), [](void* p) noexcept {
    auto* owner = static_cast<std::shared_ptr<calor::Run>*>(p);
    // Freeing communicators and requests after MPI_Finalize is an error: leak them instead
    // (this only happens at interpreter exit).
    if (owner->use_count() == 1 && (*owner)->comm().size() > 1 && calor::Comm::mpi_finalized())
      return;
    delete owner;
  });
}

/// A block's shape and strides (in elements) in NumPy order, slowest axis first.
struct NumpyLayout {
  std::vector<std::size_t> shape;
  std::vector<std::int64_t> strides;
};
NumpyLayout numpy_layout(int dim, const std::array<calor::index_t, 3>& n, std::int64_t sy,
                         std::int64_t sz) {
  NumpyLayout l;
  for (int a = dim - 1; a >= 0; --a) {
    l.shape.push_back(static_cast<std::size_t>(n[static_cast<std::size_t>(a)]));
    l.strides.push_back(a == 0 ? 1 : a == 1 ? sy : sz);
  }
  return l;
}

/// A view of `s` (this process's block, NumPy order) whose `owner` keeps the memory alive:
/// writable over the stencil's field, read-only where the method keeps its own state
/// (spectral).
nb::object block_view(const calor::State& s, bool writable, nb::handle owner) {
  const NumpyLayout l = numpy_layout(
      s.problem->grid.dim, {s.box.size(0), s.box.size(1), s.box.size(2)}, s.stride_y, s.stride_z);
  if (writable)
    return nb::cast(nb::ndarray<nb::numpy, double>(const_cast<double*>(s.cells), l.shape.size(),
                                                   l.shape.data(), owner, l.strides.data()));
  return nb::cast(nb::ndarray<nb::numpy, const double>(s.cells, l.shape.size(), l.shape.data(),
                                                       owner, l.strides.data()));
}

class PySimulation {
 public:
  PySimulation(const PyProblem& problem, const std::string& backend, int threads,
               std::optional<std::int64_t> comm, const std::string& restart, bool force,
               bool overwrite)
      : config_(problem.config) {
    if (threads < 0) throw nb::value_error("threads must be >= 0 (0 = the default)");
    config_.run.backend = backend;
    config_.run.threads = threads;
    calor::RunOptions o;
    o.restart = restart;
    o.force = force;
    o.overwrite = overwrite;
    o.chunk_seconds = kChunkSeconds;
    o.stop_checkpoint.clear();  // Ctrl-C saves only the configured checkpoint
    calor::Comm c;
    // An MPI that is not running, or runs below the thread level the threads need, is a
    // RuntimeError in Python terms (the environment, not a setting).
    if (comm) try {
        c = calor::Comm::from_handle(*comm);
        c.check_thread_level(c.threads(threads));
      } catch (const calor::Error& e) {
        throw std::runtime_error(e.what());
      }
    run_ = std::make_shared<calor::Run>(config_, c, std::move(o));
  }

  ~PySimulation() {
    // Freeing communicators and requests after MPI_Finalize is an error: leak them instead
    // (this only happens at interpreter exit).
    if (run_ && run_.use_count() == 1 && run_->comm().size() > 1 && calor::Comm::mpi_finalized())
      (void)new std::shared_ptr<calor::Run>(std::move(run_));
  }

  PySimulation(const PySimulation&) = delete;
  PySimulation& operator=(const PySimulation&) = delete;

  /// Advances `n` steps through the run loop with the GIL released: progress(step, total,
  /// seconds) and the monitors are called between chunks with the GIL held, and Ctrl-C stops
  /// the run at a whole step (saving the configured checkpoint) and raises KeyboardInterrupt.
  /// Under MPI every rank stops at the same step when any rank was interrupted.
  double advance(nb::handle self, std::int64_t n, nb::handle progress, std::int64_t total) {
    if (n < 0) throw nb::value_error(("cannot step backwards: n = " + std::to_string(n)).c_str());
    std::optional<nb::python_error> signalled;
    calor::RunOptions& o = run_->options();
    if (progress.is_valid() && !progress.is_none())
      o.progress = [&](const calor::RunProgress& p) {
        nb::gil_scoped_acquire gil;
        Reentry reentry(busy_);
        progress(p.step, total, p.seconds);
      };
    o.stop_requested = [&] {
      nb::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() == 0) return false;
      signalled.emplace();  // takes the pending exception (KeyboardInterrupt)
      return true;
    };
    self_ = self;
    calor::RunReport r;
    try {
      Busy busy(busy_);
      nb::gil_scoped_release release;
      r = run_->advance(n);
    } catch (...) {
      o.progress = nullptr;
      o.stop_requested = nullptr;
      throw;
    }
    o.progress = nullptr;
    o.stop_requested = nullptr;
    if (r.end == calor::RunEnd::interrupted) {
      if (signalled) throw *signalled;
      PyErr_SetNone(PyExc_KeyboardInterrupt);  // another rank was stopped
      throw nb::python_error();
    }
    return r.seconds;
  }

  /// Calls `fn(sim)` every `steps` steps and/or `seconds` seconds of a run; fn returning False
  /// ends the current run() or step() early.
  void add_monitor(nb::object fn, std::int64_t steps, double seconds) {
    if (steps < 0 || seconds < 0 || (steps == 0 && seconds == 0))
      throw nb::value_error(("add_monitor needs every > 0 steps or seconds > 0, got every=" +
                             std::to_string(steps) + ", seconds=" + std::to_string(seconds))
                                .c_str());
    // The function is held here, where the garbage collector sees it (simulation_traverse):
    // a monitor usually refers to its Simulation (a closure, or its module's globals), and a
    // reference hidden inside the Run would make that cycle immortal.
    const std::size_t slot = monitors_.size();
    monitors_.push_back(std::move(fn));
    auto call = [this, slot](const calor::State&) {
      nb::gil_scoped_acquire gil;
      if (!monitors_[slot].is_valid()) return true;  // cleared by the garbage collector
      Reentry reentry(busy_);
      nb::object r = monitors_[slot](self_);
      return r.is_none() || nb::cast<bool>(r);
    };
    run_->add_monitor(calor::Monitor{calor::Every{steps, seconds}, call});
  }

  /// The Python monitors, for the garbage collector.
  [[nodiscard]] const std::vector<nb::object>& monitors() const { return monitors_; }
  /// Drops them (the collector's tp_clear, to break a cycle through them).
  void clear_monitors() {
    for (nb::object& m : monitors_)
      m.reset();
  }

  [[nodiscard]] nb::object field() {
    check_idle();
    return block_view(run_->state(), run_->field() != nullptr, run_owner(run_));
  }

  void set_field(nb::handle array) {
    check_idle();
    const calor::State st = run_->state();
    std::vector<std::size_t> want;
    for (int a = st.problem->grid.dim - 1; a >= 0; --a)
      want.push_back(static_cast<std::size_t>(st.box.size(a)));
    const std::string expected =
        "expected a C-contiguous float64 array of shape " + shape_string(want);
    nb::ndarray<nb::ro> a;
    if (!nb::try_cast(array, a, /*convert=*/false))
      throw nb::value_error(
          (expected + ", got " + nb::type_name(array.type()).c_str() + " (nothing is converted)")
              .c_str());
    std::vector<std::size_t> got;
    bool c_order = true;
    std::int64_t expect_stride = 1;
    for (std::size_t d = a.ndim(); d-- > 0;) {
      if (a.shape(d) > 1 && a.stride(d) != expect_stride) c_order = false;
      expect_stride *= static_cast<std::int64_t>(a.shape(d));
    }
    for (std::size_t d = 0; d < a.ndim(); ++d)
      got.push_back(a.shape(d));
    const bool f64 = a.dtype() == nb::dtype<double>();
    if (f64 && got == want && a.data() == st.cells) return;  // sim.field = sim.field
    const bool cpu = a.device_type() == nb::device::cpu::value;
    if (!f64 || got != want || !c_order || !cpu)
      throw nb::value_error((expected + ", got dtype " + dtype_name(a.dtype()) + ", shape " +
                             shape_string(got) +
                             (c_order ? ", C-contiguous" : ", not C-contiguous") +
                             (cpu ? "" : ", not in CPU memory") +
                             " (nothing is converted: use np.ascontiguousarray(x, "
                             "dtype=np.float64))")
                                .c_str());
    const auto* data = static_cast<const double*>(a.data());
    if (calor::Field* f = run_->field())
      f->copy_interior_from(data);
    else
      run_->set_block(std::vector<double>(data, data + st.box.count()));
  }

  [[nodiscard]] nb::object dlpack(nb::kwargs kwargs) {
    // A cuda run's field is in device memory: a DLPack view with the CUDA device type, so
    // cupy.from_dlpack(sim) and torch.from_dlpack(sim) see it without a copy (nanobind's array
    // handles the keywords: stream, max_version, dl_device, copy).
    if (calor::Field* d = run_->device_field()) return device_view(*d).attr("__dlpack__")(**kwargs);
    // NumPy's own __dlpack__ on the view handles every keyword (max_version, dl_device, copy,
    // stream) as the array API standard says; the capsule keeps the view, so the memory, alive.
    return field().attr("__dlpack__")(**kwargs);
  }

  /// (kDLCPU, 0), or (kDLCUDA, device) where a cuda run keeps the field on a GPU.
  [[nodiscard]] std::tuple<int, int> dlpack_device() {
    if (run_->device_field() != nullptr) return {nb::device::cuda::value, calor::current_device()};
    return {nb::device::cpu::value, 0};
  }

  // This process's block of a device field, NumPy order, as an array on its CUDA device.
  nb::object device_view(calor::Field& f) {
    check_idle();
    const NumpyLayout l = numpy_layout(f.grid().dim, f.grid().n, f.stride_y(), f.stride_z());
    return nb::cast(nb::ndarray<double>(f.raw() + f.offset(0, 0, 0), l.shape.size(), l.shape.data(),
                                        run_owner(run_), l.strides.data(), nb::dtype<double>(),
                                        nb::device::cuda::value, calor::current_device()));
  }

  [[nodiscard]] std::tuple<double, double, double, double> stats() const {
    check_idle();
    const calor::Stats s = run_->stats();
    return {s.heat, s.min, s.max, s.l2};
  }

  [[nodiscard]] nb::object gather() const {
    check_idle();
    auto* global = new std::vector<double>(run_->gather());
    nb::capsule owner(global,
                      [](void* p) noexcept { delete static_cast<std::vector<double>*>(p); });
    if (run_->comm().rank() != 0) return nb::none();
    const std::vector<std::size_t> shape = nb_shape(run_->problem().grid);
    return nb::cast(
        nb::ndarray<nb::numpy, double>(global->data(), shape.size(), shape.data(), owner));
  }

  /// Writes a checkpoint of the current state to `path` (collective).
  void save_checkpoint(const std::string& path) {
    check_idle();
    nb::gil_scoped_release release;
    calor::write_checkpoint(run_->state(), path);
  }

  [[nodiscard]] nb::tuple box() const {
    const calor::Box b = run_->state().box;
    nb::list l;
    for (int a = run_->problem().grid.dim - 1; a >= 0; --a)
      l.append(nb::slice(nb::int_(b.low[a]), nb::int_(b.high[a]), nb::none()));
    return nb::tuple(l);
  }

  /// Seconds per one-step advance timed in C++ over `calls` calls: the engine's own cost of a
  /// step, for measuring what the Python call adds.
  double time_step_in_cpp(std::int64_t calls) {
    Busy busy(busy_);
    nb::gil_scoped_release release;
    const auto t0 = Clock::now();
    for (std::int64_t i = 0; i < calls; ++i)
      run_->advance(1);
    return seconds_since(t0) / static_cast<double>(std::max<std::int64_t>(calls, 1));
  }

  /// Address of the current field's interior cell (0, 0, 0).
  [[nodiscard]] std::uintptr_t address() const {
    return reinterpret_cast<std::uintptr_t>(run_->state().cells);
  }

  [[nodiscard]] double chunk_seconds() const { return run_->options().chunk_seconds; }
  void set_chunk_seconds(double s) {
    if (!(s > 0)) throw nb::value_error("chunk seconds must be > 0");
    run_->options().chunk_seconds = s;
  }

  [[nodiscard]] const calor::Run& run() const { return *run_; }
  [[nodiscard]] calor::Run& run() { return *run_; }

 private:
  /// Marks the simulation as stepping (the GIL is then released) so that another thread cannot
  /// step it, read it or write it at the same time.
  class Busy {
   public:
    explicit Busy(std::atomic<bool>& flag) : flag_(flag) {
      if (flag_.exchange(true))
        throw std::runtime_error("this Simulation is stepping in another thread; wait for it");
    }
    ~Busy() { flag_.store(false); }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;

   private:
    std::atomic<bool>& flag_;
  };
  /// Inside a callback of the stepping thread (progress, monitors) the Simulation may be read:
  /// the run loop is between two chunks.
  class Reentry {
   public:
    explicit Reentry(std::atomic<bool>& flag) : flag_(flag) { flag_.store(false); }
    ~Reentry() { flag_.store(true); }
    Reentry(const Reentry&) = delete;
    Reentry& operator=(const Reentry&) = delete;

   private:
    std::atomic<bool>& flag_;
  };

  void check_idle() const {
    if (busy_.load())
      throw std::runtime_error("this Simulation is stepping in another thread; wait for it");
  }

  calor::Config config_;
  std::shared_ptr<calor::Run> run_;  ///< shared with the views of its field
  nb::handle self_;                  ///< the Python object, while advance() runs (for the monitors)
  std::vector<nb::object> monitors_;  ///< the Python monitors' functions (see add_monitor)
  std::atomic<bool> busy_{false};
};

// Simulation's garbage-collector slots: its monitors are the Python objects it owns.
int simulation_traverse(PyObject* self, visitproc visit, void* arg) {
  Py_VISIT(Py_TYPE(self));
  if (!nb::inst_ready(self)) return 0;
  for (const nb::object& m : nb::inst_ptr<PySimulation>(self)->monitors())
    Py_VISIT(m.ptr());
  return 0;
}

int simulation_clear(PyObject* self) {
  if (nb::inst_ready(self)) nb::inst_ptr<PySimulation>(self)->clear_monitors();
  return 0;
}

PyType_Slot simulation_slots[] = {{Py_tp_traverse, reinterpret_cast<void*>(simulation_traverse)},
                                  {Py_tp_clear, reinterpret_cast<void*>(simulation_clear)},
                                  {0, nullptr}};

const char* kProblemDoc =
    R"(A checked heat-diffusion problem: grid, diffusivity, time step, boundaries,
sources and initial state, plus how to compute it (backend, threads).

Build one with calor.Problem(**settings) or calor.Problem.from_toml(path); this
base class takes TOML text, a source name and (key, TOML value, origin)
overrides, exactly as `calor run` does with a file and its flags.)";

const char* kSimulationDoc = R"(A running simulation of one Problem (the engine's Solver).)";

/// Module-level names: the Error exception, how this build was made (version, compiler, MPI),
/// and the lookups the Python package offers (backends, presets, configuration keys, datasets,
/// default threads).
// The engine's messages name `calor run`'s flags; in Python they name the keyword arguments.
std::string python_message(std::string msg) {
  static const std::pair<const char*, const char*> kSwaps[] = {
      {"See `calor run --help` for the keys.", "See help(calor.Problem) for the keys."},
      {"(--dt), or --allow-unstable to run anyway",
       "(dt=...), or allow_unstable=True to run anyway"},
      {"(or drop --allow-unstable)", "(or drop allow_unstable=True)"},
      {"(e.g. --n 480) or a --preset", "(e.g. n=480) or use calor.presets"},
      {"(--output FILE.h5)", "(output={'path': 'FILE.h5'})"},
      {"(--checkpoint FILE.h5)", "(checkpoint={'path': 'FILE.h5'})"},
      {"(--png PREFIX)", "(output={'png': 'PREFIX'})"},
      {"or pass --force to continue", "or pass force=True to continue"},
      {"pass --overwrite (Python: overwrite=True)", "pass overwrite=True"},
  };
  for (const auto& [cli, py] : kSwaps)
    for (auto at = msg.find(cli); at != std::string::npos; at = msg.find(cli, at))
      msg.replace(at, std::strlen(cli), py);
  return msg;
}

void bind_functions(nb::module_& m) {
  // calor::Error is a mistake the user can fix: a ValueError with the engine's message, in
  // Python's terms.
  static nb::exception<calor::Error> error(m, "Error", PyExc_ValueError);
  nb::register_exception_translator(
      [](const std::exception_ptr& p, void* type) {
        try {
          std::rethrow_exception(p);
        } catch (const calor::Error& e) {
          PyErr_SetString(static_cast<PyObject*>(type), python_message(e.what()).c_str());
        }
      },
      error.ptr());
  m.attr("Error").attr("__doc__") =
      "A setting or input calor cannot use; the message names it, its value and the remedy.";

  m.attr("version") = calor::kVersion;
  m.attr("compiler") = calor::kCompiler;
  m.attr("build_type") = calor::kBuildType;
  m.attr("build_flags") = calor::kBuildFlags;
  m.attr("have_mpi") = calor::Comm::have_mpi();

  m.def("mpi_library", &calor::Comm::library_version,
        "MPI_Get_library_version() of the MPI calor was built with (\"\" without MPI).");
  m.def("backends", &calor::backend_names,
        "Names of the backends compiled in, plus \"auto\" (which picks one by grid size).");
  m.def(
      "presets",
      [] {
        std::vector<std::tuple<std::string, std::string>> v;
        for (const auto& p : calor::presets())
          v.emplace_back(p.name, p.summary);
        return v;
      },
      "The ready-made problems as (name, summary) pairs.");
  m.def(
      "config_keys",
      [] {
        std::vector<std::tuple<std::string, std::string, std::string, std::string, std::string>> v;
        for (const auto& k : calor::config_keys())
          v.emplace_back(k.name, k.type, k.default_value, k.help, k.example);
        return v;
      },
      "The configuration keys, those of a TOML file, `calor run --set` and calor.Problem, as "
      "(name, type, default, help, example) tuples: default is text (\"\" if none), example "
      "a TOML value.");
  m.def(
      "read_dataset",
      [](const std::string& path, const std::string& dataset) {
        std::vector<std::int64_t> shape;
        auto* values = new std::vector<double>(calor::read_dataset(path, dataset, shape));
        nb::capsule owner(values,
                          [](void* p) noexcept { delete static_cast<std::vector<double>*>(p); });
        const std::vector<std::size_t> dims(shape.begin(), shape.end());
        return nb::ndarray<nb::numpy, double>(values->data(), dims.size(), dims.data(), owner);
      },
      "path"_a, "dataset"_a = "",
      nb::sig("def read_dataset(path: str, dataset: str = '') -> "
              "numpy.typing.NDArray[numpy.float64]"),
      "A field from a snapshot or checkpoint file written by calor, as a new array: `dataset` "
      "is a step number or a dataset path (\"/field\", \"/snapshots/0000000100\"); empty "
      "takes a checkpoint's field or the last snapshot. Raises calor.Error naming the file.");
  m.def("default_threads", &calor::default_threads,
        "Threads a parallel backend uses by default: OMP_NUM_THREADS if set, else the cores "
        "available.");
  m.def("llc_sweep_speed", &calor::llc_sweep_speed,
        "How fast a plain sweep runs with its fields in the last-level cache, as a fraction of "
        "its rate in the L2: the case study's kernel timed on both, once per process (10-20 "
        "ms; the environment variable CALOR_LLC_SPEED gives it instead). Below 0.75, \"auto\" "
        "and the tiled backend's strips size temporal blocking by the L2, not the last level.");
}

/// Problem's settings beyond grid and time step: stencil form, boundaries, sources and run
/// settings (split from bind_problem to keep each function short).
void bind_problem_settings(nb::class_<PyProblem>& cls) {
  cls.def_prop_ro(
         "form",
         [](const PyProblem& p) {
           return p.config.problem.form == calor::StencilForm::factored ? "factored" : "expanded";
         },
         "Stencil arithmetic: \"expanded\" or \"factored\" (the case study's order).")
      .def_prop_ro(
          "allow_unstable", [](const PyProblem& p) { return p.config.problem.allow_unstable; },
          "Whether r > 1/2 was allowed.")
      .def_prop_ro(
          "boundary",
          [](const PyProblem& p) {
            const calor::Problem& pr = p.config.problem;
            nb::dict d;
            for (int a = 0; a < pr.grid.dim; ++a)
              for (int s = 0; s < 2; ++s)
                d[calor::face_name(a, s).c_str()] = calor::describe(pr.boundaries.face[a][s]);
            return d;
          },
          nb::sig("def boundary(self) -> dict[str, str]"),
          "Each face's condition, e.g. {'x_low': 'dirichlet(0)', ...}.")
      .def_prop_ro(
          "point_sources",
          [](const PyProblem& p) {
            const calor::Problem& pr = p.config.problem;
            nb::list l;
            for (const auto& s : pr.sources.points)
              l.append(nb::make_tuple(per_axis(pr.grid, [&](int a) { return s.at[a]; }), s.energy));
            return l;
          },
          nb::sig("def point_sources(self) -> list[tuple[tuple[int, ...], float]]"),
          "Point sources as ((i, j, ...), energy): 0-based cells, x first, energy per step.")
      .def_prop_ro(
          "volumetric", [](const PyProblem& p) { return p.config.problem.sources.volumetric; },
          "Volumetric source rate q (q*dt is added to every cell each step).")
      .def_prop_ro(
          "backend", [](const PyProblem& p) { return p.config.run.backend; },
          "The backend setting (\"auto\" unless given).")
      .def_prop_ro(
          "threads", [](const PyProblem& p) { return p.config.run.threads; },
          "The threads setting (0 = the default).");
}

/// calor.Problem: a checked configuration, built from TOML text and overrides, with read-only
/// views of its grid and time step here and the other settings in bind_problem_settings.
void bind_problem(nb::module_& m) {
  nb::class_<PyProblem> cls(m, "Problem", kProblemDoc);
  cls.def(
         "__init__",
         [](PyProblem* self, const std::string& toml, const std::string& source,
            const std::vector<OverrideTuple>& overrides, std::optional<CellArray> diffusivity,
            std::optional<CellArray> heating) {
           new (self) PyProblem(load_problem(toml, source, overrides, diffusivity, heating));
         },
         "toml"_a, "source"_a, "overrides"_a, "diffusivity"_a = nb::none(),
         "heating"_a = nb::none(),
         "Checks TOML text named `source` with `overrides` applied on top, and the cell "
         "fields `diffusivity` (alpha per cell) and `heating` (q per cell) given as float64 "
         "C-order arrays; raises calor.Error (a ValueError) naming the key, its value and "
         "where it came from.")
      .def_prop_ro(
          "preset", [](const PyProblem& p) { return p.config.problem.name; },
          "The preset it started from, or \"custom\".")
      .def_prop_ro(
          "dim", [](const PyProblem& p) { return p.config.problem.grid.dim; },
          "Dimensions: 1, 2 or 3.")
      .def_prop_ro(
          "n",
          [](const PyProblem& p) {
            const calor::Grid& g = p.config.problem.grid;
            return per_axis(g, [&](int a) { return g.n[a]; });
          },
          nb::sig("def n(self) -> tuple[int, ...]"),
          "Interior cells per axis, x first, as the TOML key `n` reads: (nx,), (nx, ny) or "
          "(nx, ny, nz).")
      .def_prop_ro(
          "shape",
          [](const PyProblem& p) {
            const calor::Grid& g = p.config.problem.grid;
            nb::list l;
            for (const std::size_t s : nb_shape(g))
              l.append(s);
            return nb::tuple(l);
          },
          nb::sig("def shape(self) -> tuple[int, ...]"),
          "The field's NumPy shape, slowest axis first: (nx,), (ny, nx) or (nz, ny, nx).")
      .def_prop_ro(
          "h",
          [](const PyProblem& p) {
            const calor::Grid& g = p.config.problem.grid;
            return per_axis(g, [&](int a) { return g.h[a]; });
          },
          nb::sig("def h(self) -> tuple[float, ...]"), "Grid spacing per axis, x first.")
      .def_prop_ro(
          "alpha", [](const PyProblem& p) { return p.config.problem.alpha; }, "Diffusivity.")
      .def_prop_ro(
          "dt", [](const PyProblem& p) { return p.config.problem.dt; }, "Time step.")
      .def_prop_ro(
          "steps", [](const PyProblem& p) { return p.config.problem.steps; },
          "Steps that Simulation.run() takes.")
      .def_prop_ro(
          "r", [](const PyProblem& p) { return p.config.problem.stability_number(); },
          "Stability number r = alpha*dt*sum(1/h^2); FTCS is stable for r <= 1/2.")
      .def_prop_ro(
          "max_stable_dt", [](const PyProblem& p) { return p.config.problem.max_stable_dt(); },
          "The largest stable time step, 1 / (2 alpha sum(1/h^2)).");
  bind_problem_settings(cls);
}

/// Simulation's state as arrays: NumPy and DLPack views of the field, its statistics and the
/// gathered global field.
void bind_simulation_field(nb::class_<PySimulation>& cls) {
  cls.def_prop_rw(
         "field", [](PySimulation& s) { return s.field(); },
         [](PySimulation& s, nb::handle array) { s.set_field(array); },
         nb::for_getter(nb::sig("def field(self) -> numpy.typing.NDArray[numpy.float64]")),
         nb::for_setter(
             nb::sig("def field(self, array: numpy.typing.NDArray[numpy.float64], /) -> None")),
         "The current state's interior as a NumPy view, shape (nz, ny, nx) trimmed to dim, "
         "without copying (this rank's block under MPI).\n\n"
         "The stencil keeps two buffers and swaps them every step, so a view is valid until "
         "the next step: read sim.field again after stepping. Writing into the view changes "
         "the state the next step starts from. With method=\"spectral\" the view is "
         "read-only; assign sim.field = array to restart the transforms from new values. The "
         "view keeps the field's memory alive, even after the Simulation is gone.")
      .def("set_field", &PySimulation::set_field, "array"_a,
           nb::sig("def set_field(self, array: numpy.typing.NDArray[numpy.float64]) -> None"),
           "Copies `array` into the current state's interior. Only a C-contiguous float64 "
           "array of exactly sim.field.shape is accepted; anything else raises ValueError "
           "naming what was expected and what was given. Nothing is converted.")
      .def(
          "__dlpack__",
          [](PySimulation& s, nb::kwargs kwargs) { return s.dlpack(std::move(kwargs)); },
          nb::sig("def __dlpack__(self, **kwargs: object) -> typing_extensions.CapsuleType"),
          "The current field as a DLPack capsule (no copy), so np.from_dlpack(sim) and other "
          "array libraries see the state. Valid until the next step, like sim.field.")
      .def(
          "__dlpack_device__", [](PySimulation& s) { return s.dlpack_device(); },
          "(1, 0) where the field lives in CPU memory (kDLCPU, device 0); (2, d) for a cuda "
          "run, whose field stays on GPU d (kDLCUDA).")
      .def("_stats", &PySimulation::stats,
           "(heat, min, max, l2) of the global interior (collective under MPI).")
      .def("gather", &PySimulation::gather,
           nb::sig("def gather(self) -> numpy.typing.NDArray[numpy.float64] | None"),
           "The global field as a new array on rank 0 (None on the other ranks); one process "
           "gets a copy of sim.field. Collective under MPI: every rank must call it.");
}

/// Simulation's read-only facts about the run (this process's block, step, time, method,
/// backend, processes) and the private hooks the Python package and its tests use (chunk
/// length, timing, field address).
void bind_simulation_properties(nb::class_<PySimulation>& cls) {
  cls.def_prop_ro("box", &PySimulation::box, nb::sig("def box(self) -> tuple[slice, ...]"),
                  "This process's block of the global grid as slices in NumPy order, so that "
                  "sim.gather()[sim.box] is sim.field. One process owns everything.")
      .def_prop_ro(
          "step_count", [](const PySimulation& s) { return s.run().step(); },
          "Steps taken so far (from the checkpoint's step after a restart).")
      .def_prop_ro(
          "time", [](const PySimulation& s) { return s.run().time(); },
          "Simulated time: step_count * dt.")
      .def_prop_ro(
          "method", [](const PySimulation& s) { return s.run().method(); },
          "\"stencil\" (explicit FTCS) or \"spectral\" (FFT).")
      .def_prop_ro(
          "backend", [](const PySimulation& s) { return s.run().engine(); },
          "The backend computing the steps, e.g. \"threads\" (\"spectral\" for the spectral "
          "method).")
      .def_prop_ro(
          "backend_reason", [](const PySimulation& s) { return s.run().engine_reason(); },
          "Why that backend runs (\"auto: ...\" or \"chosen by the user\"), or the spectral "
          "transforms used.")
      .def_prop_ro(
          "outputs", [](const PySimulation& s) { return s.run().outputs(); },
          "What the run writes (snapshots, PNG frames, checkpoints), from the problem's output "
          "and checkpoint settings.")
      .def_prop_ro(
          "threads", [](const PySimulation& s) { return s.run().threads(); },
          "Host threads per process the steps use: those asked for where the backend is "
          "threaded (threads, tiled) or the method spectral, else 1 (serial, simd, cuda).")
      .def_prop_ro(
          "rank", [](const PySimulation& s) { return s.run().comm().rank(); },
          "This process's rank (0 without MPI).")
      .def_prop_ro(
          "ranks", [](const PySimulation& s) { return s.run().comm().size(); },
          "Number of processes sharing the grid (1 without MPI).")
      .def_prop_ro(
          "decomposition", [](const PySimulation& s) { return s.run().processes(); },
          "How the grid is split, e.g. \"1 process\" or \"6 ranks as 3 x 2\".")
      .def_prop_rw("_chunk_seconds", &PySimulation::chunk_seconds, &PySimulation::set_chunk_seconds,
                   "Target wall time of a chunk of steps (0.5 s): signals, progress and "
                   "monitors are handled between chunks.")
      .def("_time_step_in_cpp", &PySimulation::time_step_in_cpp, "calls"_a,
           "Seconds per one-step advance timed inside C++ (advances `calls` steps).")
      .def("_address", &PySimulation::address,
           "Address of the current field's interior cell (0, 0, 0).");
}

/// calor.Simulation: construction and stepping here; field access and properties in the two
/// functions above, called in this order so that the stub lists members as before.
void bind_simulation(nb::module_& m) {
  nb::class_<PySimulation> cls(m, "Simulation", kSimulationDoc, nb::is_weak_referenceable(),
                               nb::type_slots(simulation_slots));
  cls.def(nb::init<const PyProblem&, const std::string&, int, std::optional<std::int64_t>,
                   const std::string&, bool, bool>(),
          "problem"_a, "backend"_a, "threads"_a, "comm"_a.none(), "restart"_a = "",
          "force"_a = false, "overwrite"_a = false,
          "Allocates the fields and applies the initial state (or loads checkpoint `restart`). "
          "`backend` is a name from calor.backends(); `threads` 0 means the default; `comm` is "
          "the Fortran handle of an MPI communicator (mpi4py's comm.py2f()) or None; "
          "`overwrite` lets the outputs replace files calor did not write.")
      .def(
          "step",
          [](nb::handle self, std::int64_t n) {
            auto& s = nb::cast<PySimulation&>(self);
            s.advance(self, n, nb::handle(), s.run().step() + n);
          },
          "n"_a = 1,
          "Advances n steps (default 1) through the run loop: health checks, scheduled outputs "
          "and monitors happen at their steps. The GIL is released while the engine works; "
          "Ctrl-C is honoured between chunks of up to about half a second, leaving the state "
          "at a whole step (and saving the configured checkpoint). Under MPI every rank must "
          "call it.")
      .def(
          "_advance",
          [](nb::handle self, std::int64_t n, nb::handle progress, std::int64_t total) {
            return nb::cast<PySimulation&>(self).advance(self, n, progress, total);
          },
          "n"_a, "progress"_a.none(), "total"_a,
          "Advances n steps, calling progress(step, total, seconds) between chunks; returns the "
          "wall time.")
      .def("_add_monitor", &PySimulation::add_monitor, "fn"_a, "steps"_a, "seconds"_a,
           "Calls fn(sim) every `steps` steps and/or `seconds` seconds while stepping; fn "
           "returning False ends the current step() or run() early.")
      .def(
          "_set_boundary_value",
          [](PySimulation& s, int axis, int side, double value) {
            s.run().set_values([&](calor::Problem& p) {
              calor::Boundary& b = p.boundaries.face.at(static_cast<std::size_t>(axis))
                                       .at(static_cast<std::size_t>(side));
              b.value = value;
              b.table = {};
            });
          },
          "axis"_a, "side"_a, "value"_a,
          "Sets the value of face (axis, side) from the next step on (its callable's value).")
      .def(
          "_set_source_energy",
          [](PySimulation& s, std::size_t index, double energy) {
            s.run().set_values([&](calor::Problem& p) {
              calor::PointSource& ps = p.sources.points.at(index);
              ps.energy = energy;
              ps.table = {};
            });
          },
          "index"_a, "energy"_a,
          "Sets point source `index`'s energy from the next step on (its callable's value).")
      .def_prop_ro(
          "steps_per_pass", [](const PySimulation& s) { return s.run().steps_per_pass(); },
          "Steps the backend takes per pass over memory (the tiled block depth; 1 for plain "
          "sweeps): chunks are whole multiples of it. Collective under MPI.")
      .def("save_checkpoint", &PySimulation::save_checkpoint, "path"_a,
           "Writes a checkpoint of the current state to `path` (through path.tmp, keeping the "
           "previous one as path.prev), as `calor run --checkpoint` does. Collective under MPI.");
  bind_simulation_field(cls);
  bind_simulation_properties(cls);
}

}  // namespace

NB_MODULE(_calor, m) {
  m.doc() = "calor's compiled core; use the calor package, which wraps it.";
  bind_functions(m);
  bind_problem(m);
  bind_simulation(m);
}
