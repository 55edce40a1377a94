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
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "calor/backend.hpp"
#include "calor/config.hpp"
#include "calor/error.hpp"
#include "calor/health.hpp"
#include "calor/machine.hpp"
#include "calor/solver.hpp"
#include "calor/version.hpp"

#ifdef CALOR_HAVE_MPI
#include <mpi.h>

#include "calor/mpi_domain.hpp"
#endif

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

PyProblem load_problem(const std::string& toml, const std::string& source,
                       const std::vector<OverrideTuple>& overrides) {
  std::vector<calor::Override> ov;
  ov.reserve(overrides.size());
  for (const auto& [key, value, origin] : overrides)
    ov.push_back(calor::Override{key, value, origin});
  return PyProblem{calor::load_config(toml, source, ov)};
}

nb::tuple per_axis(const calor::Grid& g, auto&& value) {
  nb::list l;
  for (int a = 0; a < g.dim; ++a)
    l.append(value(a));
  return nb::tuple(l);
}

/// Interior cells per axis in NumPy order, slowest first: (nz, ny, nx) trimmed to dim.
std::vector<std::size_t> numpy_shape(const calor::Grid& g) {
  std::vector<std::size_t> s;
  for (int a = g.dim - 1; a >= 0; --a)
    s.push_back(static_cast<std::size_t>(g.n[a]));
  return s;
}

std::string shape_string(const std::vector<std::size_t>& s) {
  std::string r = "(";
  for (std::size_t i = 0; i < s.size(); ++i)
    r += (i ? ", " : "") + std::to_string(s[i]);
  return r + (s.size() == 1 ? ",)" : ")");
}

/// Distance in elements between neighbours along each NumPy axis of `f`'s interior.
std::vector<std::int64_t> numpy_strides(const calor::Field& f) {
  std::vector<std::int64_t> s;
  for (int a = f.grid().dim - 1; a >= 0; --a)
    s.push_back(a == 0 ? 1 : a == 1 ? f.stride_y() : f.stride_z());
  return s;
}

/// The interior of `f` as a NumPy array over its storage (the halo skipped by the strides),
/// keeping `owner` alive.
nb::ndarray<nb::numpy, double> interior_view(calor::Field& f, nb::handle owner) {
  const std::vector<std::size_t> shape = numpy_shape(f.grid());
  const std::vector<std::int64_t> strides = numpy_strides(f);
  return nb::ndarray<nb::numpy, double>(f.raw() + f.offset(0, 0, 0), shape.size(), shape.data(),
                                        owner, strides.data());
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

#ifdef CALOR_HAVE_MPI
bool mpi_finalized() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  return finalized != 0;
}
#endif

