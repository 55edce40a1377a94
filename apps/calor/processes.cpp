#include "processes.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>

#ifdef CALOR_HAVE_MPI
#include <mpi.h>

#include "calor/io.hpp"
#include "calor/mpi_domain.hpp"
#endif

namespace calor::app {

bool Processes::launched_by_mpi() {
  // CALOR_MPI=0/1 overrides; otherwise the variables Open MPI, PMIx, and MPICH/Hydra launchers
  // set in each process they start.
  if (const char* force = std::getenv("CALOR_MPI"); force != nullptr && *force != '\0')
    return std::string(force) != "0";
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v) != nullptr) return true;
  return false;
}

Processes::Processes(bool parallel) {
#ifdef CALOR_HAVE_MPI
  // A process not started by mpiexec is a job of one: joining MPI as a singleton would only add
  // start-up time (Open MPI 4 forks a daemon for it) and the library's unreleased memory.
  if (!parallel || !launched_by_mpi()) return;
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    // SERIALIZED: a backend's threads take turns to exchange halos (one thread at a time).
    int provided = 0;
    prefer_reliable_mpi_io();
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
    owns_mpi_ = true;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
  MPI_Comm_size(node, &local_size_);
  MPI_Comm_free(&node);
#else
  (void)parallel;
#endif
}

Processes::~Processes() {
#ifdef CALOR_HAVE_MPI
  if (owns_mpi_) MPI_Finalize();
#endif
}

std::shared_ptr<const Domain> Processes::domain(const Grid& g, const Boundaries& bc) const {
#ifdef CALOR_HAVE_MPI
  if (size_ > 1) return std::make_shared<MpiDomain>(g, bc, MPI_COMM_WORLD);
#else
  (void)bc;
#endif
  return std::make_shared<WholeDomain>(g);
}

bool Processes::agree(bool ok, const std::string& error) const {
  int first_failed = ok ? size_ : rank_;
#ifdef CALOR_HAVE_MPI
  if (size_ > 1) MPI_Allreduce(MPI_IN_PLACE, &first_failed, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
#endif
  if (first_failed == rank_) {
    if (size_ > 1)
      std::fprintf(stderr, "calor: error (rank %d of %d): %s\n", rank_, size_, error.c_str());
    else
      std::fprintf(stderr, "calor: error: %s\n", error.c_str());
  }
  return first_failed == size_;
}

void Processes::abort(const std::string& error, int code) const {
  if (size_ > 1)
    std::fprintf(stderr, "calor: error (rank %d of %d): %s\n", rank_, size_, error.c_str());
  else
    std::fprintf(stderr, "calor: error: %s\n", error.c_str());
  std::fflush(stderr);
#ifdef CALOR_HAVE_MPI
  if (size_ > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

void Processes::barrier() const {
#ifdef CALOR_HAVE_MPI
  if (size_ > 1) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

double Processes::max(double v) const {
#ifdef CALOR_HAVE_MPI
  if (size_ > 1) MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
#endif
  return v;
}

std::string Processes::library() {
#ifdef CALOR_HAVE_MPI
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int len = 0;
  MPI_Get_library_version(version, &len);
  std::string v(version, static_cast<std::size_t>(len));
  const auto comma = v.find(',');
  if (comma != std::string::npos) v.resize(comma);
  int major = 0, minor = 0;
  MPI_Get_version(&major, &minor);
  return v + " (MPI " + std::to_string(major) + "." + std::to_string(minor) + ")";
#else
  return "not built (install libopenmpi-dev and rebuild)";
#endif
}

}  // namespace calor::app
