#include "calor/comm.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "calor/error.hpp"
#include "calor/machine.hpp"

#ifdef CALOR_HAVE_MPI
#include <mpi.h>
#if __has_include(<mpi-ext.h>)
#include <mpi-ext.h>  // Open MPI's MPIX_CUDA_AWARE_SUPPORT and MPIX_Query_cuda_support
#endif

#include "parallel/mpi_comm.hpp"
#include "parallel/mpi_domain.hpp"
#endif

namespace calor {

struct Comm::State {
  int rank = 0, size = 1, local_size = 1;
  int node_cores = available_cores();  // the CPUs this node's ranks may run on between them
#ifdef CALOR_HAVE_MPI
  MPI_Comm comm = MPI_COMM_NULL;  // null: one process
  bool owns_mpi = false;          // this State called MPI_Init and finalises MPI
  ~State() {
    if (owns_mpi) MPI_Finalize();
  }
#endif
};

#ifdef CALOR_HAVE_MPI
namespace {

bool mpi_running() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized != 0 && finalized == 0;
}

void describe_ranks(Comm::State& s, MPI_Comm c) {
  s.comm = c;
  MPI_Comm_rank(c, &s.rank);
  MPI_Comm_size(c, &s.size);
  MPI_Comm node;
  MPI_Comm_split_type(c, MPI_COMM_TYPE_SHARED, s.rank, MPI_INFO_NULL, &node);
  MPI_Comm_size(node, &s.local_size);
  // The node's ranks' affinity masks ORed together: 2 ranks bound to a core each may run on
  // 2 CPUs between them, though each one's own mask holds 1.
  std::vector<unsigned char> mask = affinity_mask();
  MPI_Allreduce(MPI_IN_PLACE, mask.data(), static_cast<int>(mask.size()), MPI_UNSIGNED_CHAR,
                MPI_BOR, node);
  s.node_cores = std::max(cpus_in(mask), s.node_cores);  // none said: this process's own
  MPI_Comm_free(&node);
}

}  // namespace

MPI_Comm mpi_comm(const Comm& c) {
  return c.state().comm;
}
#endif

Comm::Comm() : state_(std::make_shared<State>()) {}
Comm::~Comm() = default;
Comm::Comm(const Comm&) = default;
Comm& Comm::operator=(const Comm&) = default;

bool Comm::launched_by_mpi() {
  // CALOR_MPI=0/1 overrides; otherwise the variables Open MPI, PMIx, and MPICH/Hydra launchers
  // set in each process they start.
  if (const char* force = std::getenv("CALOR_MPI"); force != nullptr && *force != '\0')
    return std::string(force) != "0";
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v) != nullptr) return true;
  return false;
}

bool Comm::have_mpi() {
#ifdef CALOR_HAVE_MPI
  return true;
#else
  return false;
#endif
}

Comm Comm::world(bool parallel) {
  auto s = std::make_shared<State>();
#ifdef CALOR_HAVE_MPI
  // A process not started by mpiexec is a job of one: joining MPI as a singleton would only add
  // start-up time (Open MPI 4 forks a daemon for it) and the library's unreleased memory.
  if (!parallel || !launched_by_mpi()) return Comm(s);
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    // Open MPI 4.1's default MPI-IO component (OMPIO) can write wrong bytes in collective
    // writes of uneven hyperslabs (the checkpoint checksum catches it): ROMIO unless the user
    // chose a component.
    ::setenv("OMPI_MCA_io", "romio321", /*overwrite=*/0);
    // SERIALIZED: a backend's threads take turns to exchange halos (one thread at a time).
    int provided = 0;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    s->owns_mpi = true;
  }
  describe_ranks(*s, MPI_COMM_WORLD);
#else
  (void)parallel;
#endif
  return Comm(s);
}

Comm Comm::from_handle(std::int64_t fortran_handle) {
#ifdef CALOR_HAVE_MPI
  if (!mpi_running())
    throw Error(
        "an MPI communicator needs MPI running: import mpi4py.MPI first (calor neither "
        "initialises nor finalises MPI it was handed)");
  const MPI_Comm c = MPI_Comm_f2c(static_cast<MPI_Fint>(fortran_handle));
  if (c == MPI_COMM_NULL) throw Error("the communicator is MPI_COMM_NULL");
  auto s = std::make_shared<State>();
  describe_ranks(*s, c);
  return Comm(s);
#else
  (void)fortran_handle;
  throw Error("this calor was built without MPI (install libopenmpi-dev and rebuild calor)");
#endif
}

int Comm::rank() const {
  return state_->rank;
}
int Comm::size() const {
  return state_->size;
}
int Comm::local_size() const {
  return state_->local_size;
}

int Comm::node_cores() const {
  return state_->node_cores;
}

int Comm::threads(int requested) const {
  if (requested > 0) return requested;
  if (const int omp = omp_num_threads(); omp > 0) return omp;  // per process, as OpenMP reads it
  return threads_per_rank(available_cores(), node_cores(), local_size());
}

void Comm::check_thread_level(int threads) const {
#ifdef CALOR_HAVE_MPI
  if (size() <= 1 || threads <= 1) return;
  int provided = MPI_THREAD_SINGLE;
  MPI_Query_thread(&provided);
  if (provided < MPI_THREAD_SERIALIZED)
    throw Error("MPI was initialised with a thread level below MPI_THREAD_SERIALIZED, which " +
                std::to_string(threads) +
                " threads per rank need; use threads = 1, or initialise MPI with "
                "MPI_THREAD_SERIALIZED or more (mpi4py's default level does)");
#else
  (void)threads;
#endif
}