class PySimulation {
 public:
  PySimulation(const PyProblem& problem, const std::string& backend, int threads,
               std::optional<std::int64_t> comm) {
    const calor::Problem& p = problem.config.problem;
    const calor::RunSettings& run = problem.config.run;
    // Files are written by `calor run`; here they would be silently left unwritten.
    for (const auto& [key, value] :
         {std::pair{"output.path", run.output}, std::pair{"output.png", run.png},
          std::pair{"checkpoint.path", run.checkpoint}})
      if (!value.empty())
        throw calor::Error(std::string("key '") + key + "' = \"" + value +
                           "\": snapshots, PNG frames and checkpoints are written by `calor "
                           "run`; calor.Simulation does not write them (save sim.gather() with "
                           "NumPy instead)");
    if (run.method != "stencil")
      throw calor::Error("key 'method' = \"" + run.method +
                         "\": calor.Simulation steps the stencil; the spectral method is "
                         "`calor run --method spectral` (or method = \"stencil\" here)");
    check_every_ = run.check_every;
    if (threads < 0) throw nb::value_error("threads must be >= 0 (0 = the default)");
    calor::BackendOptions opt{threads, problem.config.run.tile_depth,
                              problem.config.run.tile_width};
    std::shared_ptr<const calor::Domain> domain;
    if (comm) {
#ifdef CALOR_HAVE_MPI
      int initialized = 0;
      MPI_Initialized(&initialized);
      if (!initialized || mpi_finalized())
        throw std::runtime_error(
            "comm= needs MPI running: import mpi4py.MPI first (calor neither initialises nor "
            "finalises MPI)");
      const MPI_Comm c = MPI_Comm_f2c(static_cast<MPI_Fint>(*comm));
      if (c == MPI_COMM_NULL) throw nb::value_error("comm is MPI.COMM_NULL");
      int provided = MPI_THREAD_SINGLE;
      MPI_Query_thread(&provided);
      int rank = 0;
      MPI_Comm_rank(c, &rank);
      // As `calor run` does: the ranks on one node share its cores unless told otherwise.
      if (opt.threads == 0) {
        MPI_Comm node;
        MPI_Comm_split_type(c, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
        int local = 1;
        MPI_Comm_size(node, &local);
        MPI_Comm_free(&node);
        if (local > 1) opt.threads = std::max(1, calor::default_threads() / local);
      }
      const int used = opt.threads > 0 ? opt.threads : calor::default_threads();
      if (used > 1 && provided < MPI_THREAD_SERIALIZED)
        throw std::runtime_error(
            ("MPI was initialised with a thread level below MPI_THREAD_SERIALIZED, which " +
             std::to_string(used) +
             " threads per rank need; pass threads=1 or let mpi4py initialise MPI with its "
             "default level"));
      domain = std::make_shared<calor::MpiDomain>(p.grid, p.boundaries, c);
#else
      throw std::runtime_error(
          "this calor was built without MPI (install libopenmpi-dev and reinstall calor)");
#endif
    } else {
      domain = std::make_shared<calor::WholeDomain>(p.grid);
    }
    calor::Grid block = p.grid;
    for (int a = 0; a < 3; ++a)
      block.n[a] = domain->box().size(a);
    // As `calor run` does: "auto" judges this process's block, not the whole grid.
    auto chosen = calor::select_backend(backend, opt, block, &reason_);
    threads_ = opt.threads > 0 ? opt.threads : calor::default_threads();
    solver_ = std::make_unique<calor::Solver>(p, std::move(chosen), std::move(domain));
  }

  ~PySimulation() {
#ifdef CALOR_HAVE_MPI
    // Freeing communicators and requests after MPI_Finalize is an error: leak them instead
    // (this only happens at interpreter exit).
    if (solver_ && solver_->domain().size() > 1 && mpi_finalized()) (void)solver_.release();
#endif
  }

  PySimulation(const PySimulation&) = delete;
  PySimulation& operator=(const PySimulation&) = delete;

  /// Advances `n` steps in chunks of about kChunkSeconds with the GIL released, checking for
  /// signals (Ctrl-C) and calling `progress(step, total, seconds)` between chunks. Returns the
  /// wall time spent. On an exception the state is that of the last whole chunk. Under MPI the
  /// ranks size their chunks from the slowest rank's time and stop together when any rank was
  /// interrupted, so that every rank stops at the same step.
  double advance(std::int64_t n, nb::handle progress, std::int64_t total) {
    if (n < 0) throw nb::value_error(("cannot step backwards: n = " + std::to_string(n)).c_str());
    const calor::Domain& domain = solver_->domain();
    const std::int64_t target = solver_->step_count() + n;
    const auto t0 = Clock::now();
    // Collective, as the loop below is: only where there are steps to take.
    if (!chunk_ && n > 0) chunk_.emplace(solver_->steps_per_pass());
    while (solver_->step_count() < target) {
      const std::int64_t k = std::min(chunk_->steps(), target - solver_->step_count());
      double took = 0;
      std::string unhealthy;
      {
        Busy busy(busy_);
        nb::gil_scoped_release release;
        const auto c0 = Clock::now();
        const std::int64_t before = solver_->step_count();
        solver_->step(k);
        took = domain.max_over_ranks(seconds_since(c0));
        // As `calor run`: NaN, Inf and blow-up every check_every steps and at the last step.
        const std::int64_t after = solver_->step_count(), last = solver_->problem().steps;
        if ((check_every_ > 0 && before / check_every_ != after / check_every_) ||
            (before < last && after >= last)) {
          unhealthy = calor::check_field(*solver_);
          if (domain.max_over_ranks(unhealthy.empty() ? 0.0 : 1.0) > 0 && unhealthy.empty())
            unhealthy = "the solution blew up on another rank (its message says where)";
        }
      }
      if (!unhealthy.empty()) throw calor::Error(unhealthy);
      chunk_->after(k, took, chunk_seconds_, 2 * chunk_seconds_);
      const bool signalled = PyErr_CheckSignals() != 0;  // sets the Python error if so
      if (domain.max_over_ranks(signalled ? 1.0 : 0.0) > 0) {
        if (!signalled) PyErr_SetNone(PyExc_KeyboardInterrupt);  // another rank was stopped
        throw nb::python_error();
      }
      if (progress.is_valid() && !progress.is_none())
        progress(solver_->step_count(), total, seconds_since(t0));
    }
    return seconds_since(t0);
  }

  [[nodiscard]] nb::ndarray<nb::numpy, double> field(nb::handle self) {
    check_idle();
    return interior_view(solver_->field(), self);
  }

  void set_field(nb::handle array) {
    check_idle();
    calor::Field& f = solver_->field();
    const std::vector<std::size_t> want = numpy_shape(f.grid());
    const std::string expected =
        "expected a C-contiguous float64 array of shape " + shape_string(want);
    nb::ndarray<nb::ro> a;
    if (!nb::try_cast(array, a, /*convert=*/false))
      throw nb::value_error(
          (expected + ", got " + nb::type_name(array.type()).c_str() + " (nothing is converted)")
              .c_str());
    std::vector<std::size_t> got;
    std::vector<std::int64_t> strides;
    bool c_order = true;
    std::int64_t expect_stride = 1;
    for (std::size_t d = a.ndim(); d-- > 0;) {
      if (a.shape(d) > 1 && a.stride(d) != expect_stride) c_order = false;
      expect_stride *= static_cast<std::int64_t>(a.shape(d));
    }
    for (std::size_t d = 0; d < a.ndim(); ++d) {
      got.push_back(a.shape(d));
      strides.push_back(a.stride(d));
    }
    const bool f64 = a.dtype() == nb::dtype<double>();
    if (f64 && got == want && strides == numpy_strides(f) &&
        a.data() == f.raw() + f.offset(0, 0, 0))
      return;  // sim.field = sim.field: it is the state already
    const bool cpu = a.device_type() == nb::device::cpu::value;
    if (!f64 || got != want || !c_order || !cpu)
      throw nb::value_error((expected + ", got dtype " + dtype_name(a.dtype()) + ", shape " +
                             shape_string(got) +
                             (c_order ? ", C-contiguous" : ", not C-contiguous") +
                             (cpu ? "" : ", not in CPU memory") +
                             " (nothing is converted: use np.ascontiguousarray(x, "
                             "dtype=np.float64))")
                                .c_str());
    f.copy_interior_from(static_cast<const double*>(a.data()));
  }

  [[nodiscard]] nb::object dlpack(nb::handle self, nb::kwargs kwargs) {
    check_idle();
    // NumPy's own __dlpack__ on the view handles every keyword (max_version, dl_device, copy,
    // stream) as the array API standard says; the capsule keeps the view, so `self`, alive.
    nb::object view = nb::cast(interior_view(solver_->field(), self));
    return view.attr("__dlpack__")(**kwargs);
  }

  [[nodiscard]] std::tuple<double, double, double, double> stats() const {
    check_idle();
    const calor::Stats s = solver_->stats();
    return {s.heat, s.min, s.max, s.l2};
  }

  [[nodiscard]] nb::object gather() const {
    check_idle();
    auto* global = new std::vector<double>(solver_->gather());
    nb::capsule owner(global,
                      [](void* p) noexcept { delete static_cast<std::vector<double>*>(p); });
    if (solver_->domain().rank() != 0) return nb::none();
    const std::vector<std::size_t> shape = numpy_shape(solver_->problem().grid);
    return nb::cast(
        nb::ndarray<nb::numpy, double>(global->data(), shape.size(), shape.data(), owner));
  }

  [[nodiscard]] nb::tuple box() const {
    const calor::Box b = solver_->domain().box();
    const int dim = solver_->problem().grid.dim;
    nb::list l;
    for (int a = dim - 1; a >= 0; --a)
      l.append(nb::slice(nb::int_(b.low[a]), nb::int_(b.high[a]), nb::none()));
    return nb::tuple(l);
  }

  /// Seconds per call of Solver::step(1), timed in C++ over `calls` calls: the engine's own cost
  /// of a step, for measuring what the Python call adds.
  double time_step_in_cpp(std::int64_t calls) {
    Busy busy(busy_);
    nb::gil_scoped_release release;
    const auto t0 = Clock::now();
    for (std::int64_t i = 0; i < calls; ++i)
      solver_->step(1);
    return seconds_since(t0) / static_cast<double>(std::max<std::int64_t>(calls, 1));
  }

  /// Address of the current field's interior cell (0, 0, 0).
  [[nodiscard]] std::uintptr_t address() {
    calor::Field& f = solver_->field();
    return reinterpret_cast<std::uintptr_t>(f.raw() + f.offset(0, 0, 0));
  }

  [[nodiscard]] double chunk_seconds() const {
    return chunk_seconds_;
  }
  void set_chunk_seconds(double s) {
    if (!(s > 0)) throw nb::value_error("chunk seconds must be > 0");
    chunk_seconds_ = s;
  }

  [[nodiscard]] const calor::Solver& solver() const {
    return *solver_;
  }
  [[nodiscard]] const std::string& reason() const {
    return reason_;
  }
  [[nodiscard]] int threads() const {
    return threads_;
  }

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

  void check_idle() const {
    if (busy_.load())
      throw std::runtime_error("this Simulation is stepping in another thread; wait for it");
  }

  std::unique_ptr<calor::Solver> solver_;
  std::string reason_;
  int threads_ = 1;
  double chunk_seconds_ = kChunkSeconds;
  std::optional<calor::ChunkSize> chunk_;  ///< steps per chunk, to last about chunk_seconds_
  std::int64_t check_every_ = 100;  ///< steps between health checks (0: at the last step only)
  std::atomic<bool> busy_{false};
};

const char* kProblemDoc =
    R"(A checked heat-diffusion problem: grid, diffusivity, time step, boundaries,
sources and initial state, plus how to compute it (backend, threads).

Build one with calor.Problem(**settings) or calor.Problem.from_toml(path); this
base class takes TOML text, a source name and (key, TOML value, origin)
overrides, exactly as `calor run` does with a file and its flags.)";

const char* kSimulationDoc = R"(A running simulation of one Problem (the engine's Solver).)";

}  // namespace

NB_MODULE(_calor, m) {
  m.doc() = "calor's compiled core; use the calor package, which wraps it.";

  // calor::Error is a mistake the user can fix: a ValueError with the engine's message.
  nb::exception<calor::Error>(m, "Error", PyExc_ValueError);
  m.attr("Error").attr("__doc__") =
      "A setting or input calor cannot use; the message names it, its value and the remedy.";

  m.attr("version") = calor::kVersion;
  m.attr("compiler") = calor::kCompiler;
  m.attr("build_type") = calor::kBuildType;
  m.attr("build_flags") = calor::kBuildFlags;
#ifdef CALOR_HAVE_MPI
  m.attr("have_mpi") = true;
#else
  m.attr("have_mpi") = false;
#endif

  m.def(
      "mpi_library",
      []() -> std::string {
#ifdef CALOR_HAVE_MPI
        char v[MPI_MAX_LIBRARY_VERSION_STRING];
        int len = 0;
        MPI_Get_library_version(v, &len);
        return std::string(v, static_cast<std::size_t>(len));
#else
        return "";
#endif
      },
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
  m.def("default_threads", &calor::default_threads,
        "Threads a parallel backend uses by default: OMP_NUM_THREADS if set, else the cores "
        "available.");

  nb::class_<PyProblem>(m, "Problem", kProblemDoc)
      .def(
          "__init__",
          [](PyProblem* self, const std::string& toml, const std::string& source,
             const std::vector<OverrideTuple>& overrides) {
            new (self) PyProblem(load_problem(toml, source, overrides));
          },
          "toml"_a, "source"_a, "overrides"_a,
          "Checks TOML text named `source` with `overrides` applied on top; raises "
          "calor.Error (a ValueError) naming the key, its value and where it came from.")
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
            for (const std::size_t s : numpy_shape(g))
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
          "The largest stable time step, 1 / (2 alpha sum(1/h^2)).")
      .def_prop_ro(
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

  nb::class_<PySimulation>(m, "Simulation", kSimulationDoc, nb::is_weak_referenceable())
      .def(nb::init<const PyProblem&, const std::string&, int, std::optional<std::int64_t>>(),
           "problem"_a, "backend"_a, "threads"_a, "comm"_a.none(),
           "Allocates the fields and applies the initial state. `backend` is a name from "
           "calor.backends(); `threads` 0 means the default; `comm` is the Fortran handle of "
           "an MPI communicator (mpi4py's comm.py2f()) or None for one process.")
      .def(
          "step",
          [](PySimulation& s, std::int64_t n) {
            s.advance(n, nb::handle(), s.solver().step_count() + n);
          },
          "n"_a = 1,
          "Advances n steps (default 1). The GIL is released while the engine works; Ctrl-C "
          "is honoured between chunks of about half a second, leaving the state at a whole step. "
          "Under MPI every rank must call it.")
      .def(
          "_advance",
          [](PySimulation& s, std::int64_t n, nb::handle progress, std::int64_t total) {
            return s.advance(n, progress, total);
          },
          "n"_a, "progress"_a.none(), "total"_a,
          "Advances n steps, calling progress(step, total, seconds) between chunks of about "
          "0.5 s; returns the wall time.")
      .def_prop_rw(
          "field", [](nb::handle self) { return nb::cast<PySimulation&>(self).field(self); },
          [](PySimulation& s, nb::handle array) { s.set_field(array); },
          nb::for_getter(nb::sig("def field(self) -> numpy.typing.NDArray[numpy.float64]")),
          nb::for_setter(
              nb::sig("def field(self, array: numpy.typing.NDArray[numpy.float64], /) -> None")),
          "The current state's interior as a writable NumPy view, shape (nz, ny, nx) trimmed "
          "to dim, without copying.\n\n"
          "The engine keeps two buffers and swaps them every step, so a view is valid until "
          "the next step: read sim.field again after stepping. Writing into the view changes "
          "the state the next step starts from. Assigning sim.field = array copies array in "
          "(see set_field). The view keeps the Simulation alive.")
      .def("set_field", &PySimulation::set_field, "array"_a,
           nb::sig("def set_field(self, array: numpy.typing.NDArray[numpy.float64]) -> None"),
           "Copies `array` into the current state's interior. Only a C-contiguous float64 "
           "array of exactly sim.field.shape is accepted; anything else raises ValueError "
           "naming what was expected and what was given. Nothing is converted.")
      .def(
          "__dlpack__",
          [](nb::handle self, nb::kwargs kwargs) {
            return nb::cast<PySimulation&>(self).dlpack(self, std::move(kwargs));
          },
          nb::sig("def __dlpack__(self, **kwargs: object) -> typing_extensions.CapsuleType"),
          "The current field as a DLPack capsule (no copy), so np.from_dlpack(sim) and other "
          "array libraries see the state. Valid until the next step, like sim.field.")
      .def(
          "__dlpack_device__", [](const PySimulation&) { return std::make_tuple(1, 0); },
          "(1, 0): the field lives in CPU memory (kDLCPU, device 0).")
      .def("_stats", &PySimulation::stats,
           "(heat, min, max, l2) of the global interior (collective under MPI).")
      .def("gather", &PySimulation::gather,
           nb::sig("def gather(self) -> numpy.typing.NDArray[numpy.float64] | None"),
           "The global field as a new array on rank 0 (None on the other ranks); one process "
           "gets a copy of sim.field. Collective under MPI: every rank must call it.")
      .def_prop_ro("box", &PySimulation::box, nb::sig("def box(self) -> tuple[slice, ...]"),
                   "This process's block of the global grid as slices in NumPy order, so that "
                   "sim.gather()[sim.box] is sim.field. One process owns everything.")
      .def_prop_ro(
          "step_count", [](const PySimulation& s) { return s.solver().step_count(); },
          "Steps taken so far.")
      .def_prop_ro(
          "time", [](const PySimulation& s) { return s.solver().time(); },
          "Simulated time: step_count * dt.")
      .def_prop_ro(
          "backend", [](const PySimulation& s) { return std::string(s.solver().backend().name()); },
          "The backend computing the steps, e.g. \"threads\".")
      .def_prop_ro("backend_reason", &PySimulation::reason,
                   "Why that backend runs (\"auto: ...\" or \"chosen by the user\").")
      .def_prop_ro("threads", &PySimulation::threads, "Threads per process.")
      .def_prop_ro(
          "rank", [](const PySimulation& s) { return s.solver().domain().rank(); },
          "This process's rank (0 without MPI).")
      .def_prop_ro(
          "ranks", [](const PySimulation& s) { return s.solver().domain().size(); },
          "Number of processes sharing the grid (1 without MPI).")
      .def_prop_ro(
          "decomposition", [](const PySimulation& s) { return s.solver().domain().describe(); },
          "How the grid is split, e.g. \"1 process\" or \"6 ranks as 3 x 2\".")
      .def_prop_rw("_chunk_seconds", &PySimulation::chunk_seconds, &PySimulation::set_chunk_seconds,
                   "Target wall time of a chunk of steps (0.5 s): signals and progress are "
                   "handled between chunks.")
      .def("_time_step_in_cpp", &PySimulation::time_step_in_cpp, "calls"_a,
           "Seconds per Solver::step(1) call timed inside C++ (advances `calls` steps).")
      .def("_address", &PySimulation::address,
           "Address of the current field's interior cell (0, 0, 0).");
}