std::shared_ptr<const Domain> Comm::domain(const Grid& g, const Boundaries& bc) const {
#ifdef CALOR_HAVE_MPI
  if (size() > 1) return std::make_shared<MpiDomain>(g, bc, state_->comm);
#else
  (void)bc;
#endif
  return std::make_shared<WholeDomain>(g);
}

void Comm::agree_or_throw(const std::string& error) const {
  int first_failed = error.empty() ? size() : rank();
#ifdef CALOR_HAVE_MPI
  if (size() > 1) {
    MPI_Allreduce(MPI_IN_PLACE, &first_failed, 1, MPI_INT, MPI_MIN, state_->comm);
    if (first_failed == size()) return;
    // The failing rank's words reach every rank, so that any of them can report it.
    int length = first_failed == rank() ? static_cast<int>(error.size()) : 0;
    MPI_Bcast(&length, 1, MPI_INT, first_failed, state_->comm);
    std::string text = first_failed == rank() ? error : std::string(std::size_t(length), ' ');
    MPI_Bcast(text.data(), length, MPI_CHAR, first_failed, state_->comm);
    throw Error(text, first_failed, size());
  }
#endif
  if (first_failed != size()) throw Error(error, rank(), size());
}

void Comm::abort(const std::string& error, int code) const {
  if (size() > 1)
    std::fprintf(stderr, "calor: error (rank %d of %d): %s\n", rank(), size(), error.c_str());
  else
    std::fprintf(stderr, "calor: error: %s\n", error.c_str());
  std::fflush(stderr);
#ifdef CALOR_HAVE_MPI
  if (size() > 1) MPI_Abort(state_->comm, code);
#endif
  std::exit(code);
}

void Comm::barrier() const {
#ifdef CALOR_HAVE_MPI
  if (size() > 1) MPI_Barrier(state_->comm);
#endif
}

double Comm::max(double v) const {
#ifdef CALOR_HAVE_MPI
  if (size() > 1) MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MAX, state_->comm);
#endif
  return v;
}

std::uint64_t Comm::sum(std::uint64_t v) const {
#ifdef CALOR_HAVE_MPI
  if (size() > 1) MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_UINT64_T, MPI_SUM, state_->comm);
#endif
  return v;
}

std::vector<double> Comm::gather(const Box& mine, const std::vector<double>& block,
                                 const Grid& g) const {
#ifdef CALOR_HAVE_MPI
  if (size() > 1) return gather_blocks(state_->comm, mine, block, g);
#endif
  (void)mine;
  (void)g;
  return block;
}

void Comm::broadcast(std::vector<double>& values) const {
#ifdef CALOR_HAVE_MPI
  // In pieces: MPI counts are ints.
  constexpr std::size_t kPiece = std::size_t(1) << 28;
  if (size() > 1)
    for (std::size_t at = 0; at < values.size(); at += kPiece)
      MPI_Bcast(values.data() + at, static_cast<int>(std::min(kPiece, values.size() - at)),
                MPI_DOUBLE, 0, state_->comm);
#else
  (void)values;
#endif
}

StatsAccumulator Comm::reduce(const StatsAccumulator& local) const {
#ifdef CALOR_HAVE_MPI
  if (size() > 1) return reduce_in_rank_order(local, state_->comm);
#endif
  return local;
}

std::string Comm::describe() const {
  return size() == 1 ? "1 process" : std::to_string(size()) + " ranks";
}

bool Comm::mpi_finalized() {
#ifdef CALOR_HAVE_MPI
  int finalized = 0;
  MPI_Finalized(&finalized);
  return finalized != 0;
#else
  return false;
#endif
}

std::string Comm::library_version() {
#ifdef CALOR_HAVE_MPI
  char v[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(v, &len);
  return std::string(v, static_cast<std::size_t>(len));
#else
  return "";
#endif
}

std::string Comm::library() {
#ifdef CALOR_HAVE_MPI
  std::string v = library_version();
  const auto comma = v.find(',');
  if (comma != std::string::npos) v.resize(comma);
  int major = 0, minor = 0;
  MPI_Get_version(&major, &minor);
  return v + " (MPI " + std::to_string(major) + "." + std::to_string(minor) + ")";
#else
  return "not built (install libopenmpi-dev and rebuild)";
#endif
}

namespace {
// CALOR_CUDA_AWARE=0: stage the cuda backend's halos in host memory whatever MPI says.
bool cuda_aware_turned_off() {
  const char* env = std::getenv("CALOR_CUDA_AWARE");
  return env != nullptr && std::string(env) == "0";
}
}  // namespace

bool Comm::reads_device_memory() {
  if (cuda_aware_turned_off()) return false;
#if defined(CALOR_HAVE_MPI) && defined(MPIX_CUDA_AWARE_SUPPORT) && MPIX_CUDA_AWARE_SUPPORT
  return MPIX_Query_cuda_support() == 1;
#else
  return false;
#endif
}

std::string Comm::device_memory_support() {
#ifndef CALOR_HAVE_MPI
  return "no MPI";
#else
  if (cuda_aware_turned_off()) return "CUDA-aware: off (CALOR_CUDA_AWARE=0)";
#if defined(MPIX_CUDA_AWARE_SUPPORT) && MPIX_CUDA_AWARE_SUPPORT
  // Open MPI 5 answers the run-time question only once MPI has started (calor info does not).
  int started = 0;
  MPI_Initialized(&started);
  if (started == 0)
    return "CUDA-aware: built with CUDA support (whether it is on is asked when a run starts "
           "MPI)";
  if (MPIX_Query_cuda_support() == 1)
    return "CUDA-aware: yes (device buffers go to MPI as they are)";
  return "CUDA-aware: no (built with CUDA support, but not at run time): halos staged in pinned "
         "host memory";
#else
  return "CUDA-aware: no (this MPI library was built without CUDA support): halos staged in pinned "
         "host memory";
#endif
#endif
}

}  // namespace calor
